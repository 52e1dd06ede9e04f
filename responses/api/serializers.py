"""Output serializers for responses, departments' records and the site statistics.

Departments are named; the staff who drafted, reviewed or published a response never are,
and a department's contact address is not published here either.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.markdown import render_markdown
from petitions.api.serializers import api_url, site_url
from petitions.models import Petition
from responses.models import Department, Response


class DepartmentRefSerializer(serializers.ModelSerializer[Department]):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Department
        fields = ["slug", "url", "name_en", "name_fr", "acronym"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, department: Department) -> str:
        return api_url("department-detail", department.slug)


class AnsweredPetitionSerializer(serializers.ModelSerializer[Petition]):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Petition
        fields = ["id", "url", "title", "state", "signature_count"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, petition: Petition) -> str:
        return api_url("petition-detail", petition.pk)


class ResponseSerializer(serializers.ModelSerializer[Response]):
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    department = DepartmentRefSerializer(read_only=True)
    petitions = AnsweredPetitionSerializer(
        many=True, read_only=True, source="public_petitions", help_text="The petitions it answers."
    )
    body = serializers.CharField(read_only=True, help_text="The text, in Markdown.")

    class Meta:
        model = Response
        fields = [
            "id",
            "url",
            "html_url",
            "title",
            "body",
            "department",
            "published_at",
            "corrected_at",
            "version",
            "petitions",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, response: Response) -> str:
        return api_url("response-detail", response.pk)

    @extend_schema_field(OpenApiTypes.URI)
    def get_html_url(self, response: Response) -> str:
        return site_url(response.get_absolute_url())


class ResponseDetailSerializer(ResponseSerializer):
    body_html = serializers.SerializerMethodField(
        help_text="The text as sanitised HTML, as the website shows it."
    )

    class Meta(ResponseSerializer.Meta):
        fields = [*ResponseSerializer.Meta.fields, "body_html"]
        read_only_fields = fields

    def get_body_html(self, response: Response) -> str:
        return str(render_markdown(response.body))


class RecordSerializer(serializers.Serializer[Any]):
    """A department's record over the petitions it leads now."""

    routed = serializers.IntegerField(help_text="Petitions routed to it (as lead).")
    responded = serializers.IntegerField()
    awaiting = serializers.IntegerField(help_text="Petitions awaiting its response.")
    overdue = serializers.IntegerField(help_text="Of those, past their due date.")
    median_days = serializers.FloatField(
        source="times.median_days", allow_null=True, help_text="Median days to respond."
    )
    p90_days = serializers.FloatField(
        source="times.p90_days", allow_null=True, help_text="90th percentile of days to respond."
    )
    share_within_target = serializers.FloatField(
        source="times.share_within_target",
        allow_null=True,
        help_text="Percentage of responses published by their due date.",
    )


class DepartmentSerializer(serializers.Serializer[Any]):
    """A department with its response record (from a DepartmentRecord)."""

    slug = serializers.SlugField(source="department.slug")
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    name_en = serializers.CharField(source="department.name_en")
    name_fr = serializers.CharField(source="department.name_fr")
    acronym = serializers.CharField(source="department.acronym")
    kind = serializers.ChoiceField(source="department.kind", choices=Department.Kind.choices)
    is_active = serializers.BooleanField(source="department.is_active")
    response_target_days = serializers.IntegerField(source="department.response_target_days")
    record = RecordSerializer(source="*")

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, record: Any) -> str:
        return api_url("department-detail", record.department.slug)

    @extend_schema_field(OpenApiTypes.URI)
    def get_html_url(self, record: Any) -> str:
        from django.urls import reverse

        return site_url(reverse("responses:department", args=[record.department.slug]))


class TallySerializer(serializers.Serializer[Any]):
    key = serializers.CharField()
    count = serializers.IntegerField()


class OverdueSerializer(serializers.Serializer[Any]):
    department = DepartmentRefSerializer()
    count = serializers.IntegerField(help_text="Petitions awaiting its response, overdue.")
    oldest_due_at = serializers.DateTimeField()
    most_days_overdue = serializers.IntegerField(source="most_days")


class StatisticsSerializer(serializers.Serializer[Any]):
    petitions = serializers.IntegerField(help_text="Petitions in every state.")
    signatures = serializers.IntegerField(help_text="Confirmed signatures, all petitions.")
    by_state = TallySerializer(many=True)
    by_response_state = TallySerializer(many=True)
    responded = serializers.IntegerField(source="times.responded")
    median_days_to_respond = serializers.FloatField(source="times.median_days", allow_null=True)
    p90_days_to_respond = serializers.FloatField(source="times.p90_days", allow_null=True)
    share_within_target = serializers.FloatField(
        source="times.share_within_target",
        allow_null=True,
        help_text="Percentage of responses published by their due date.",
    )
    days_to_respond = TallySerializer(
        many=True,
        source="time_buckets",
        help_text="Responded petitions by days waited (key: upper bound, or more).",
    )
    overdue = OverdueSerializer(many=True, help_text="Overdue petitions by lead department.")
