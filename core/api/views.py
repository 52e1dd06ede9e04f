"""The base of every open-data view: anonymous, read-only, throttled, cacheable, JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404, HttpResponseBase
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

from core.api import answers
from core.api.conditional import answer_of, conditional_response
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

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Once the client may have an answer (throttles passed): answer GET and HEAD
        through the kept answers, with validators, Cache-Control and perhaps a 304.

        The handler is wrapped on this instance (a view instance serves one request), so
        every view of the API, whatever its bases, answers the same way.
        """
        super().initial(request, *args, **kwargs)
        method = (request.method or "").lower()
        if method in ("get", "head") and hasattr(self, method):
            setattr(self, method, self._answering(getattr(self, method)))

    def _answering(self, handler: Callable[..., HttpResponseBase]) -> Callable[..., Any]:
        def answer(request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
            address = request._request.get_full_path()
            caching = answers.enabled()
            held = answers.lookup(address, caching=caching)
            kept = held.answer
            if kept is None:
                response = handler(request, *args, **kwargs)
                if response.status_code != 200 or not isinstance(response, Response):
                    return response
                self.finalize_response(request, response, *args, **kwargs)  # its renderer
                # Asked after the handler: a view may size it to what it found.
                kept = answer_of(address, response, held, max_age=self.get_max_age())
                if caching:
                    answers.keep(address, kept)
            return conditional_response(request._request, kept)

        return answer


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
