"""Telling staff: an inbox item for each member, and an email through the `mail` queue."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.utils import translation
from django_stubs_ext import StrOrPromise

from core.mail import queue_message, render_email
from responses.models import Membership, StaffNotification


def staff(
    users: Iterable[Any],
    *,
    template: str,
    message: StrOrPromise,
    values: dict[str, Any] | None = None,
    url: str,
    **context: Any,
) -> int:
    """Add ``message % values`` to each person's inbox and email them, in their language."""
    count = 0
    seen: set[int] = set()
    for user in users:
        if user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        with translation.override(user.preferred_language):
            text = str(message) % (values or {})
        StaffNotification.objects.create(user=user, message=text[:300], url=url)
        email = render_email(
            f"emails/responses/{template}",
            {"user": user, "url": f"{settings.SITE_URL}{url}", **context},
            to=[user.email],
            language=user.preferred_language,
        )
        queue_message(email)
        count += 1
    return count


def members(department_ids: Iterable[int], roles: Iterable[str]) -> list[Any]:
    memberships = Membership.objects.filter(
        department_id__in=list(department_ids), role__in=list(roles)
    ).select_related("user")
    return [membership.user for membership in memberships]


def administrators() -> list[Any]:
    from accounts.models import User
    from accounts.roles import Role, group_name

    return list(
        User.objects.filter(
            is_active=True, is_staff=True, groups__name=group_name(Role.ADMINISTRATOR)
        )
    )
