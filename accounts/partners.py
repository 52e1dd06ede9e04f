"""Partner API keys: issuing, rotating, revoking, authenticating, and counting their use.

A key reads ``agora_<prefix>_<secret>``. Only its SHA-256 is stored: keys are long random
strings, so a plain hash cannot be reversed by guessing, and a lookup by hash (a unique
index) finds the key without ever comparing secrets in Python. The full key is returned
once, by ``issue_key`` and ``rotate_key``, for the administrator to hand over.

Audit events: issuing, rotating and revoking each record one; a key reaching its monthly
quota records one per month (claimed by a conditional UPDATE). Ordinary requests are
counted on the usage row, not audited: an audit row per API call would double the writes
of a partner's campaign, as it would for signatures (see petitions.services.signing).
"""

from __future__ import annotations

import calendar
import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import PartnerKey, PartnerSignature, PartnerUsage
from core.audit import record_event
from core.errors import InvalidTransition, RateLimited

KEY_PREFIX = "agora_"
PREFIX_BYTES = 4  # 8 hex characters: enough to tell keys apart on a list
SECRET_BYTES = 32


class InvalidKey(Exception):
    """No active key matches: missing, unknown, rotated away or revoked."""


class QuotaExceeded(RateLimited):
    code = "quota_exceeded"
    default_message = _("This key has used its signatures for this month.")


@dataclass(frozen=True)
class IssuedKey:
    """A key row and its full secret, which exists only in this object."""

    key: PartnerKey
    secret: str


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _new_secret() -> tuple[str, str]:
    """A fresh (prefix, full key) pair."""
    prefix = secrets.token_hex(PREFIX_BYTES)
    return prefix, f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"


@transaction.atomic
def issue_key(
    *,
    actor: Any,
    name: str,
    contact_name: str,
    contact_email: str,
    use: str,
    description: str = "",
    country: str = "FR",
    monthly_write_quota: int = 10_000,
    rate_limit_per_minute: int = 60,
) -> IssuedKey:
    """Create a key and return it with its secret (shown once; only its hash is kept)."""
    prefix, raw = _new_secret()
    key = PartnerKey.objects.create(
        name=name,
        contact_name=contact_name,
        contact_email=contact_email,
        use=use,
        description=description,
        country=country.upper(),
        monthly_write_quota=monthly_write_quota,
        rate_limit_per_minute=rate_limit_per_minute,
        prefix=prefix,
        secret_hash=hash_key(raw),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record_event(
        "partner_key.issued",
        actor=actor,
        target=key,
        data={"name": name, "prefix": prefix, "use": use},
    )
    return IssuedKey(key, raw)


@transaction.atomic
def rotate_key(key: PartnerKey, *, actor: Any) -> IssuedKey:
    """Give the key a new secret; the old one stops working at once.

    Claimed by a conditional UPDATE on the current hash, so of two administrators rotating
    at once, one wins and the other is told the key changed meanwhile.
    """
    prefix, raw = _new_secret()
    now = timezone.now()
    changed = PartnerKey.objects.filter(
        pk=key.pk, revoked_at__isnull=True, secret_hash=key.secret_hash
    ).update(prefix=prefix, secret_hash=hash_key(raw), rotated_at=now)
    if not changed:
        raise InvalidTransition(_("This key was revoked or rotated meanwhile."))
    old_prefix = key.prefix
    key.prefix, key.secret_hash, key.rotated_at = prefix, hash_key(raw), now
    record_event(
        "partner_key.rotated",
        actor=actor,
        target=key,
        data={"old_prefix": old_prefix, "prefix": prefix},
    )
    return IssuedKey(key, raw)


@transaction.atomic
def revoke_key(key: PartnerKey, *, actor: Any) -> PartnerKey:
    """Revoke for good (conditional UPDATE: revoking twice records one event)."""
    now = timezone.now()
    if not PartnerKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now):
        raise InvalidTransition(_("This key is already revoked."))
    key.revoked_at = now
    record_event("partner_key.revoked", actor=actor, target=key, data={"prefix": key.prefix})
    return key


def authenticate_key(raw: str | None) -> PartnerKey:
    """The active key for ``raw``, or InvalidKey. Reads only; nothing is recorded."""
    if not raw or not raw.startswith(KEY_PREFIX):
        raise InvalidKey
    key = PartnerKey.objects.filter(secret_hash=hash_key(raw), revoked_at__isnull=True).first()
    if key is None:
        raise InvalidKey
    return key


def month_start(moment: datetime | None = None) -> date:
    moment = (moment or timezone.now()).astimezone(UTC)
    return moment.date().replace(day=1)


def _seconds_to_next_month(moment: datetime) -> int:
    moment = moment.astimezone(UTC)
    days = calendar.monthrange(moment.year, moment.month)[1]
    start = datetime(moment.year, moment.month, 1, tzinfo=UTC)
    return max(1, int((start + timedelta(days=days) - moment).total_seconds()))


def check_rate(key: PartnerKey) -> None:
    """Count a request in the key's one-minute window (the shared cache; ``incr`` is atomic
    in Redis); RateLimited past ``rate_limit_per_minute``. Every request of a key counts,
    even one refused later for a bad field."""
    now = time.time()
    window = int(now // 60)
    name = f"agora:partner-rate:{key.pk}:{window}"
    cache.add(name, 0, 120)
    try:
        count = cache.incr(name)
    except ValueError:  # evicted between add and incr
        cache.set(name, 1, 120)
        count = 1
    if count > key.rate_limit_per_minute:
        raise RateLimited(
            _("This key made too many requests this minute."),
            retry_after=max(1, 60 - int(now % 60)),
        )


def record_usage(key: PartnerKey, *, write: bool) -> None:
    """Count one request by ``key`` on this month's row; QuotaExceeded when over quota.

    A write (a submitted signature) takes one unit of the month's quota by a conditional
    UPDATE, so the quota holds under concurrent requests. The first refusal of a month
    records one ``partner_key.quota_reached`` event, claimed the same way.
    """
    now = timezone.now()
    month = month_start(now)
    usage, _created = PartnerUsage.objects.get_or_create(key=key, month=month)
    rows = PartnerUsage.objects.filter(pk=usage.pk)
    if not write:
        rows.update(reads=F("reads") + 1)
        return
    if rows.filter(writes__lt=key.monthly_write_quota).update(writes=F("writes") + 1):
        return
    rows.update(refused=F("refused") + 1)
    with transaction.atomic():
        if rows.filter(quota_reached_at__isnull=True).update(quota_reached_at=now):
            record_event(
                "partner_key.quota_reached",
                target=key,
                data={"month": month.isoformat(), "quota": key.monthly_write_quota},
            )
    raise QuotaExceeded(retry_after=_seconds_to_next_month(now))


def link_signature(key: PartnerKey, signature_id: int) -> bool:
    """Remember that ``key`` submitted the signature; the first key to submit it keeps it."""
    _link, created = PartnerSignature.objects.get_or_create(
        signature_id=signature_id, defaults={"key": key}
    )
    return created


def usage_this_month(keys: list[PartnerKey]) -> dict[int, PartnerUsage]:
    """{key id: this month's usage row} for a list page, in one query."""
    rows = PartnerUsage.objects.filter(key__in=keys, month=month_start())
    return {row.key_id: row for row in rows}
