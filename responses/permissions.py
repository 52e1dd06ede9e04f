"""Who may do what to which department's work: site role (permission) AND membership.

A site role says what kind of work a person does (draft, review, publish); a membership
says for which department. Staff only ever see and act on their own departments' work.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.roles import is_staff_member
from core.errors import NotAllowed
from responses.models import Department, Membership, Response

ROLE_PERMISSION = {
    Membership.Role.OFFICER: "accounts.draft_responses",
    Membership.Role.REVIEWER: "accounts.review_responses",
    Membership.Role.PUBLISHER: "accounts.publish_responses",
}
ADMINISTER = "accounts.administer_site"


def is_administrator(user: Any) -> bool:
    return bool(is_staff_member(user) and user.has_perm(ADMINISTER))


def has_role(user: Any, department: Department | int, role: str) -> bool:
    """The site permission of ``role`` and a membership with that role in ``department``."""
    if not (is_staff_member(user) and user.has_perm(ROLE_PERMISSION[Membership.Role(role)])):
        return False
    department_id = department if isinstance(department, int) else department.pk
    return Membership.objects.filter(user=user, department_id=department_id, role=role).exists()


def require_role(user: Any, department: Department | int, role: str) -> None:
    if not has_role(user, department, role):
        raise NotAllowed(
            _("You need the %(role)s role in this department to do this.")
            % {"role": Membership.Role(role).label}
        )


def departments_of(user: Any) -> QuerySet[Department]:
    """The departments whose work ``user`` may see (all of them for administrators)."""
    if is_administrator(user):
        return Department.objects.all()
    if not is_staff_member(user):
        return Department.objects.none()
    return Department.objects.filter(memberships__user=user).distinct()


def visible_responses(user: Any) -> QuerySet[Response]:
    """Drafts are visible to the staff of their department only (object-level permission)."""
    return Response.objects.filter(department__in=departments_of(user))
