"""Open-data API views for petitions, topics and regions (read-only, anonymous).

Each list runs a fixed number of queries whatever its length (related rows are fetched
with ``prefetch_related``), and orders on the id last so that pagination is stable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Count, Q, QuerySet
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
from core.api.views import RECORD_MAX_AGE, TAXONOMY_MAX_AGE, OpenDataDetailView, OpenDataView
from core.memo import ProcessMemo
from petitions import selectors
from petitions.api import rows
from petitions.api.filters import PetitionFilter, RegionFilter
from petitions.api.querysets import open_data_petitions
from petitions.api.serializers import (
    PETITION_DATETIMES,
    PetitionDetailSerializer,
    PetitionSerializer,
    RegionSerializer,
    TopicSerializer,
)
from petitions.models import Country, Petition, Region, Topic

# What a list row shows (PetitionSerializer): a third of the table's columns.
LIST_COLUMNS = (
    "id",
    "title",
    "summary",
    "language",
    "state",
    "response_state",
    "consideration_state",
    "rejection_reason",
    "signature_count",
    "response_threshold",
    "consideration_threshold",
    *PETITION_DATETIMES,
)


def attach_relations(petitions: Sequence[Petition]) -> None:
    """Each petition's topic slugs and published responses' ids: two queries a page."""
    ids = [petition.pk for petition in petitions]
    topics, responses = rows.topic_slugs(ids), rows.response_ids(ids)
    for petition in petitions:
        petition.topic_slugs = topics[petition.pk]  # type: ignore[attr-defined]
        petition.response_ids = responses[petition.pk]  # type: ignore[attr-defined]


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
            .only(*LIST_COLUMNS)  # not the details (up to 5,000 characters a row)
            .order_by("-signature_count", "-id")
        )

    def paginate_queryset(self, queryset: QuerySet[Petition, Any]) -> list[Any] | None:
        page = super().paginate_queryset(queryset)
        if page is not None:
            attach_relations(page)
        return page


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
        return open_data_petitions()

    def get_object(self) -> Petition:
        petition = super().get_object()
        attach_detail(petition)
        self.petition_state = petition.state
        return petition

    def get_max_age(self) -> int:
        """An open petition's counts move at every counting pass; a closed or rejected
        one's only through audited events (a response, a recount, moderation), which
        retire kept answers at once (core.api.answers): it is a record."""
        if getattr(self, "petition_state", Petition.State.OPEN) != Petition.State.OPEN:
            return RECORD_MAX_AGE
        return super().get_max_age()


# Country names change only when ``load_regions`` runs; each process reads them hourly.
_COUNTRY_NAMES: ProcessMemo[dict[str, tuple[str, str]]] = ProcessMemo(seconds=3600)


def country_names() -> dict[str, tuple[str, str]]:
    """{code: (English name, French name)} of every country."""
    return _COUNTRY_NAMES.get(
        "all",
        lambda: {
            code: (en, fr)
            for code, en, fr in Country.objects.values_list("code", "name_en", "name_fr")
        },
    )


def attach_detail(petition: Petition) -> None:
    """Everything a detail shows beyond the petition's own columns."""
    attach_relations([petition])
    petition.active_assignments = rows.active_assignments(petition.pk)  # type: ignore[attr-defined]
    attach_counts(petition)


def attach_counts(petition: Petition) -> None:
    """Signatures by region, by country (with names) and per day: three queries."""
    petition.api_region_counts = rows.region_counts(petition.pk)  # type: ignore[attr-defined]
    names = country_names()
    petition.api_country_counts = [  # type: ignore[attr-defined]
        {
            "country": code,
            "name_en": names.get(code, (code, code))[0],
            "name_fr": names.get(code, (code, code))[1],
            "count": count,
        }
        for code, count in rows.country_counts(petition.pk)
    ]
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
