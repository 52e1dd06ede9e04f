"""Rate limits: the client's address behind our proxies, and fixed-window counters.

A limit such as "30/10m" allows at most 30 hits in each ten-minute window. With Redis,
every counter of a check is created and incremented by one Lua script: one round trip for
the whole check, where counting through Django's cache API takes three per counter (and
DRF's own throttle reads and writes back a list of every request's time). The signing
limits (petitions.ratelimits) and the open-data API's limit (core.api.throttling) count
this way. Without Redis (``make run``), the counters live in Django's cache.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from functools import cache as memoise
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from core import redis


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


# "30/10m", "200/h", and the words DRF's rates use too ("300/min", "5/second", "1/day").
_RATE = re.compile(
    r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd]|(?:sec|second|min|minute|hour|day)s?)\s*$",
    re.IGNORECASE,
)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int

    @classmethod
    @memoise
    def parse(cls, text: str) -> Rate:
        """``"30/10m"`` → at most 30 per 600 seconds; a typo fails loudly."""
        match = _RATE.match(text)
        if match is None:
            raise ValueError(f"Not a rate like '30/10m' or '200/h': {text!r}")
        count, multiple, unit = match.groups()
        return cls(int(count), int(multiple or 1) * _UNIT_SECONDS[unit[0].lower()])


@dataclass(frozen=True)
class Counter:
    group: str
    value: str
    rate: Rate

    def window_end(self, now: float) -> float:
        """When the window ``now`` falls in ends: the counter starts again from zero."""
        return (int(now) // self.rate.seconds + 1) * self.rate.seconds

    def key(self, now: float) -> str:
        window = int(now) // self.rate.seconds
        digest = hashlib.blake2b(self.value.encode(), digest_size=12).hexdigest()
        return f"agora:rl:{self.group}:{digest}:{self.rate.seconds}:{window}"


def hit(counters: list[Counter], now: float | None = None) -> list[int]:
    """Count one attempt on each counter; returns the counts including this one."""
    now = time.time() if now is None else now
    keys = [counter.key(now) for counter in counters]
    client = redis.client()
    if client is None:
        counts = []
        for counter, key in zip(counters, keys, strict=True):
            cache.add(key, 0, counter.rate.seconds)
            try:
                counts.append(cache.incr(key))
            except ValueError:  # expired between add and incr: this attempt opens a window
                cache.set(key, 1, counter.rate.seconds)
                counts.append(1)
        return counts
    seconds = [counter.rate.seconds for counter in counters]
    return [int(count) for count in redis.run_script(_count_script(client), keys, seconds)]


# Each key is incremented, and given its window's expiry when this attempt creates it: one
# command and one reply for all the counters (a pipeline costs the client several times
# more to pack and parse). The script is sent once; later calls name it by its digest.
_COUNT = """
local counts = {}
for i, key in ipairs(KEYS) do
    counts[i] = redis.call('INCR', key)
    if counts[i] == 1 then redis.call('EXPIRE', key, ARGV[i]) end
end
return counts
"""


@memoise
def _count_script(client: Any) -> Any:
    return client.register_script(_COUNT)
