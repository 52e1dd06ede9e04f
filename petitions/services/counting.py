"""Counting that survives a surge (PRODUCT.md section 6).

Confirming a signature writes only the signature row. This module, run every couple of
seconds by one worker at a time, folds the rows whose ``counted`` flag disagrees with their
state into the stored counts (petition, region and its parents, country, hour), checks
the thresholds in the same transaction, and claims each crossing exactly once.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from core.audit import record_event
from core.background import enqueue_on_commit
from core.locks import exclusive
from petitions.models import CountryCount, HourlyCount, Petition, RegionCount, Signature
from petitions.places import ancestors
from petitions.thresholds import COUNTRY_KIND, Threshold

logger = logging.getLogger(__name__)

CountModel = TypeVar("CountModel", RegionCount, CountryCount, HourlyCount)

LOCK = "petitions.count_signatures"
BATCH = 5000


@dataclass
class Deltas:
    petitions: Counter[int] = field(default_factory=Counter)
    regions: Counter[tuple[int, int]] = field(default_factory=Counter)
    countries: Counter[tuple[int, str]] = field(default_factory=Counter)
    hours: Counter[tuple[int, datetime]] = field(default_factory=Counter)


def count_signatures(*, batch: int = BATCH) -> int | None:
    """Fold every uncounted change into the stored counts; returns rows folded.

    Returns None without doing anything when another process holds the lock. Each batch is
    one transaction: counts, ``counted`` flags and threshold claims commit together, so a
    crash loses nothing and counts nothing twice.
    """
    with exclusive(LOCK) as acquired:
        if not acquired:
            return None
        total = 0
        while True:
            folded = _fold_batch(batch)
            total += folded
            if folded < batch:
                return total


@transaction.atomic
def _fold_batch(batch: int) -> int:
    rows = list(
        Signature.objects.filter(
            Q(state=Signature.State.CONFIRMED, counted=False)
            | (Q(counted=True) & ~Q(state=Signature.State.CONFIRMED))
        ).values("id", "petition_id", "region_id", "country", "confirmed_at", "counted")[:batch]
    )
    if not rows:
        return 0
    chains = ancestors({row["region_id"] for row in rows if row["region_id"]})
    deltas = Deltas()
    for row in rows:
        sign = -1 if row["counted"] else 1
        petition_id = row["petition_id"]
        deltas.petitions[petition_id] += sign
        for region_id in chains.get(row["region_id"], []):
            deltas.regions[petition_id, region_id] += sign
        deltas.countries[petition_id, row["country"]] += sign
        if row["confirmed_at"] is not None:
            hour = row["confirmed_at"].replace(minute=0, second=0, microsecond=0)
            deltas.hours[petition_id, hour] += sign
    _apply(deltas)
    Signature.objects.filter(id__in=[r["id"] for r in rows if not r["counted"]]).update(
        counted=True
    )
    Signature.objects.filter(id__in=[r["id"] for r in rows if r["counted"]]).update(counted=False)
    for petition_id in deltas.petitions:
        check_thresholds(petition_id)
    return len(rows)


def _apply(deltas: Deltas) -> None:
    """One UPDATE per petition and per counter row touched, never one per signature."""
    now = timezone.now()
    for petition_id, delta in deltas.petitions.items():
        Petition.objects.filter(pk=petition_id).update(
            signature_count=F("signature_count") + delta, counted_at=now
        )
    _upsert(RegionCount, "region_id", deltas.regions)
    _upsert(CountryCount, "country", deltas.countries)
    _upsert(HourlyCount, "hour", deltas.hours)


def _upsert(model: type[CountModel], key: str, deltas: Counter[tuple[int, Any]]) -> None:
    """Add the deltas to existing rows and create the missing ones (we hold the lock)."""
    if not deltas:
        return
    petition_ids = {petition_id for petition_id, _ in deltas}
    keys = {value for _, value in deltas}
    existing = {
        (row.petition_id, getattr(row, key)): row
        for row in model.objects.filter(petition_id__in=petition_ids, **{f"{key}__in": keys})
    }
    changed: list[CountModel] = []
    created: list[CountModel] = []
    for (petition_id, value), delta in deltas.items():
        if not delta:
            continue
        row = existing.get((petition_id, value))
        if row is None:
            created.append(model(petition_id=petition_id, count=delta, **{key: value}))
        else:
            row.count += delta
            changed.append(row)
    model.objects.bulk_update(changed, ["count"], batch_size=1000)
    model.objects.bulk_create(created, batch_size=1000)


def territory_counts(petition_id: int, region_kind: str) -> list[tuple[int, int | None]]:
    """(count, population) for each region of ``region_kind`` the petition was signed from."""
    if region_kind == COUNTRY_KIND:
        from petitions.models import Country

        populations = dict(Country.objects.values_list("code", "population"))
        return [
            (count, populations.get(code))
            for code, count in CountryCount.objects.filter(
                petition_id=petition_id, count__gt=0
            ).values_list("country", "count")
        ]
    return list(
        RegionCount.objects.filter(
            petition_id=petition_id, region__kind=region_kind, count__gt=0
        ).values_list("count", "region__population")
    )


def _met(petition: Petition, rule: Threshold) -> bool:
    regions = territory_counts(petition.pk, rule.territory.region_kind) if rule.territory else []
    return rule.is_met(petition.signature_count, regions)


def check_thresholds(petition_id: int) -> None:
    """Claim each threshold the petition now meets, exactly once (conditional UPDATE).

    Only the caller whose UPDATE changed the row records the event and enqueues the
    routing, after commit; a concurrent or repeated check changes nothing.
    """
    petition = Petition.objects.get(pk=petition_id)
    now = timezone.now()
    response = petition.response_rule()
    if (
        response is not None
        and petition.response_threshold_reached_at is None
        and _met(petition, response)
    ):
        claimed = Petition.objects.filter(
            pk=petition_id, response_threshold_reached_at__isnull=True
        ).update(response_threshold_reached_at=now, response_state=Petition.ResponseState.AWAITING)
        if claimed:
            _announce(petition, "response", now)
    consideration = petition.consideration_rule()
    if (
        consideration is not None
        and petition.consideration_threshold_reached_at is None
        and _met(petition, consideration)
    ):
        claimed = Petition.objects.filter(
            pk=petition_id, consideration_threshold_reached_at__isnull=True
        ).update(
            consideration_threshold_reached_at=now,
            consideration_state=Petition.ConsiderationState.AWAITING,
        )
        if claimed:
            _announce(petition, "consideration", now)


def _announce(petition: Petition, threshold: str, now: datetime) -> None:
    from petitions.tasks import announce_threshold, route_petition

    record_event(
        f"petition.{threshold}_threshold_reached",
        target=petition,
        data={"signature_count": petition.signature_count, "at": now.isoformat()},
    )
    # Both after commit, outside the counting transaction: an email that fails to render
    # must never hold the counts back.
    enqueue_on_commit(announce_threshold, petition.pk, threshold)
    enqueue_on_commit(route_petition, petition.pk, threshold)


def recount(*, petition_ids: list[int] | None = None) -> list[dict[str, object]]:
    """Rebuild every stored count from the rows; returns the corrections made.

    Runs under the counting lock (waiting for it is the caller's business: the nightly task
    retries). Rows are first marked ``counted`` to match their state, so the stored counts
    and the flags agree again even if something wrote around the counting task.
    """
    corrections: list[dict[str, object]] = []
    with exclusive(LOCK) as acquired:
        if not acquired:
            raise RecountBusy
        queryset = Petition.objects.all()
        if petition_ids is not None:
            queryset = queryset.filter(pk__in=petition_ids)
        for petition_id in queryset.values_list("pk", flat=True).iterator():
            correction = _recount_one(petition_id)
            if correction:
                corrections.append(correction)
    return corrections


class RecountBusy(Exception):
    """The counting task holds the lock; try again shortly."""


@transaction.atomic
def _recount_one(petition_id: int) -> dict[str, object] | None:
    confirmed = Signature.objects.filter(petition_id=petition_id, state=Signature.State.CONFIRMED)
    Signature.objects.filter(petition_id=petition_id).exclude(
        state=Signature.State.CONFIRMED
    ).filter(counted=True).update(counted=False)
    confirmed.filter(counted=False).update(counted=True)
    actual = confirmed.count()
    stored = Petition.objects.filter(pk=petition_id).values_list("signature_count", flat=True)[0]

    regions: Counter[int] = Counter()
    per_region = dict(_grouped(confirmed.exclude(region=None), "region_id"))
    chains = ancestors(set(per_region))
    for region_id, n in per_region.items():
        for ancestor in chains[region_id]:
            regions[ancestor] += n
    countries: Counter[str] = Counter(dict(_grouped(confirmed, "country")))
    hours: Counter[datetime] = Counter(
        dict(_grouped(confirmed.exclude(confirmed_at=None), TruncHour("confirmed_at", tzinfo=UTC)))
    )

    _replace(RegionCount, "region_id", petition_id, regions)
    _replace(CountryCount, "country", petition_id, countries)
    _replace(HourlyCount, "hour", petition_id, hours)
    Petition.objects.filter(pk=petition_id).update(
        signature_count=actual, counted_at=timezone.now()
    )
    check_thresholds(petition_id)
    if actual == stored:
        return None
    logger.warning("Recount corrected petition %s: %s -> %s", petition_id, stored, actual)
    record_event(
        "petition.recounted",
        target=Petition(pk=petition_id),
        data={"stored": stored, "actual": actual},
    )
    return {"petition": petition_id, "stored": stored, "actual": actual}


def _grouped(queryset: QuerySet[Signature], by: str | TruncHour) -> list[tuple[Any, int]]:
    """[(value, number of rows)] grouped by a field or an expression, in the database."""
    return list(
        queryset.order_by()
        .values(key=F(by) if isinstance(by, str) else by)
        .annotate(n=Count("id"))
        .values_list("key", "n")
    )


def _replace(model: type[CountModel], key: str, petition_id: int, counts: Counter[Any]) -> None:
    model.objects.filter(petition_id=petition_id).delete()
    model.objects.bulk_create(
        [model(petition_id=petition_id, count=n, **{key: value}) for value, n in counts.items()],
        batch_size=1000,
    )
