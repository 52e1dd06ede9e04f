"""Signing limits per client address and per email domain.

The web form and the API both call ``signing_limited`` before the signing service, so the
same rules hold everywhere. Large mail providers are allow-listed for the domain limit:
their users are many and independent.

Each limit is a fixed-window counter of core.ratelimits ("30/10m": at most 30 attempts in
each ten-minute window), every counter of an attempt counted in one Redis round trip:
during a surge this check runs on every submission.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from core.ratelimits import Counter, Rate, client_ip, hit
from petitions.identity import email_domain


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
