from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from config.celery import ensure_broker_folders
        from core.sites import sync_site_after_migrate

        ensure_broker_folders()  # web and worker alike, before the first task is sent
        # Emails name the site from SITE_NAME and SITE_URL, not Django's "example.com".
        post_migrate.connect(sync_site_after_migrate, dispatch_uid="agora-sync-site")
