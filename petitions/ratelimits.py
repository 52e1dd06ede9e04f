"""Signing limits per client address and per email domain (django-ratelimit counters).

The web form and the API both call ``signing_limited`` before the signing service, so the
same rules hold everywhere. Large mail providers are allow-listed for the domain limit:
their users are many and independent.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

from petitions.identity import email_domain


def signing_limited(request: HttpRequest, email: str) -> bool:
    """True when this attempt goes over a limit; every attempt counts towards them."""
    by_ip = is_ratelimited(
        request,
        group="petitions.sign.ip",
        key="ip",
        rate=settings.AGORA_SIGNING_RATE_PER_IP,
        increment=True,
    )
    domain = email_domain(email)
    if domain in settings.AGORA_SIGNING_DOMAIN_ALLOWLIST:
        return bool(by_ip)
    by_domain = is_ratelimited(
        request,
        group="petitions.sign.domain",
        key=lambda _group, _request: domain,
        rate=settings.AGORA_SIGNING_RATE_PER_DOMAIN,
        increment=True,
    )
    return bool(by_ip or by_domain)
