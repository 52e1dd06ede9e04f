"""Domain errors: what a service raises when a request breaks a business rule.

Views turn them into a message or a 4xx with a clear, translated body; the API turns them
into a JSON error. A domain error never becomes a 500.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise


class DomainError(Exception):
    """Base class. ``message`` is shown to the user; ``code`` is stable for machines."""

    code = "domain_error"
    status_code = 400
    default_message: StrOrPromise = _("This action is not possible.")

    def __init__(self, message: StrOrPromise | None = None, *, code: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        if code is not None:
            self.code = code
        super().__init__(str(self.message))


class InvalidTransition(DomainError):
    """The object is not in a state that allows this action."""

    code = "invalid_transition"
    status_code = 409
    default_message = _("This action is not possible in the current state.")


class NotAllowed(DomainError):
    """The actor lacks the role or membership the action needs."""

    code = "not_allowed"
    status_code = 403
    default_message = _("You are not allowed to do this.")


class RateLimited(DomainError):
    """Too many attempts; ``retry_after`` is in seconds."""

    code = "rate_limited"
    status_code = 429
    default_message = _("Too many attempts. Please wait a moment and try again.")

    def __init__(self, message: StrOrPromise | None = None, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after
