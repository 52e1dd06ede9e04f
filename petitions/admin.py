"""Administrators' settings in Django's admin: topics, regions, countries, the threshold
policy (one row, edited in place) and the history of signing pauses (read only).

Petitions and signatures are not here on purpose: they change only through the services
(moderation back-office, signing pages), which check the rules and record the history.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.admin import AdministeredAdmin
from petitions.models import Country, Region, SigningPause, ThresholdPolicy, Topic


@admin.register(Topic)
class TopicAdmin(AdministeredAdmin[Topic]):
    list_display = ["name_en", "name_fr", "slug"]
    search_fields = ["slug", "name_en", "name_fr"]
    prepopulated_fields = {"slug": ["name_en"]}


@admin.register(Country)
class CountryAdmin(AdministeredAdmin[Country]):
    """Loaded from ISO 3166 (``manage.py load_regions``): only the population is edited,
    for territory rules counted per 100,000 inhabitants."""

    list_display = ["code", "name_en", "name_fr", "population"]
    search_fields = ["code", "name_en", "name_fr"]
    readonly_fields = ["code", "name_en", "name_fr"]
    fields = ["code", "name_en", "name_fr", "population"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Region)
class RegionAdmin(AdministeredAdmin[Region]):
    list_display = ["name", "code", "kind", "country", "parent", "population"]
    list_filter = ["kind"]
    list_select_related = ["country", "parent"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["country", "parent"]


@admin.register(ThresholdPolicy)
class ThresholdPolicyAdmin(AdministeredAdmin[ThresholdPolicy]):
    """One row, edited in place: the list goes straight to it; no second row, no deletion."""

    fieldsets = [
        (
            _("Thresholds"),
            {"fields": ["response_threshold", "consideration_threshold", "signing_window_days"]},
        ),
        (
            _("Territory condition"),
            {
                "description": _(
                    "Optional: at least this many regions of one kind, each with at least this "
                    "many signatures (or this many per 100,000 inhabitants)."
                ),
                "fields": [
                    "territory_applies_to",
                    "territory_region_kind",
                    "territory_min_regions",
                    "territory_min_signatures",
                    "territory_per_100k",
                ],
            },
        ),
        (None, {"fields": ["updated_at"]}),
    ]
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not ThresholdPolicy.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        policy = ThresholdPolicy.current()
        return HttpResponseRedirect(
            reverse("admin:petitions_thresholdpolicy_change", args=[policy.pk])
        )


@admin.register(SigningPause)
class SigningPauseAdmin(AdministeredAdmin[SigningPause]):
    """Read only: pauses start and end on the staff area's switch, which extends deadlines."""

    list_display = ["started_at", "ended_at", "started_by", "ended_by", "reason"]
    list_select_related = ["started_by", "ended_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
