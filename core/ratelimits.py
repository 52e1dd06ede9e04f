"""The client's address for rate limits, behind as many proxies as TRUSTED_PROXY_COUNT."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the address the N-th trusted proxy saw in X-Forwarded-For.

    Only the entries our own proxies appended are trusted: a client can write anything at
    the left of the header, so we count from the right.
    """
    proxies: int = settings.TRUSTED_PROXY_COUNT
    remote: str = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104 - a key, not a bind
    if proxies <= 0:
        return remote
    header: str = request.META.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = [part.strip() for part in header.split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote
    return forwarded[-proxies]
