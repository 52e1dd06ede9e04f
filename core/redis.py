"""One Redis client per process, for the few hot paths that talk to Redis directly.

Django's cache API costs a few Python layers per command, and creates a client object per
operation; the signing path's counters and latch need one round trip each and nothing
more. Without REDIS_URL (``make run``), ``client()`` is None and callers use Django's cache.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings


@cache
def client() -> Any:
    url: str = settings.REDIS_URL
    if not url:
        return None
    import redis

    return redis.Redis.from_url(url)  # thread-safe: a connection pool per process
