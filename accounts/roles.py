"""Staff roles: one group per role, with the permissions the role needs.

The groups are created and kept up to date after every ``migrate``; administrators give
people roles by adding them to groups in the back-office.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    MODERATOR = "moderator", _("Moderator")
    OFFICER = "department_officer", _("Department officer")
    REVIEWER = "reviewer", _("Reviewer")
    PUBLISHER = "publisher", _("Publisher")
    ADMINISTRATOR = "administrator", _("Administrator")


STAFF = "accounts.access_staff_area"

# Permissions as "app_label.codename". Later apps add theirs here as their models arrive.
ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.MODERATOR: [STAFF, "accounts.moderate_petitions"],
    Role.OFFICER: [STAFF, "accounts.draft_responses"],
    Role.REVIEWER: [STAFF, "accounts.review_responses"],
    Role.PUBLISHER: [STAFF, "accounts.publish_responses"],
    Role.ADMINISTRATOR: [
        STAFF,
        "accounts.administer_site",
        "accounts.view_user",
        "accounts.change_user",
        "auth.view_group",
        "core.view_auditevent",
        "core.view_page",
        "core.change_page",
    ],
}


def group_name(role: Role) -> str:
    """The group's name is the role's stable value, so renaming a label breaks nothing."""
    return str(role.value)


def sync_roles() -> None:
    """Create the role groups and give each exactly its permissions (idempotent)."""
    for role, dotted in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=group_name(role))
        permissions: list[Permission] = []
        for name in dotted:
            app_label, codename = name.split(".")
            permissions.extend(
                Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(permissions)


def sync_roles_after_migrate(app_config: Any, **kwargs: Any) -> None:
    """Run once per ``migrate``, after the last app's permissions exist."""
    with_models = [config for config in apps.get_app_configs() if config.models_module]
    if app_config is with_models[-1]:
        sync_roles()


def roles_of(user: Any) -> list[Role]:
    """The roles a user holds, in the order of ``Role``."""
    if not user.is_authenticated:
        return []
    names = set(user.groups.values_list("name", flat=True))
    return [role for role in Role if group_name(role) in names]


def is_staff_member(user: Any) -> bool:
    """Staff reach /staff/: active, flagged staff, and holding the staff-area permission."""
    return bool(user.is_authenticated and user.is_active and user.is_staff and user.has_perm(STAFF))
