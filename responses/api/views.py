"""Open-data API views for published responses, departments and the site statistics.

Reads go through ``responses.public_selectors`` where the website has them (department
records, statistics), so the API and the pages always agree.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.filters import StrictFilterBackend
from core.api.pagination import OpenDataPagination
from core.api.schema import (
    CONDITIONAL_HEADERS,
    detail_responses,
    integer_parameter,
    list_responses,
    single_responses,
)
from core.api.views import RECORD_MAX_AGE, OpenDataDetailView, OpenDataView
from petitions.api.querysets import open_data_petitions
from responses import public_selectors
from responses.api.filters import ResponseFilter
from responses.api.serializers import (
    DepartmentSerializer,
    ResponseDetailSerializer,
    ResponseSerializer,
    StatisticsSerializer,
)
from responses.models import Department
from responses.models import Response as OfficialResponse


def published_responses() -> QuerySet[OfficialResponse]:
    answered = Prefetch(
        "petitions",
        queryset=open_data_petitions()
        .only("id", "title", "state", "signature_count")
        .order_by("-signature_count", "id"),
        to_attr="public_petitions",
    )
    return (
        OfficialResponse.objects.filter(state=OfficialResponse.State.PUBLISHED)
        .select_related("department")
        .prefetch_related(answered)
    )


@extend_schema_view(
    get=extend_schema(
        summary="List published responses",
        description="Official responses, each with the public petitions it answers.",
        parameters=[
            integer_parameter("petition", 1, "Responses answering the petition with this id."),
            *CONDITIONAL_HEADERS,
        ],
        responses=list_responses(ResponseSerializer),
        tags=["responses"],
    )
)
class ResponseList(OpenDataView, generics.ListAPIView[OfficialResponse]):
    serializer_class = ResponseSerializer
    pagination_class = OpenDataPagination
    filter_backends = (StrictFilterBackend,)
    filterset_class = ResponseFilter
    max_age = RECORD_MAX_AGE

    def get_queryset(self) -> QuerySet[OfficialResponse]:
        return published_responses().order_by("-published_at", "-id")


@extend_schema_view(
    get=extend_schema(
        summary="One published response",
        parameters=CONDITIONAL_HEADERS,
        responses=detail_responses(ResponseDetailSerializer),
        tags=["responses"],
    )
)
class ResponseDetail(OpenDataDetailView, generics.RetrieveAPIView[OfficialResponse]):
    serializer_class = ResponseDetailSerializer
    max_age = RECORD_MAX_AGE
    not_found_detail = _("No published response has this id.")

    def get_queryset(self) -> QuerySet[OfficialResponse]:
        return published_responses()


@extend_schema_view(
    get=extend_schema(
        summary="List active departments with their response record",
        description="Each department's record over the petitions it leads now: routed, "
        "responded, awaiting, overdue, and how fast it responds.",
        parameters=CONDITIONAL_HEADERS,
        responses=list_responses(DepartmentSerializer),
        tags=["departments"],
    )
)
class DepartmentList(OpenDataView, generics.ListAPIView[Department]):
    serializer_class = DepartmentSerializer
    pagination_class = OpenDataPagination
    filter_backends = ()
    max_age = RECORD_MAX_AGE

    def get_queryset(self) -> QuerySet[Department]:
        return public_selectors.active_departments().order_by("name_en", "id")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Records for the departments of the page only: two queries, whatever the page."""
        page = self.paginate_queryset(self.get_queryset())
        records = public_selectors.department_records(page or [])
        return self.get_paginated_response(self.get_serializer(records, many=True).data)


@extend_schema_view(
    get=extend_schema(
        summary="One department with its response record",
        parameters=CONDITIONAL_HEADERS,
        responses=detail_responses(DepartmentSerializer),
        tags=["departments"],
    )
)
class DepartmentDetail(OpenDataDetailView, generics.GenericAPIView[Department]):
    serializer_class = DepartmentSerializer
    queryset = Department.objects.all()
    lookup_field = "slug"
    max_age = RECORD_MAX_AGE
    not_found_detail = _("No department has this slug.")

    def get(self, request: Request, slug: str) -> Response:
        department = get_object_or_404(Department, slug=slug)
        record = public_selectors.department_records([department])[0]
        return Response(self.get_serializer(record).data)


@extend_schema_view(
    get=extend_schema(
        summary="Site-wide statistics",
        description="Petitions and signatures, petitions by state and by response state, "
        "how fast responses come, and the overdue petitions by department.",
        parameters=CONDITIONAL_HEADERS,
        responses=single_responses(StatisticsSerializer),
        tags=["statistics"],
    )
)
class Statistics(OpenDataView, generics.GenericAPIView[Any]):
    serializer_class = StatisticsSerializer
    pagination_class = None
    filter_backends = ()

    def get(self, request: Request) -> Response:
        return Response(self.get_serializer(public_selectors.site_statistics()).data)
