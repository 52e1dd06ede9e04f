"""The responses list's parameters, validated: a bad value is a 400 naming it."""

from __future__ import annotations

import django_filters as filters  # type: ignore[import-untyped, unused-ignore]  # no stubs installed
from django.db.models import F, QuerySet
from django.utils.translation import gettext_lazy as _

from core.api.filters import OpenDataFilterSet
from petitions.api.filters import DateFromToRangeFilter, IntegerFilter, SortFilter
from petitions.api.querysets import open_data_petitions
from responses.models import Department, Response

ORDERINGS = ["published_at", "-published_at", "id", "-id"]


class ResponseFilter(OpenDataFilterSet):
    department = filters.ModelChoiceFilter(
        queryset=Department.objects.all(),
        to_field_name="slug",
        help_text=_("A department's slug."),
    )
    petition = IntegerFilter(
        method="filter_petition",
        min_value=1,
        help_text=_("Responses answering this petition id."),
    )
    published = DateFromToRangeFilter(field_name="published_at")
    ordering = SortFilter(
        choices=[(value, value) for value in ORDERINGS],
        help_text=_("Sort order; ties broken by id. Default: -published_at."),
    )

    class Meta:
        model = Response
        fields: list[str] = []

    def filter_petition(
        self, queryset: QuerySet[Response], name: str, value: int
    ) -> QuerySet[Response]:
        """Only public petitions: a hidden petition's id finds no response."""
        return queryset.filter(petitions__in=open_data_petitions().filter(pk=value))

    def filter_queryset(self, queryset: QuerySet[Response]) -> QuerySet[Response]:
        queryset = super().filter_queryset(queryset)
        ordering = self.form.cleaned_data.get("ordering") or "-published_at"
        column = ordering.lstrip("-")
        if ordering.startswith("-"):
            return queryset.order_by(F(column).desc(nulls_last=True), "-id")
        return queryset.order_by(F(column).asc(nulls_last=True), "id")
