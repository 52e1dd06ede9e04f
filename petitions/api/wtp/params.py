"""Query parameters as the We the People API v1 read them; a bad one is a 400 naming it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.http import QueryDict
from django.urls import Resolver404, resolve

from petitions.api.wtp.envelope import BAD_URL, WtpError

DEFAULT_LIMIT = 10
MAX_LIMIT = 1000
TRUE = frozenset({"1", "true", "yes"})
FALSE = frozenset({"0", "false", "no"})
MAX_INT = 2**31 - 1


def bad(name: str, expected: str) -> WtpError:
    return WtpError(400, f"Invalid value for the parameter {name}: {expected}.")


def integer(query: QueryDict, name: str, *, minimum: int = 0) -> int | None:
    raw = query.get(name, "").strip()
    if raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise bad(name, "expected a whole number") from None
    if not minimum <= value <= MAX_INT:
        raise bad(name, f"expected a whole number from {minimum} to {MAX_INT}")
    return value


def boolean(query: QueryDict, name: str) -> bool | None:
    raw = query.get(name, "").strip().lower()
    if raw == "":
        return None
    if raw in TRUE:
        return True
    if raw in FALSE:
        return False
    raise bad(name, "expected 1 or 0 (true or false)")


def timestamp(query: QueryDict, name: str) -> datetime | None:
    """Unix seconds, as every WTP time is."""
    value = integer(query, name)
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


def choice(query: QueryDict, name: str, options: tuple[str, ...]) -> str | None:
    raw = query.get(name, "").strip()
    if raw == "":
        return None
    if raw.lower() not in options:
        raise bad(name, "expected one of " + ", ".join(options))
    return raw.lower()


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int

    def slice(self, items: Any) -> Any:
        return items[self.offset : self.offset + self.limit]


def page(query: QueryDict) -> Page:
    """``limit`` (default 10, at most 1000: a larger one is capped) and ``offset``."""
    limit = integer(query, "limit")
    offset = integer(query, "offset")
    return Page(
        DEFAULT_LIMIT if limit is None else min(limit, MAX_LIMIT),
        0 if offset is None else offset,
    )


def petition_id_from_url(raw: str) -> int:
    """The id of the petition at ``raw``, one of this site's petition addresses, or 88."""
    parsed = urlparse(raw.strip())
    site = urlparse(settings.SITE_URL)
    if parsed.netloc and parsed.netloc.lower() != site.netloc.lower():
        raise WtpError(
            400, "The url parameter is not a petition address of this site.", code=BAD_URL
        )
    try:
        match = resolve(parsed.path or "/")
    except Resolver404:
        match = None
    if match is None or match.view_name != "petitions:detail":
        raise WtpError(
            400, "The url parameter is not a petition address of this site.", code=BAD_URL
        )
    return int(match.kwargs["pk"])
