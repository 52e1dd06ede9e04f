"""Page-number pagination with a maximum page size and strictly validated parameters."""

from __future__ import annotations

import re
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import answers

WHOLE_NUMBER = re.compile(r"-?[0-9]+")
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def _positive_int(request: Request, name: str, maximum: int | None = None) -> int | None:
    """The parameter as an integer in [1, maximum], None when absent or empty; else a 400."""
    raw = request.query_params.get(name)
    if not raw:
        return None
    if not WHOLE_NUMBER.fullmatch(raw):  # int() would also take " 5", "+5" and "5_000"
        raise ValidationError({name: [_("Enter a whole number.")]})
    value = int(raw)
    if value < 1:
        raise ValidationError({name: [_("Enter a number of at least 1.")]})
    if maximum is not None and value > maximum:
        raise ValidationError(
            {name: [_("Enter a number of at most %(maximum)d.") % {"maximum": maximum}]}
        )
    return value


class KeptCountPaginator(Paginator[Any]):
    """A paginator whose total is shared by every page of the same list (see
    ``core.api.answers.count``)."""

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, QuerySet):
            return answers.count(self.object_list)
        return len(self.object_list)


class OpenDataPagination(PageNumberPagination):
    """``page`` and ``page_size`` (at most 100); a bad value is a 400 naming it.

    Stability comes from the views: each orders on a unique column last (the id), so a row
    never appears on two pages or on none while the data stays the same.
    """

    django_paginator_class = KeptCountPaginator
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    last_page_strings = ()  # only numbers: "page=last" would be one more thing to document

    def get_page_size(self, request: Request) -> int:
        size = _positive_int(request, self.page_size_query_param, self.max_page_size)
        return size if size is not None else self.page_size

    def paginate_queryset(
        self, queryset: Any, request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        _positive_int(request, self.page_query_param)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data: Any) -> Response:
        """The page, with its neighbours also in a Link header (RFC 8288)."""
        response = super().get_paginated_response(data)
        links = [
            f'<{url}>; rel="{rel}"'
            for url, rel in ((self.get_next_link(), "next"), (self.get_previous_link(), "prev"))
            if url
        ]
        if links:
            response.headers["Link"] = ", ".join(links)
        return response

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number, from 1. A page past the last one is a 404.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page (default {DEFAULT_PAGE_SIZE}, "
                f"at most {MAX_PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]
