"""Claiming rows of a work table (an outbox) so that two workers never take the same row.

A claim is a conditional UPDATE that writes a fresh token and a lease on rows nobody holds
(or whose holder's lease ran out); the claimer then reads back the rows carrying its token.
On PostgreSQL the candidate rows are also locked with SKIP LOCKED, so concurrent claimers
pick different rows instead of contending for the same ones.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TypeVar

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
    token = uuid.uuid4().hex
    with transaction.atomic():
        query = candidates.filter(free).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            query = query.select_for_update(skip_locked=True)
        ids = list(query.values_list("pk", flat=True)[:size])
        if not ids:
            return []
        # The conditional UPDATE is the claim: of two claimers, only one changes each row.
        candidates.filter(free, pk__in=ids).update(**{until_field: now + lease, token_field: token})
    return list(candidates.model._default_manager.filter(**{token_field: token}).order_by("pk"))
