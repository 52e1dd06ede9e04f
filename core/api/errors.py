"""Every error of the open-data API is a JSON body of one shape.

``{"status": 400, "code": "invalid", "detail": "...", "errors": {"state": ["..."]}}``:
``errors`` names each bad parameter (400 only), ``retry_after`` comes with a 429 (as does
the ``Retry-After`` header). Unexpected failures become a JSON 500 after being logged, so a
client never has to parse an HTML page.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger("core.api")


def _messages(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [message for item in value for message in _messages(item)]
    if isinstance(value, dict):
        return [message for item in value.values() for message in _messages(item)]
    return [str(value)]


def parameter_errors(detail: Any) -> dict[str, list[str]]:
    """A ValidationError's detail as {parameter: [messages]}."""
    if isinstance(detail, dict):
        return {str(name): _messages(value) for name, value in detail.items()}
    return {"non_field_errors": _messages(detail)}


def error_body(
    status_code: int, code: str, detail: str, errors: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status_code, "code": code, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    return body


def _code(exc: exceptions.APIException) -> str:
    detail = exc.detail
    code = getattr(detail, "code", None)
    return str(code) if isinstance(code, str) else str(exc.default_code)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's handler (headers such as Retry-After and Allow), with our body."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc.args[0]) if exc.args else None)
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unexpected error in the open-data API", exc_info=exc)
        return Response(
            error_body(500, "server_error", _("Something went wrong on our side.")),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    assert isinstance(exc, exceptions.APIException)  # noqa: S101 - DRF handled nothing else
    if isinstance(exc, exceptions.ValidationError):
        errors = parameter_errors(exc.detail)
        names = ", ".join(sorted(errors))
        response.data = error_body(
            response.status_code,
            "invalid",
            _("Invalid parameters: %(names)s.") % {"names": names},
            errors,
        )
        return response
    response.data = error_body(response.status_code, _code(exc), _messages(exc.detail)[0])
    wait = getattr(exc, "wait", None)  # set by DRF on Throttled
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        response.data["retry_after"] = int(wait)
    return response
