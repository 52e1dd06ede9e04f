from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from config.celery import ensure_broker_folders

        ensure_broker_folders()  # web and worker alike, before the first task is sent
