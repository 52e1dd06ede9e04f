"""Output serializers of the open-data API for petitions, topics and regions.

Aggregates only: no signer, no creator, no staff member is named, and no email, address or
postcode is ever read here. Counts come from the stored counters the counting task writes.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from petitions.models import Petition, Region, Topic


def site_url(path: str) -> str:
    """Absolute addresses from SITE_URL, so answers do not depend on the Host header."""
    return f"{settings.SITE_URL}{path}"


def api_url(name: str, *args: Any) -> str:
    return site_url(reverse(f"api:{name}", args=args))


_ID = 987654321  # stands for the id in the address patterns below


@cache
def _address_pattern(name: str) -> str:
    """``reverse`` once per process, then string formatting: a list page names forty
    addresses, and resolving each costs more than the rest of its row."""
    return site_url(reverse(name, args=[_ID])).replace(str(_ID), "{}")


def address(name: str, pk: int) -> str:
    return _address_pattern(name).format(pk)


def iso_datetime(value: datetime | None) -> str | None:
    """What DRF's DateTimeField writes: ISO 8601 in the current time zone, "Z" for UTC."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class PetitionSerializer(serializers.ModelSerializer[Petition]):
    url = serializers.SerializerMethodField(help_text="This petition in the API.")
    html_url = serializers.SerializerMethodField(help_text="This petition on the website.")
    # The views attach both lists (petitions.api.views.attach_relations).
    topics = serializers.ListField(
        child=serializers.CharField(),
        source="topic_slugs",
        read_only=True,
        help_text="Slugs of its topics.",
    )
    responses = serializers.ListField(
        child=serializers.IntegerField(),
        source="response_ids",
        read_only=True,
        help_text="Ids of the published responses that answer it.",
    )
    rejection_reason = serializers.ChoiceField(
        choices=Petition.RejectionReason.choices,
        allow_blank=True,
        read_only=True,
        help_text="Why it was rejected; empty unless rejected.",
    )

    class Meta:
        model = Petition
        fields = [
            "id",
            "url",
            "html_url",
            "title",
            "summary",
            "language",
            "topics",
            "state",
            "response_state",
            "consideration_state",
            "rejection_reason",
            "signature_count",
            "counted_at",
            "response_threshold",
            "consideration_threshold",
            "created_at",
            "opened_at",
            "deadline",
            "closed_at",
            "rejected_at",
            "response_threshold_reached_at",
            "consideration_threshold_reached_at",
            "response_due_at",
            "responded_at",
            "responses",
        ]
        read_only_fields = fields

    def to_representation(self, petition: Petition) -> dict[str, Any]:
        """The declared fields, written directly: DRF's field-by-field walk cost more than
        the queries of a page (tests/api/test_serializers.py checks both agree)."""
        data = {
            "id": petition.pk,
            "url": self.get_url(petition),
            "html_url": self.get_html_url(petition),
            "title": petition.title,
            "summary": petition.summary,
            "language": petition.language,
            "topics": petition.topic_slugs,  # type: ignore[attr-defined]
            "state": petition.state,
            "response_state": petition.response_state,
            "consideration_state": petition.consideration_state,
            "rejection_reason": petition.rejection_reason,
            "signature_count": petition.signature_count,
            "response_threshold": petition.response_threshold,
            "consideration_threshold": petition.consideration_threshold,
            "responses": petition.response_ids,  # type: ignore[attr-defined]
        }
        for name in PETITION_DATETIMES:
            data[name] = iso_datetime(getattr(petition, name))
        return {name: data[name] for name in PetitionSerializer.Meta.fields}

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, petition: Petition) -> str:
        return address("api:petition-detail", petition.pk)

    @extend_schema_field(OpenApiTypes.URI)
    def get_html_url(self, petition: Petition) -> str:
        return address("petitions:detail", petition.pk)


# The declared fields that are dates and times: written as DRF's DateTimeField would.
PETITION_DATETIMES = tuple(
    name
    for name in PetitionSerializer.Meta.fields
    if name in {field.name for field in Petition._meta.get_fields()}
    and isinstance(Petition._meta.get_field(name), models.DateTimeField)
)


