from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResponsesConfig(AppConfig):
    """Departments, routing and official responses (models arrive with the responses issue)."""

    name = "responses"
    verbose_name = _("Responses")
