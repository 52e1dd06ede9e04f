"""Whole answers of the open-data API, kept in the shared cache while they are fresh.

Every answer of the API is the same for every client, and each already tells clients how
long it stays fresh (``Cache-Control: max-age``: the counting interval for petitions,
minutes for records). The server keeps the rendered body for that long too (at most
``SERVER_SECONDS``), keyed by the full address, with its ETag and Last-Modified: a reuser
polling a list, or a hundred thousand phones on one petition, cost one Redis round trip
each instead of the queries and the serialisation.

What a moderator or an editor changes must not wait for a lifetime to run out: every
audit event of the public data (a petition opened, hidden, rejected, a response
published...) moves a *generation* when its transaction commits, and an answer kept under
an older generation is never served again. The generation and the answer are read in one
``MGET``. Counts move without audit events; an answer is at most its max-age behind them,
as it would be in any HTTP cache.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import HttpResponse

GENERATION_KEY = "agora:api:generation"
ANSWER_KEY = "agora:api:answer:{digest}"
COUNT_KEY = "agora:api:count:{digest}"
COUNT_LOCK_KEY = "agora:api:counting:{digest}"
COUNT_LOCK_SECONDS = 2  # the longest a request waits for another's count
STALE_TOTAL_SECONDS = 3600  # a stale total stays in the cache to answer while recounting
SEEN_KEY = "agora:api:seen:{digest}"
SEEN_TIMEOUT = 7 * 24 * 3600
SERVER_SECONDS = 60  # the longest a server copy is kept, whatever the answer's max-age

# Audit events about accounts, keys and the back-office's own tools change nothing the
# API shows; every other one (petitions, responses, departments, the pause switch...) does.
PRIVATE_ACTIONS = ("account.", "user.", "webhook.", "partner_key.", "page.")


@dataclass(frozen=True)
class Answer:
    body: bytes
    content_type: str
    etag: str
    last_modified: int  # Unix seconds
    link: str  # the pagination Link header, or ""
    generation: int
    max_age: int  # what Cache-Control tells clients (seconds)

    def response(self) -> HttpResponse:
        response = HttpResponse(self.body, content_type=self.content_type)
        if self.link:
            response.headers["Link"] = self.link
        return response


def enabled() -> bool:
    return bool(settings.AGORA_API_ANSWER_CACHE)


def _digest(address: str) -> str:
    return hashlib.sha256(address.encode()).hexdigest()


@dataclass(frozen=True)
class Held:
    """What the cache holds for an address: its fresh answer, if any, the generation in
    force, and when its current body was first served (see core.api.conditional)."""

    answer: Answer | None
    generation: int
    seen: Any


def lookup(address: str, *, caching: bool) -> Held:
    """One round trip: the generation, the kept answer and the first-served record."""
    digest = _digest(address)
    answer_key, seen_key = ANSWER_KEY.format(digest=digest), SEEN_KEY.format(digest=digest)
    keys = [GENERATION_KEY, answer_key, seen_key] if caching else [seen_key]
    held = cache.get_many(keys)
    generation = held.get(GENERATION_KEY, 0)
    answer = held.get(answer_key)
    if not (isinstance(answer, Answer) and answer.generation == generation):
        answer = None
    return Held(answer, generation, held.get(seen_key))


def remember_first_served(address: str, seen: tuple[str, int]) -> None:
    cache.set(SEEN_KEY.format(digest=_digest(address)), seen, SEEN_TIMEOUT)


def keep(address: str, answer: Answer) -> None:
    key = ANSWER_KEY.format(digest=_digest(address))
    cache.set(key, answer, min(answer.max_age, SERVER_SECONDS))


def invalidate() -> None:
    """Retire every kept answer (they expire by themselves; none is served any more)."""
    cache.set(GENERATION_KEY, time.time_ns(), None)


@dataclass(frozen=True)
class Total:
    generation: int
    total: int
    computed: float  # time.time() when counted


def count(queryset: QuerySet[Any]) -> int:
    """``queryset.count()``, kept like an answer: every page of one list (each ordering,
    each page size) shares its total, which is the costly part of a page on a large table.

    A total is fresh for ``SERVER_SECONDS`` under the generation it was counted in. Once
    stale (older, or counted before an audited change), one request counts again while the
    others keep answering with the stale total, so a moderator's click never sends every
    list's ``COUNT(*)`` to the database at once; when there is no total at all, the others
    wait for the one counting (briefly) rather than all count the same rows.
    """
    if not enabled():
        return queryset.count()
    sql, params = queryset.order_by().query.sql_with_params()
    digest = hashlib.sha256(f"{sql}|{params!r}".encode()).hexdigest()
    key, lock = COUNT_KEY.format(digest=digest), COUNT_LOCK_KEY.format(digest=digest)
    held = cache.get_many([GENERATION_KEY, key])
    generation = held.get(GENERATION_KEY, 0)
    kept = held.get(key)
    kept = kept if isinstance(kept, Total) else None
    if kept and kept.generation == generation and time.time() - kept.computed < SERVER_SECONDS:
        return kept.total
    if cache.add(lock, 1, COUNT_LOCK_SECONDS):  # this request counts
        try:
            total = queryset.count()
            cache.set(key, Total(generation, total, time.time()), STALE_TOTAL_SECONDS)
        finally:
            cache.delete(lock)
        return total
    if kept:
        return kept.total  # another request is counting: the previous total meanwhile
    deadline = time.monotonic() + COUNT_LOCK_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.02)
        waited = cache.get(key)
        if isinstance(waited, Total):
            return waited.total
    return queryset.count()


def concerns_public_data(action: str) -> bool:
    return not action.startswith(PRIVATE_ACTIONS)