class AssignmentSerializer(serializers.Serializer[Any]):
    department = serializers.SlugField()
    department_name_en = serializers.CharField()
    department_name_fr = serializers.CharField()
    role = serializers.ChoiceField(choices=["lead", "contributor"])
    track = serializers.ChoiceField(choices=["response", "consideration"])
    assigned_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()


class RegionCountSerializer(serializers.Serializer[Any]):
    region = serializers.IntegerField(help_text="The region's id.")
    kind = serializers.CharField()
    code = serializers.CharField()
    name = serializers.CharField()
    count = serializers.IntegerField()
    per_100k = serializers.FloatField(
        allow_null=True, help_text="Signatures per 100,000 inhabitants (null without population)."
    )


class CountryCountSerializer(serializers.Serializer[Any]):
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2 code.")
    name_en = serializers.CharField()
    name_fr = serializers.CharField()
    count = serializers.IntegerField()


class DayCountSerializer(serializers.Serializer[Any]):
    date = serializers.DateField(source="day")
    count = serializers.IntegerField(help_text="Signatures confirmed that day.")
    total = serializers.IntegerField(help_text="Running total at the end of that day.")


class PetitionDetailSerializer(PetitionSerializer):
    """One petition, with its full text and its counts by region, country and day."""

    assignments = AssignmentSerializer(
        many=True,
        source="active_assignments",
        help_text="The departments it is routed to now (lead and contributors).",
    )
    signatures_by_region = RegionCountSerializer(many=True, source="api_region_counts")
    signatures_by_country = CountryCountSerializer(many=True, source="api_country_counts")
    signatures_per_day = DayCountSerializer(many=True, source="api_days")

    class Meta(PetitionSerializer.Meta):
        fields = [
            *PetitionSerializer.Meta.fields,
            "details",
            "assignments",
            "signatures_by_region",
            "signatures_by_country",
            "signatures_per_day",
        ]
        read_only_fields = fields

    def to_representation(self, petition: Petition) -> dict[str, Any]:
        data = super().to_representation(petition)
        data["details"] = petition.details
        data["assignments"] = [
            {
                "department": assignment.department,
                "department_name_en": assignment.department_name_en,
                "department_name_fr": assignment.department_name_fr,
                "role": assignment.role,
                "track": assignment.track,
                "assigned_at": iso_datetime(assignment.assigned_at),
                "due_at": iso_datetime(assignment.due_at),
            }
            for assignment in petition.active_assignments  # type: ignore[attr-defined]
        ]
        data["signatures_by_region"] = [
            {
                "region": row.region,
                "kind": row.kind,
                "code": row.code,
                "name": row.name,
                "count": row.count,
                "per_100k": row.per_100k,
            }
            for row in petition.api_region_counts  # type: ignore[attr-defined]
        ]
        data["signatures_by_country"] = petition.api_country_counts  # type: ignore[attr-defined]
        data["signatures_per_day"] = [
            {"date": day.day.isoformat(), "count": day.count, "total": day.total}
            for day in petition.api_days  # type: ignore[attr-defined]
        ]
        return data


class TopicSerializer(serializers.ModelSerializer[Topic]):
    url = serializers.SerializerMethodField()
    lead_department: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    petition_count = serializers.IntegerField(help_text="Public petitions on this topic.")

    class Meta:
        model = Topic
        fields = ["slug", "url", "name_en", "name_fr", "lead_department", "petition_count"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, topic: Topic) -> str:
        return api_url("topic-detail", topic.slug)


class RegionSerializer(serializers.ModelSerializer[Region]):
    url = serializers.SerializerMethodField()
    country = serializers.CharField(source="country_id", help_text="ISO 3166-1 alpha-2 code.")
    # The metaclass takes declared fields off the class, so this shadows nothing at run time.
    parent = serializers.IntegerField(  # type: ignore[assignment]
        source="parent_id", allow_null=True, help_text="The id of the region it is part of."
    )

    class Meta:
        model = Region
        fields = ["id", "url", "kind", "code", "name", "country", "parent", "population"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, region: Region) -> str:
        return api_url("region-detail", region.pk)
