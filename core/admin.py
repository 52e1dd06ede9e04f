from typing import Any, TypeVar

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from core.models import AuditEvent, Page

ADMINISTER = "accounts.administer_site"

M = TypeVar("M", bound=models.Model)


class AdministeredAdmin(admin.ModelAdmin[M]):
    """Open to the administrator role (``accounts.administer_site``) as well as to people
    holding the model's own permissions, so the role's group needs no per-model grants."""

    def _administers(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.has_perm(ADMINISTER)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._administers(request) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._administers(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._administers(request) or super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._administers(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._administers(request) or super().has_delete_permission(request, obj)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    """Read-only: the audit trail is never edited."""

    list_display = ["created_at", "action", "actor", "target_type", "target_id"]
    list_filter = ["action"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Page)
class PageAdmin(admin.ModelAdmin[Page]):
    list_display = ["slug", "title_en", "title_fr", "updated_at"]
