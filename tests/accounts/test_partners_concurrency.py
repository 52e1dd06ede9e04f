"""The monthly quota under concurrency, on PostgreSQL: threads racing for the last units."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from accounts import partners
from accounts.models import PartnerKey, PartnerUsage
from core.models import AuditEvent
from tests.conftest import require

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

QUOTA = 25
ATTEMPTS = 60
THREADS = 8


@pytest.fixture(autouse=True)
def _postgres():
    require(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://...)")


def _write(key_id: int) -> bool:
    try:
        partners.record_usage(PartnerKey.objects.get(pk=key_id), write=True)
        return True
    except partners.QuotaExceeded:
        return False
    finally:
        connections.close_all()  # each thread opened its own connection


def test_concurrent_writes_never_pass_the_quota_and_the_refusal_is_audited_once():
    key = partners.issue_key(
        actor=None,
        name="Racing partner",
        contact_name="R",
        contact_email="r@partner.example",
        use=PartnerKey.Use.SIGN,
        monthly_write_quota=QUOTA,
        rate_limit_per_minute=10_000,
    ).key
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        accepted = list(pool.map(_write, [key.pk] * ATTEMPTS))
    assert accepted.count(True) == QUOTA
    usage = PartnerUsage.objects.get(key=key)
    assert (usage.writes, usage.refused) == (QUOTA, ATTEMPTS - QUOTA)
    assert AuditEvent.objects.filter(action="partner_key.quota_reached").count() == 1
