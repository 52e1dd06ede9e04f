"""Signing limits per client address and per email domain.

The web form and the API both call ``signing_limited`` before the signing service, so the
same rules hold everywhere. Large mail providers are allow-listed for the domain limit:
their users are many and independent.

Each limit is a fixed-window counter ("30/10m": at most 30 attempts in each ten-minute
window). With Redis, every counter of an attempt is created and incremented by one Lua
script: one round trip for the whole check, where django-ratelimit (which counts through
Django's cache API) needs three per counter; during a surge this check runs on every
submission. Without Redis (``make run``), the counters live in Django's cache.
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
from core.ratelimits import client_ip
from petitions.identity import email_domain

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
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
        return cls(int(count), int(multiple or 1) * _UNIT_SECONDS[unit])


@dataclass(frozen=True)
class Counter:
    group: str
    value: str
    rate: Rate

    def key(self, now: float) -> str:
        window = int(now) // self.rate.seconds
        digest = hashlib.blake2b(self.value.encode(), digest_size=12).hexdigest()
        return f"agora:rl:{self.group}:{digest}:{self.rate.seconds}:{window}"


def signing_limited(request: HttpRequest, email: str) -> bool:
    """True when this attempt goes over a limit; every attempt counts towards them."""
    counters = [
        Counter("sign.ip", client_ip(request), Rate.parse(settings.AGORA_SIGNING_RATE_PER_IP))
    ]
    domain = email_domain(email)
    if domain not in settings.AGORA_SIGNING_DOMAIN_ALLOWLIST:
        counters.append(
            Counter("sign.domain", domain, Rate.parse(settings.AGORA_SIGNING_RATE_PER_DOMAIN))
        )
    return any(
        count > counter.rate.limit for counter, count in zip(counters, hit(counters), strict=True)
    )


def hit(counters: list[Counter]) -> list[int]:
    """Count one attempt on each counter; returns the counts including this one."""
    now = time.time()
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
