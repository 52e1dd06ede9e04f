from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResponsesConfig(AppConfig):
    """Departments, routing, official responses and their delivery to signers."""

    name = "responses"
    verbose_name = _("Responses")
