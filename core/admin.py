from django.contrib import admin

from core.models import AuditEvent, Page


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
