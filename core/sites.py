"""Keep django.contrib.sites' Site in step with SITE_NAME and SITE_URL (allauth's emails)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from django.apps import apps
from django.conf import settings


def sync_site() -> None:
    from django.contrib.sites.models import Site

    Site.objects.update_or_create(
        pk=settings.SITE_ID,
        defaults={"domain": urlparse(settings.SITE_URL).netloc, "name": settings.SITE_NAME},
    )


def sync_site_after_migrate(app_config: Any, **kwargs: Any) -> None:
    """Once per ``migrate``, after the sites table exists."""
    if app_config is apps.get_app_config("sites"):
        sync_site()
