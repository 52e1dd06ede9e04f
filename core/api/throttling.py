"""One rate limit for every open-data endpoint, per client address."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from core.ratelimits import Counter, Rate, client_ip, hit

clock = time.time  # the windows' clock (tests move it)


class OpenDataThrottle(BaseThrottle):
    """``API_RATE`` requests per client address in each window (``300/min``; empty: no limit).

    A fixed-window counter of core.ratelimits, as the signing limits are: one Redis round
    trip per request. DRF's AnonRateThrottle keeps the time of every request in the window
    as a list in the cache, read and written back whole on every request (300 entries at
    300/min). The rate is read on each request rather than at import, so settings can
    change it (and tests can lower it); the address is the one the site's other rate
    limits use, which trusts only our own proxies' X-Forwarded-For entries.
    """

    def __init__(self) -> None:
        self.retry_after: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        rate: str = settings.AGORA_API_RATE
        if not rate:
            return True
        counter = Counter("api.ip", client_ip(request._request), Rate.parse(rate))
        now = clock()
        (count,) = hit([counter], now)
        if count <= counter.rate.limit:
            return True
        self.retry_after = counter.window_end(now) - now
        return False

    def wait(self) -> float | None:
        """Seconds until this address's window starts again (DRF's Retry-After)."""
        return self.retry_after
