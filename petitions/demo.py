"""Demo petitions for `make run`: about thirty, in every state, with signatures spread over
regions and days, and one just below its response threshold.

Rows are written directly (no emails); the stored counts come from the same recount the
nightly task runs, so the demo's counts are real counts of real rows.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.audit import record_event
from petitions.identity import normalise_email
from petitions.models import Petition, Region, Signature, ThresholdPolicy, Topic
from petitions.regions import DATA, FR_DEPARTEMENT, US_STATE
from petitions.services.counting import count_signatures, recount

TOPICS = [
    ("environment", "Environment", "Environnement"),
    ("transport", "Transport", "Transports"),
    ("health", "Health", "Santé"),
    ("education", "Education", "Éducation"),
    ("housing", "Housing", "Logement"),
    ("culture", "Culture", "Culture"),
    ("democracy", "Democracy", "Démocratie"),
    ("animals", "Animal welfare", "Bien-être animal"),
]

RESPONSE, CONSIDERATION = 1_000, 10_000
S = Petition.State


@dataclass(frozen=True)
class Demo:
    title: str
    summary: str
    topic: str
    language: str
    state: str
    signatures: int = 0
    days_open: int = 20
    reason: str = ""


def _demos() -> list[Demo]:
    """The demo petitions, one per row of data/demo_petitions.csv."""
    with (DATA / "demo_petitions.csv").open(encoding="utf-8", newline="") as handle:
        return [
            Demo(
                title=row["title"],
                summary=row["summary"],
                topic=row["topic"],
                language=row["language"],
                state=row["state"],
                signatures=int(row["signatures"]),
                days_open=int(row["days_open"]),
                reason=row["reason"],
            )
            for row in csv.DictReader(handle)
        ]


def _weights(regions: list[Region]) -> list[float]:
    return [float(region.population or 1) for region in regions]


@transaction.atomic
def load_demo_petitions(creator: Any, moderator: Any) -> int:
    """Create the demo petitions once; returns how many were created (0 when present)."""
    demos = _demos()
    if Petition.objects.filter(title=demos[0].title).exists():
        return 0
    rng = random.Random(2026)  # noqa: S311 - demo data, not security
    policy = ThresholdPolicy.current()
    policy.response_threshold, policy.consideration_threshold = RESPONSE, CONSIDERATION
    policy.save()
    topics = {
        slug: Topic.objects.update_or_create(slug=slug, defaults={"name_en": en, "name_fr": fr})[0]
        for slug, en, fr in TOPICS
    }
    departements = list(Region.objects.filter(kind=FR_DEPARTEMENT))
    states = list(Region.objects.filter(kind=US_STATE))
    now = timezone.now()
    for number, demo in enumerate(demos):
        petition = _petition(demo, creator, now)
        petition.topics.set([topics[demo.topic]])
        _history(petition, demo, moderator)
        _signatures(petition, demo, rng, departements, states, now, number)
    count_signatures()
    recount()
    return len(demos)


def _petition(demo: Demo, creator: Any, now: Any) -> Petition:
    opened = now - timedelta(days=demo.days_open)
    published = demo.state in (S.OPEN, S.CLOSED, S.HIDDEN)
    return Petition.objects.create(
        title=demo.title,
        summary=demo.summary,
        details=""
        if not published
        else ("## " + ("Pourquoi" if demo.language == "fr" else "Why") + "\n\n" + demo.summary),
        language=demo.language,
        creator=creator,
        creator_name=creator.display_name,
        state=demo.state,
        moderation_requested_at=opened - timedelta(days=3)
        if demo.state != S.COLLECTING_SUPPORTERS
        else None,
        opened_at=opened if published else None,
        deadline=opened + timedelta(days=182) if published else None,
        closed_at=now - timedelta(days=1) if demo.state == S.CLOSED else None,
        rejected_at=now - timedelta(days=2) if demo.state == S.REJECTED else None,
        hidden_at=now - timedelta(days=1) if demo.state == S.HIDDEN else None,
        rejection_reason=demo.reason,
        response_threshold=RESPONSE if published else None,
        consideration_threshold=CONSIDERATION if published else None,
    )


def _history(petition: Petition, demo: Demo, moderator: Any) -> None:
    if demo.state in (S.OPEN, S.CLOSED, S.HIDDEN):
        record_event("petition.opened", actor=moderator, target=petition)
    if demo.state == S.CLOSED:
        record_event("petition.closed", target=petition)
    if demo.state == S.REJECTED:
        record_event(
            "petition.rejected", actor=moderator, target=petition, data={"reason": demo.reason}
        )
    if demo.state == S.HIDDEN:
        record_event(
            "petition.hidden", actor=moderator, target=petition, data={"details": "Court order"}
        )


def _signatures(
    petition: Petition,
    demo: Demo,
    rng: random.Random,
    departements: list[Region],
    states: list[Region],
    now: Any,
    number: int,
) -> None:
    if not demo.signatures:
        return
    start = petition.opened_at or now - timedelta(days=1)
    span = max((min(now, petition.closed_at or now) - start).total_seconds(), 3600)
    french = rng.choices(departements, weights=_weights(departements), k=demo.signatures)
    american = rng.choices(states, weights=_weights(states), k=demo.signatures)
    rows = []
    for n in range(demo.signatures):
        in_us = rng.random() < 0.04
        region = american[n] if in_us else french[n]
        email = f"signer{number}-{n}@example.org"
        # Early days and the last days draw more signatures, as real petitions do.
        at = start + timedelta(seconds=span * rng.betavariate(0.7, 1.3))
        rows.append(
            Signature(
                petition=petition,
                name=f"Demo Signer {n}",
                email=email,
                email_normalised=normalise_email(email),
                country="US" if in_us else "FR",
                postcode=region.code if not in_us else "",
                region=region,
                language=demo.language,
                state=Signature.State.CONFIRMED,
                confirmed_at=at,
                wants_updates=rng.random() < 0.6,
                listed_publicly=rng.random() < 0.3,
                is_supporter=n < 5
                and demo.state in (S.COLLECTING_SUPPORTERS, S.AWAITING_MODERATION),
            )
        )
    Signature.objects.bulk_create(rows, batch_size=2000)
