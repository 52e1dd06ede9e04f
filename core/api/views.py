"""The base of every open-data view: anonymous, read-only, throttled, cacheable, JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponseBase
from django.utils.translation import gettext as _
from django_stubs_ext import StrOrPromise
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from core.api.conditional import conditional_response
from core.api.errors import exception_handler
from core.api.throttling import OpenDataThrottle

# Cache lifetimes (seconds). Counts move at each counting pass; the rest moves slowly.
TAXONOMY_MAX_AGE = 3600  # topics and regions
RECORD_MAX_AGE = 300  # responses and departments' records


class OpenDataView(APIView):
    """Put first in a view's bases: ``class X(OpenDataView, generics.ListAPIView)``.

    No authentication at all: every client is anonymous, no session or CSRF is involved,
    and every answer is the same for everyone, hence ``Cache-Control: public``.
    """

    authentication_classes = ()
    permission_classes: tuple[type[BasePermission], ...] = (AllowAny,)
    throttle_classes: tuple[type[BaseThrottle], ...] = (OpenDataThrottle,)
    renderer_classes: tuple[type[BaseRenderer], ...] = (JSONRenderer,)
    http_method_names = ["get", "head", "options"]
    max_age: int | None = None  # None: the counting interval

    def get_max_age(self) -> int:
        if self.max_age is not None:
            return self.max_age
        interval: float = settings.AGORA_COUNT_INTERVAL_SECONDS
        return max(1, round(interval))

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response]:
        return exception_handler

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """After DRF has rendered its answer: validators, Cache-Control, perhaps a 304."""
        response = super().dispatch(request, *args, **kwargs)
        if (
            request.method in ("GET", "HEAD")
            and response.status_code == 200
            and isinstance(response, Response)
        ):
            return conditional_response(request, response, max_age=self.get_max_age())
        return response


class OpenDataDetailView(OpenDataView):
    """A detail view whose unknown id gets a 404 saying what was not found."""

    not_found_detail: StrOrPromise = ""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, Http404) and self.not_found_detail:
            exc = NotFound(str(self.not_found_detail))
        return super().handle_exception(exc)


@extend_schema(exclude=True)
class UnknownEndpoint(OpenDataView):
    """Any other address under /api/v1/: a JSON 404 rather than the site's HTML page."""

    throttle_classes = ()
    http_method_names = ["get", "head", "options", "post", "put", "patch", "delete"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        raise NotFound(_("There is no such address in the API."))
