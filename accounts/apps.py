from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from accounts.roles import sync_roles_after_migrate

        # Like Django's own create_permissions: the role groups exist after every migrate.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="agora-sync-roles")
