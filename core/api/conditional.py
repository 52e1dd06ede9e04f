"""Conditional GET for the open-data API: ETag, Last-Modified, 304, Cache-Control.

The ETag is a digest of the rendered body, so it changes exactly when the answer does,
whatever part of the data moved (a count, a response, a department's record). A client
that already holds the answer gets a 304 without the body (and, while the server keeps the
answer, without any query: see ``core.api.answers``).

Last-Modified is the time this server first served the current body at this address: the
(ETag, time) pair is kept in the cache per address, and a new ETag gets a new time, later
than the previous one by at least a second, so an If-Modified-Since from an older body can
never match a newer one. If the cache forgets, the time moves forward, which only costs a
client one full answer.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from rest_framework.response import Response

from core.api import answers
from core.api.answers import Answer


def body_etag(content: bytes) -> str:
    return f'"{hashlib.sha256(content).hexdigest()[:32]}"'


def first_served(etag: str, seen: Any) -> tuple[int, tuple[str, int] | None]:
    """When this body was first served at its address (Unix seconds), from the record the
    cache held (``seen``); and the record to store, or None when it stays the same."""
    now = int(time.time())
    if isinstance(seen, tuple) and len(seen) == 2 and seen[0] == etag:
        return int(seen[1]), None
    since = now
    if isinstance(seen, tuple) and len(seen) == 2:
        since = max(now, int(seen[1]) + 1)
    return since, (etag, since)


def answer_of(address: str, response: Response, held: answers.Held, *, max_age: int) -> Answer:
    """A rendered 200 answer with its validators, ready to keep and to serve."""
    response.render()
    etag = body_etag(response.content)
    last_modified, record = first_served(etag, held.seen)
    if record is not None:
        answers.remember_first_served(address, record)
    return Answer(
        body=response.content,
        content_type=response["Content-Type"],
        etag=etag,
        last_modified=last_modified,
        link=response.headers.get("Link", ""),
        generation=held.generation,
        max_age=max_age,
    )


def conditional_response(request: HttpRequest, answer: Answer) -> HttpResponseBase:
    """The answer with its validators and Cache-Control, or a 304 (or 412) instead."""
    response = answer.response()
    response.headers["ETag"] = answer.etag
    response.headers["Last-Modified"] = http_date(answer.last_modified)
    patch_cache_control(response, public=True, max_age=answer.max_age)
    conditional = get_conditional_response(
        request, etag=answer.etag, last_modified=answer.last_modified, response=response
    )
    return conditional if conditional is not None else response
