"""Open-data API views for petitions, topics and regions (read-only, anonymous).

Each list runs a fixed number of queries whatever its length (related rows are fetched
with ``prefetch_related``), and orders on the id last so that pagination is stable.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics

from core.api.filters import StrictFilterBackend
from core.api.pagination import OpenDataPagination
from core.api.schema import (
    CONDITIONAL_HEADERS,
    detail_responses,
    integer_parameter,
    list_responses,
)
from core.api.views import TAXONOMY_MAX_AGE, OpenDataDetailView, OpenDataView
from petitions import selectors
from petitions.api.filters import PetitionFilter, RegionFilter
from petitions.api.querysets import open_data_petitions
from petitions.api.serializers import (
    PetitionDetailSerializer,
    PetitionSerializer,
    RegionSerializer,
    TopicSerializer,
)
from petitions.models import Country, CountryCount, Petition, Region, RegionCount, Topic
from responses.models import Assignment
from responses.models import Response as OfficialResponse


def published_responses() -> Prefetch:
    return Prefetch(
        "responses",
        queryset=OfficialResponse.objects.filter(state=OfficialResponse.State.PUBLISHED)
        .order_by("published_at", "id")
        .only("id"),
        to_attr="published_responses",
    )


@extend_schema_view(
    get=extend_schema(
        summary="List public petitions",
        description="Public petitions (open, closed, and rejected ones whose text is shown), "
        "filtered, searched and sorted. Never drafts, hidden or removed petitions.",
        parameters=[
            integer_parameter("signatures_min", 0, "At least this many signatures."),
            integer_parameter("signatures_max", 0, "At most this many signatures."),
            *CONDITIONAL_HEADERS,
        ],
        responses=list_responses(PetitionSerializer),
        tags=["petitions"],
    )
)
class PetitionList(OpenDataView, generics.ListAPIView[Petition]):
    serializer_class = PetitionSerializer
    pagination_class = OpenDataPagination
    filter_backends = (StrictFilterBackend,)
    filterset_class = PetitionFilter

    def get_queryset(self) -> QuerySet[Petition]:
        return (
            open_data_petitions()
            .defer("details")  # up to 5,000 characters a row that the list never shows
            .prefetch_related("topics", published_responses())
            .order_by("-signature_count", "-id")
        )


@extend_schema_view(
    get=extend_schema(
        summary="One public petition",
        description="A petition with its full text, the departments it is routed to, and "
        "its confirmed signatures by region, by country and per day.",
        parameters=CONDITIONAL_HEADERS,
        responses=detail_responses(PetitionDetailSerializer),
        tags=["petitions"],
    )
)
class PetitionDetail(OpenDataDetailView, generics.RetrieveAPIView[Petition]):
    serializer_class = PetitionDetailSerializer
    not_found_detail = _("No public petition has this id.")

    def get_queryset(self) -> QuerySet[Petition]:
        assignments = Prefetch(
            "assignments",
            queryset=Assignment.objects.active()
            .select_related("department")
            .order_by("track", "role", "department__slug", "id"),
            to_attr="active_assignments",
        )
        return open_data_petitions().prefetch_related("topics", published_responses(), assignments)

    def get_object(self) -> Petition:
        petition = super().get_object()
        attach_counts(petition)
        return petition


def attach_counts(petition: Petition) -> None:
    """Signatures by region, by country (with names) and per day: four queries."""
    region_counts = list(
        RegionCount.objects.filter(petition=petition, count__gt=0)
        .select_related("region")
        .order_by("-count", "region__kind", "region__code", "id")
    )
    for row in region_counts:
        population = row.region.population
        row.per_100k = round(row.count * 100_000 / population, 2) if population else None  # type: ignore[attr-defined]
    country_counts = list(
        CountryCount.objects.filter(petition=petition, count__gt=0).order_by("-count", "country")
    )
    names = Country.objects.in_bulk([row.country for row in country_counts])
    countries: list[dict[str, Any]] = []
    for by_country in country_counts:
        code = by_country.country
        country = names.get(code)
        countries.append(
            {
                "country": code,
                "name_en": country.name_en if country else code,
                "name_fr": country.name_fr if country else code,
                "count": by_country.count,
            }
        )
    petition.api_region_counts = region_counts  # type: ignore[attr-defined]
    petition.api_country_counts = countries  # type: ignore[attr-defined]
    petition.api_days = selectors.signatures_per_day(petition)  # type: ignore[attr-defined]


def topics_with_counts() -> QuerySet[Topic]:
    public = Q(petitions__state__in=Petition.PUBLIC_STATES) & ~Q(
        petitions__state=Petition.State.REJECTED,
        petitions__rejection_reason__in=Petition.HIDE_TEXT_REASONS,
    )
    return Topic.objects.select_related("lead_department").annotate(
        petition_count=Count("petitions", filter=public)
    )


@extend_schema_view(
    get=extend_schema(
        summary="List topics",
        parameters=CONDITIONAL_HEADERS,
        responses=list_responses(TopicSerializer),
        tags=["topics"],
    )
)
class TopicList(OpenDataView, generics.ListAPIView[Topic]):
    serializer_class = TopicSerializer
    pagination_class = OpenDataPagination
    filter_backends = ()
    max_age = TAXONOMY_MAX_AGE

    def get_queryset(self) -> QuerySet[Topic]:
        return topics_with_counts().order_by("slug", "id")


@extend_schema_view(
    get=extend_schema(
        summary="One topic",
        parameters=CONDITIONAL_HEADERS,
        responses=detail_responses(TopicSerializer),
        tags=["topics"],
    )
)
class TopicDetail(OpenDataDetailView, generics.RetrieveAPIView[Topic]):
    serializer_class = TopicSerializer
    lookup_field = "slug"
    max_age = TAXONOMY_MAX_AGE
    not_found_detail = _("No topic has this slug.")

    def get_queryset(self) -> QuerySet[Topic]:
        return topics_with_counts()


@extend_schema_view(
    get=extend_schema(
        summary="List regions",
        description="Regions signatures are counted in, with their population.",
        parameters=CONDITIONAL_HEADERS,
        responses=list_responses(RegionSerializer),
        tags=["regions"],
    )
)
class RegionList(OpenDataView, generics.ListAPIView[Region]):
    serializer_class = RegionSerializer
    pagination_class = OpenDataPagination
    filter_backends = (StrictFilterBackend,)
    filterset_class = RegionFilter
    max_age = TAXONOMY_MAX_AGE

    def get_queryset(self) -> QuerySet[Region]:
        return Region.objects.order_by("kind", "code", "id")


@extend_schema_view(
    get=extend_schema(
        summary="One region",
        parameters=CONDITIONAL_HEADERS,
        responses=detail_responses(RegionSerializer),
        tags=["regions"],
    )
)
class RegionDetail(OpenDataDetailView, generics.RetrieveAPIView[Region]):
    serializer_class = RegionSerializer
    queryset = Region.objects.all()
    max_age = TAXONOMY_MAX_AGE
    not_found_detail = _("No region has this id.")
