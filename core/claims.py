"""Claiming rows of a work table (an outbox) so that two workers never take the same row.

A claim is a conditional UPDATE that writes a fresh token and a lease on rows nobody holds
(or whose holder's lease ran out); the claimer then reads back the rows carrying its token.
On PostgreSQL the candidate rows are also locked with SKIP LOCKED, so concurrent claimers
pick different rows instead of contending for the same ones.

A token starts with the name of the Celery worker that claimed (``mail@host/…``). A worker
that was killed leaves its claims until their lease runs out (minutes, so that a slow SMTP
server never sees a live batch taken over); when a worker of the same name starts again,
its previous life is certainly over, and ``release_claims_of`` frees them at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

M = TypeVar("M", bound=models.Model)


def claim_rows(
    candidates: models.QuerySet[M],
    *,
    size: int,
    lease: timedelta,
    token_field: str = "claim_token",  # noqa: S107 - a column name, not a secret
    until_field: str = "claimed_until",
) -> list[M]:
    """Claim up to ``size`` of ``candidates`` (oldest id first) for ``lease``; return them."""
    now = timezone.now()
    free = Q(**{f"{until_field}__isnull": True}) | Q(**{f"{until_field}__lt": now})
    owner = claim_owner()
    token = f"{owner}/{uuid.uuid4().hex}" if owner else uuid.uuid4().hex
    with transaction.atomic():
        query = candidates.filter(free).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            query = query.select_for_update(skip_locked=True)
        ids = list(query.values_list("pk", flat=True)[:size])
        if not ids:
            return []
        # The conditional UPDATE is the claim: of two claimers, only one changes each row.
        candidates.filter(free, pk__in=ids).update(**{until_field: now + lease, token_field: token})
    # Read back by primary key: the token column needs no index (an index on it would be
    # written on every claim and every release, for nothing).
    return list(
        candidates.model._default_manager.filter(pk__in=ids, **{token_field: token}).order_by("pk")
    )


def claim_owner() -> str:
    """The Celery worker running this code (its node name), or "" outside a worker."""
    from celery import current_task

    request = getattr(current_task, "request", None)
    return str(getattr(request, "hostname", "") or "")


@dataclass(frozen=True)
class ClaimedTable:
    """A work table whose rows are claimed: which rows, and its token and lease columns."""

    candidates: Callable[[], models.QuerySet[Any]]
    token_field: str = "claim_token"  # noqa: S105 - a column name, not a secret
    until_field: str = "claimed_until"


CLAIMED_TABLES: list[ClaimedTable] = []


def release_claims_of(owner: str) -> int:
    """Free every row claimed by the worker named ``owner`` (which has just started again)."""
    if not owner:
        return 0
    released = 0
    for table in CLAIMED_TABLES:
        released += (
            table.candidates()
            .filter(**{f"{table.token_field}__startswith": f"{owner}/"})
            .update(**{table.token_field: "", table.until_field: None})
        )
    return released
