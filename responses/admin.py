"""Administrators manage departments, their staff and the routing rules here.

Responses, assignments and mailings are not editable here on purpose: they change only
through the services (back-office), which check the rules and record the history.
"""

from __future__ import annotations

from django.contrib import admin

from core.admin import AdministeredAdmin
from responses.models import Department, Membership, RoutingRule


class MembershipInline(admin.TabularInline[Membership, Department]):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]

    def has_view_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return request.user.has_perm("accounts.administer_site") or super().has_view_permission(
            request, obj
        )

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission


class RoutingRuleInline(admin.TabularInline[RoutingRule, Department]):
    model = RoutingRule
    extra = 0
    fields = ["kind", "topic", "keyword", "region", "region_share", "is_active"]
    autocomplete_fields = ["region"]

    def has_view_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return request.user.has_perm("accounts.administer_site") or super().has_view_permission(
            request, obj
        )

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission


@admin.register(Department)
class DepartmentAdmin(AdministeredAdmin[Department]):
    list_display = [
        "name_en",
        "acronym",
        "kind",
        "response_target_days",
        "is_fallback",
        "is_active",
    ]
    list_filter = ["kind", "is_active"]
    search_fields = ["name_en", "name_fr", "acronym", "slug"]
    prepopulated_fields = {"slug": ["name_en"]}
    inlines = [MembershipInline, RoutingRuleInline]


@admin.register(RoutingRule)
class RoutingRuleAdmin(AdministeredAdmin[RoutingRule]):
    list_display = ["department", "kind", "topic", "keyword", "region", "is_active"]
    list_filter = ["kind", "is_active", "department"]
    autocomplete_fields = ["region", "department"]
