"""The ``Agora-Signature`` header: ``t=<unix time>,v1=<hex HMAC-SHA256>``.

The HMAC covers ``f"{t}.{body}"`` with the endpoint's secret, so a receiver can check both
that the body is ours and that it is recent (replays of an old delivery fail the time
check). docs/webhooks.md shows a receiver doing exactly what ``verify`` does.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix that marks the secrets, not a secret)
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def header(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={signature(secret, t, body)}"


def verify(
    secret: str,
    body: bytes,
    value: str,
    *,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True if ``value`` (the header) signs ``body`` with ``secret`` within ``tolerance``."""
    fields: dict[str, list[str]] = {}
    for item in value.split(","):
        key, _sep, field = item.strip().partition("=")
        fields.setdefault(key, []).append(field)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in fields.get("v1", []))
