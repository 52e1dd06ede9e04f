"""The petitions list's parameters: filters, full-text search and sorts, all validated.

A bad value is a 400 naming the parameter (``core.api`` turns the FilterSet's form errors
into the error body), never a silently ignored filter.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Any

import django_filters as filters  # type: ignore[import-untyped, unused-ignore]  # no stubs installed
from django import forms
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.fields import (  # type: ignore[import-untyped, unused-ignore]
    DateRangeField as BaseDateRangeField,
)
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from core.api.filters import OpenDataFilterSet
from petitions import selectors
from petitions.models import Petition, Region, RegionCount, Topic
from responses.models import Assignment, Department

Q_MAX_LENGTH = 200


WHOLE_NUMBER = re.compile(r"-?[0-9]+")


class WholeNumberField(forms.IntegerField):
    """Digits only: Django's IntegerField would also take "10.0", which is no integer."""

    def to_python(self, value: Any) -> int | None:
        if value not in self.empty_values and not WHOLE_NUMBER.fullmatch(str(value).strip()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        result: int | None = super().to_python(value)
        return result


@extend_schema_field(OpenApiTypes.INT)
class IntegerFilter(filters.NumberFilter):
    """A whole number ("1.5", "10.0" and "ten" are errors, not a decimal or nothing)."""

    field_class = WholeNumberField


class SortFilter(filters.ChoiceFilter):
    """A validated choice the FilterSet applies itself, after every filter (see below)."""

    def filter(self, qs: Any, value: Any) -> Any:
        return qs


@extend_schema_field(OpenApiTypes.STR)
class SearchFilter(filters.CharFilter):
    """Full-text search, applied by the FilterSet after the filters (it annotates a rank)."""

    def filter(self, qs: Any, value: Any) -> Any:
        return qs


EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


def start_of(day: date) -> datetime:
    """The first instant of ``day`` in the site's time zone; year 1 starts at the dawn."""
    if day <= date(1, 1, 2):
        return EARLIEST  # the local midnight of 1 January, year 1, is before year 1 in UTC
    return timezone.make_aware(datetime.combine(day, time.min))


def end_of(day: date) -> datetime:
    if day >= date(9999, 12, 30):
        return LATEST
    return timezone.make_aware(datetime.combine(day, time.max))


class DateRangeField(BaseDateRangeField):
    """django-filter's date range, whose first and last days of the calendar do not overflow."""

    def compress(self, data_list: list[date | None]) -> slice | None:
        if not data_list:
            return None
        start, stop = data_list
        return slice(start_of(start) if start else None, end_of(stop) if stop else None)


class DateFromToRangeFilter(filters.DateFromToRangeFilter):
    """``<name>_after`` and ``<name>_before``: dates, both days included."""

    field_class = DateRangeField


class Ordering:
    """``ordering`` values: a column, descending with a leading minus; nulls always last."""

    COLUMNS = (
        "signature_count",
        "created_at",
        "opened_at",
        "deadline",
        "closed_at",
        "responded_at",
        "id",
    )
    NULLABLE = frozenset({"opened_at", "deadline", "closed_at", "responded_at"})
    RELEVANCE = "relevance"

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        values = [value for column in cls.COLUMNS for value in (column, f"-{column}")]
        return [(value, value) for value in [*values, cls.RELEVANCE]]


ORDERING_HELP = gettext_lazy(
    "Sort order. A column name sorts ascending, with a minus descending; ties are broken by "
    "id, so pages are stable. relevance (the default with q) ranks the search matches. "
    "Default: -signature_count."
)
STATE_CHOICES = [
    (Petition.State.OPEN.value, Petition.State.OPEN.label),
    (Petition.State.CLOSED.value, Petition.State.CLOSED.label),
    (Petition.State.REJECTED.value, Petition.State.REJECTED.label),
]


class PetitionFilter(OpenDataFilterSet):
    q = SearchFilter(
        max_length=Q_MAX_LENGTH,
        help_text=gettext_lazy("Full-text search in the title, summary and details."),
    )
    state = filters.ChoiceFilter(choices=STATE_CHOICES)
    response_state = filters.ChoiceFilter(choices=Petition.ResponseState.choices)
    consideration_state = filters.ChoiceFilter(choices=Petition.ConsiderationState.choices)
    topic = filters.ModelChoiceFilter(
        field_name="topics",
        queryset=Topic.objects.all(),
        to_field_name="slug",
        help_text=gettext_lazy("A topic's slug (see /api/v1/topics/)."),
    )
    department = filters.ModelChoiceFilter(
        queryset=Department.objects.all(),
        to_field_name="slug",
        method="filter_department",
        help_text=gettext_lazy(
            "A department's slug: petitions on a topic it leads, or routed to it now."
        ),
    )
    region = filters.CharFilter(
        method="filter_region",
        help_text=gettext_lazy(
            "A region's id, or kind:code (fr-departement:75): petitions signed from there."
        ),
    )
    created = DateFromToRangeFilter(field_name="created_at")
    opened = DateFromToRangeFilter(field_name="opened_at")
    closed = DateFromToRangeFilter(field_name="closed_at")
    responded = DateFromToRangeFilter(field_name="responded_at")
    signatures_min = IntegerFilter(
        field_name="signature_count",
        lookup_expr="gte",
        min_value=0,
        help_text=gettext_lazy("At least this many signatures."),
    )
    signatures_max = IntegerFilter(
        field_name="signature_count",
        lookup_expr="lte",
        min_value=0,
        help_text=gettext_lazy("At most this many signatures."),
    )
    ordering = SortFilter(choices=Ordering.choices(), help_text=ORDERING_HELP)

    class Meta:
        model = Petition
        fields: list[str] = []

    def filter_department(
        self, queryset: QuerySet[Petition], name: str, value: Department
    ) -> QuerySet[Petition]:
        # Two sets of ids the planner hashes once (two EXISTS joined by OR would be
        # evaluated for every public petition in turn).
        on_its_topics = Petition.topics.through.objects.filter(topic__lead_department=value).values(
            "petition_id"
        )
        routed = Assignment.objects.active().filter(department=value).values("petition_id")
        return queryset.filter(Q(pk__in=on_its_topics) | Q(pk__in=routed))

    def filter_region(
        self, queryset: QuerySet[Petition], name: str, value: str
    ) -> QuerySet[Petition]:
        region = find_region(value)
        if region is None:
            raise ValidationError({name: [_("No region %(value)s.") % {"value": value}]})
        signed_there = RegionCount.objects.filter(
            petition=OuterRef("pk"), region=region, count__gt=0
        )
        return queryset.filter(Exists(signed_there))

    def filter_queryset(self, queryset: QuerySet[Petition]) -> QuerySet[Petition]:
        queryset = super().filter_queryset(queryset)
        q = self.form.cleaned_data.get("q") or ""
        ordering = self.form.cleaned_data.get("ordering") or ""
        if q:
            queryset = selectors.search(queryset, q)
        return order_petitions(queryset, ordering, searched=bool(q))


def find_region(value: str) -> Region | None:
    """A region by its id (digits only) or by ``kind:code``; nothing else is guessed."""
    kind, sep, code = value.partition(":")
    if sep:
        return Region.objects.filter(kind=kind, code=code).first()
    if value.isdigit():
        return Region.objects.filter(pk=int(value)).first()
    return None


def order_petitions(
    queryset: QuerySet[Petition], ordering: str, *, searched: bool
) -> QuerySet[Petition]:
    if ordering == Ordering.RELEVANCE or (searched and not ordering):
        if searched:
            return queryset.order_by("-rank", "-signature_count", "-id")
        ordering = ""
    if not ordering:
        return queryset.order_by("-signature_count", "-id")
    column = ordering.lstrip("-")
    # "NULLS LAST" only where there can be nulls: it would keep PostgreSQL from reading
    # signature_count or created_at in the order of their indexes.
    nulls_last = True if column in Ordering.NULLABLE else None
    if ordering.startswith("-"):
        return queryset.order_by(F(column).desc(nulls_last=nulls_last), "-id")
    return queryset.order_by(F(column).asc(nulls_last=nulls_last), "id")


class RegionFilter(OpenDataFilterSet):
    kind = filters.CharFilter(help_text=gettext_lazy("fr-region, fr-departement, us-state..."))
    country = filters.CharFilter(
        field_name="country_id", help_text=gettext_lazy("ISO 3166-1 alpha-2 code (FR, US...).")
    )

    class Meta:
        model = Region
        fields: list[str] = []
