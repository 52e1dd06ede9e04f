"""The interface follows a signed-in person's preferred language."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseBase
from django.utils import translation


def remember_language(response: HttpResponseBase, language: str) -> None:
    """Switch this request to ``language`` and keep it in the language cookie."""
    translation.activate(language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=True,
    )
