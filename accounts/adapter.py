"""django-allauth integration: emails through the `mail` queue, the user's language at login."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from accounts.language import remember_language
from core.mail import queue_message


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Render allauth's message now, in the user's language, and let a worker send it.

        The context is the one allauth's own ``send_mail`` builds (request, email, site).
        """
        request = allauth_context.request
        user = context.get("user")
        language = getattr(user, "preferred_language", None) or translation.get_language()
        full_context = {
            "request": request,
            "email": email,
            "current_site": get_current_site(request),
            **context,
        }
        with translation.override(language):
            message = self.render_mail(template_prefix, email, full_context)
        queue_message(message)

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        """A new account takes the language its owner signed up in."""
        user.preferred_language = translation.get_language() or settings.LANGUAGE_CODE
        return super().save_user(request, user, form, commit)

    def post_login(self, request: HttpRequest, user: Any, **kwargs: Any) -> HttpResponse:
        """After login the interface uses the preferred language, unless one was chosen here."""
        response: HttpResponse = super().post_login(request, user, **kwargs)
        language = getattr(user, "preferred_language", "")
        # A language chosen in this browser wins; otherwise take the account's.
        if language and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            remember_language(response, language)
        return response
