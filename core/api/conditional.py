"""Conditional GET for the open-data API: ETag, Last-Modified, 304, Cache-Control.

The ETag is a digest of the rendered body, so it changes exactly when the answer does,
whatever part of the data moved (a count, a response, a department's record). The answer
is still computed, but a client that already holds it gets a 304 without the body.

Last-Modified is the time this server first served the current body at this address: the
(ETag, time) pair is kept in the cache per address, and a new ETag gets a new time, later
than the previous one by at least a second, so an If-Modified-Since from an older body can
never match a newer one. If the cache forgets, the time moves forward, which only costs a
client one full answer.
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from rest_framework.response import Response

SEEN_KEY = "agora:api:seen:{digest}"
SEEN_TIMEOUT = 7 * 24 * 3600


def body_etag(content: bytes) -> str:
    return f'"{hashlib.sha256(content).hexdigest()[:32]}"'


def first_served(address: str, etag: str) -> int:
    """When this body was first served at ``address`` (Unix seconds)."""
    key = SEEN_KEY.format(digest=hashlib.sha256(address.encode()).hexdigest())
    now = int(time.time())
    stored = cache.get(key)
    if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == etag:
        return int(stored[1])
    since = now
    if isinstance(stored, tuple) and len(stored) == 2:
        since = max(now, int(stored[1]) + 1)
    cache.set(key, (etag, since), SEEN_TIMEOUT)
    return since


def conditional_response(
    request: HttpRequest, response: Response, *, max_age: int
) -> HttpResponseBase:
    """Add validators and Cache-Control to a 200 answer, or answer 304 (or 412) instead."""
    response.render()
    etag = body_etag(response.content)
    last_modified = first_served(request.get_full_path(), etag)
    response.headers["ETag"] = etag
    response.headers["Last-Modified"] = http_date(last_modified)
    patch_cache_control(response, public=True, max_age=max_age)
    conditional = get_conditional_response(
        request, etag=etag, last_modified=last_modified, response=response
    )
    return conditional if conditional is not None else response
