"""What the OpenAPI schema says about the parts every endpoint shares: errors, headers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, OpenApiTypes
from rest_framework import serializers

API_PREFIX = "/api/v1/"


class ParameterErrorsField(serializers.DictField):
    child = serializers.ListField(child=serializers.CharField())


class ErrorSerializer(serializers.Serializer[Any]):
    """The body of every error answer."""

    status = serializers.IntegerField(help_text="The HTTP status, repeated.")
    code = serializers.CharField(
        help_text="A stable code: invalid, not_found, throttled, method_not_allowed..."
    )
    detail = serializers.CharField(help_text="A message for people, in the request's language.")
    # The metaclass takes declared fields off the class: Serializer.errors stays intact.
    errors = ParameterErrorsField(  # type: ignore[assignment]
        required=False, help_text="400 only: the messages for each bad parameter, by its name."
    )
    retry_after = serializers.IntegerField(
        required=False, help_text="429 only: seconds to wait (also the Retry-After header)."
    )


NOT_MODIFIED = OpenApiResponse(
    description="Not modified: the ETag in If-None-Match (or the time in If-Modified-Since) "
    "still describes the answer. No body."
)
BAD_PARAMETERS = OpenApiResponse(
    ErrorSerializer, description="A parameter is invalid; `errors` names each one."
)
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such resource (or page).")
THROTTLED = OpenApiResponse(
    ErrorSerializer, description="Too many requests from this address; see Retry-After."
)

CONDITIONAL_HEADERS = [
    OpenApiParameter(
        "If-None-Match",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description="An ETag from an earlier answer: 304 while the answer is unchanged.",
    ),
    OpenApiParameter(
        "If-Modified-Since",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description="An HTTP date (ignored when If-None-Match is sent): 304 while unchanged.",
    ),
]


def list_responses(serializer: Any) -> dict[int, Any]:
    return {200: serializer, 304: NOT_MODIFIED, 400: BAD_PARAMETERS, 404: NOT_FOUND, 429: THROTTLED}


def detail_responses(serializer: Any) -> dict[int, Any]:
    return {200: serializer, 304: NOT_MODIFIED, 404: NOT_FOUND, 429: THROTTLED}


def single_responses(serializer: Any) -> dict[int, Any]:
    return {200: serializer, 304: NOT_MODIFIED, 429: THROTTLED}


def only_open_data(endpoints: list[tuple[Any, ...]], **kwargs: Any) -> list[tuple[Any, ...]]:
    """Preprocessing hook: the schema documents /api/v1/ (the We the People layer is apart)."""
    return [endpoint for endpoint in endpoints if str(endpoint[0]).startswith(API_PREFIX)]


_OK_HEADERS = {
    "ETag": {
        "description": "A digest of the body; send it back in If-None-Match.",
        "schema": {"type": "string"},
    },
    "Last-Modified": {
        "description": "When this body was first served; usable in If-Modified-Since.",
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": "public, with a max-age that fits the resource.",
        "schema": {"type": "string"},
    },
}
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}},
}


_LINK = {
    "Link": {
        "description": 'The next and previous pages, as <url>; rel="next", <url>; rel="prev".',
        "schema": {"type": "string"},
    },
}


def _is_page(response: dict[str, Any]) -> bool:
    reference = response.get("content", {}).get("application/json", {}).get("schema", {})
    return str(reference.get("$ref", "")).startswith("#/components/schemas/Paginated")


def _no_null_characters(schema: dict[str, Any]) -> None:
    """Free text refuses NUL (a 400: databases cannot store it); the schema says so."""
    if schema.get("type") == "string" and not ({"enum", "format", "pattern"} & set(schema)):
        schema["pattern"] = "^[^\\u0000]*$"


def document_headers(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: the caching and rate-limit headers of every operation, and
    that an empty query parameter (``?state=``, as HTML forms send) counts as absent."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    parameter["allowEmptyValue"] = True
                    _no_null_characters(parameter.get("schema", {}))
            responses = operation.get("responses", {})
            if "200" in responses:
                headers = responses["200"].setdefault("headers", {})
                headers.update(_OK_HEADERS)
                if _is_page(responses["200"]):
                    headers.update(_LINK)
            if "304" in responses:
                responses["304"].setdefault("headers", {}).update(
                    {"ETag": _OK_HEADERS["ETag"], "Cache-Control": _OK_HEADERS["Cache-Control"]}
                )
            if "429" in responses:
                responses["429"].setdefault("headers", {}).update(_RETRY_AFTER)
    return result


def integer_parameter(name: str, minimum: int, description: str) -> OpenApiParameter:
    """A query parameter documented with its lower bound (django-filter's guess has none)."""
    return OpenApiParameter(
        name,
        {"type": "integer", "minimum": minimum},
        OpenApiParameter.QUERY,
        description=description,
    )
