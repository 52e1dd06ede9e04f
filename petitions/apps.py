from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PetitionsConfig(AppConfig):
    """Petitions, signatures and their counting (models arrive with the petitions issue)."""

    name = "petitions"
    verbose_name = _("Petitions")
