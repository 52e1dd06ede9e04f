"""The We the People API v1 envelope and its errors.

Every answer, success or error, is ``{"metadata": {"responseInfo", "requestInfo",
"resultset"}, "results"}``: WTP clients read ``metadata.responseInfo.status`` and
``errorCode`` from the body, so errors keep the envelope and the HTTP status matches.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

API_VERSION = 1
# Never echoed back: a secret in a response body ends up in logs and caches.
HIDDEN_PARAMETERS = frozenset({"api_key"})

# The WTP error codes (PRODUCT.md section 7).
NOT_SIGNABLE = "74"
BAD_SIGNATURE = "75"
NO_SUCH_PETITION = "76"
BLOCKED_DOMAIN = "77"
NOT_FOUND = "84"
INVALID_KEY = "85"
NEEDS_ID = "86"
BAD_RESPONSE_ID = "87"
BAD_URL = "88"


class WtpError(Exception):
    """An answer other than 200, with the WTP code when the WTP API defined one."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str = "",
        user_message: str = "",
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.user_message = user_message
        self.retry_after = retry_after


def request_info(request: HttpRequest, resource: str, **extra: Any) -> dict[str, Any]:
    """What was asked: the API version, the resource, and the query (without the key)."""
    query = {
        name: request.GET.get(name, "")
        for name in sorted(request.GET)
        if name not in HIDDEN_PARAMETERS
    }
    return {"apiVersion": API_VERSION, "resource": resource, "query": query, **extra}


def envelope(
    request: HttpRequest,
    resource: str,
    results: list[dict[str, Any]],
    *,
    count: int,
    limit: int,
    offset: int,
    status: int = 200,
    developer_message: str = "OK",
    user_message: str = "",
    error_code: str = "",
) -> JsonResponse:
    body = {
        "metadata": {
            "responseInfo": {
                "status": status,
                "developerMessage": developer_message,
                "userMessage": user_message,
                "errorCode": error_code,
                "moreInfo": "",
            },
            "requestInfo": request_info(request, resource),
            "resultset": {"count": count, "limit": limit, "offset": offset},
        },
        "results": results,
    }
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def error_response(request: HttpRequest, resource: str, error: WtpError) -> JsonResponse:
    response = envelope(
        request,
        resource,
        [],
        count=0,
        limit=0,
        offset=0,
        status=error.status,
        developer_message=error.message,
        user_message=error.user_message,
        error_code=error.code,
    )
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    return response
