"""One rate limit for every open-data endpoint, per client address."""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import AnonRateThrottle

from core.ratelimits import client_ip


class OpenDataThrottle(AnonRateThrottle):
    """``API_RATE`` requests per client address (e.g. ``300/min``; empty: no limit).

    The rate is read on each request rather than at import, so settings can change it (and
    tests can lower it); the address is the one the site's other rate limits use, which
    trusts only our own proxies' X-Forwarded-For entries.
    """

    scope = "open_data"

    def get_rate(self) -> str | None:
        rate: str = settings.AGORA_API_RATE
        return rate or None

    def get_ident(self, request: Request) -> str:
        return client_ip(request._request)
