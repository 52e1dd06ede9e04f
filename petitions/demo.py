"""Demo petitions for `make run`: about thirty, in every state, with signatures spread over
regions and days, and one just below its response threshold.

Rows are written directly (no emails); the stored counts come from the same recount the
nightly task runs, so the demo's counts are real counts of real rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.audit import record_event
from petitions.identity import normalise_email
from petitions.models import Petition, Region, Signature, ThresholdPolicy, Topic
from petitions.regions import FR_DEPARTEMENT, US_STATE
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


DEMOS = [
    Demo(
        "Plant a million trees in our cities by 2030",
        "Trees cool streets in heatwaves, clean the air and give shade to schools and hospitals.",
        "environment",
        "en",
        S.OPEN,
        1_740,
        40,
    ),  # noqa: E501
    Demo(
        "Rendre les transports en commun gratuits pour les moins de 26 ans",
        "Les jeunes doivent pouvoir se déplacer pour étudier et travailler sans que le coût du transport soit un frein.",
        "transport",
        "fr",
        S.OPEN,
        996,
        25,
    ),  # noqa: E501
    Demo(
        "Ban single-use plastic in public buildings",
        "Public bodies should lead by example and stop buying single-use plastic cups, bottles and cutlery.",
        "environment",
        "en",
        S.OPEN,
        640,
        12,
    ),  # noqa: E501
    Demo(
        "Ouvrir les bibliothèques municipales le dimanche",
        "Beaucoup de personnes travaillent en semaine : les bibliothèques doivent ouvrir quand elles sont libres.",
        "culture",
        "fr",
        S.OPEN,
        410,
        30,
    ),  # noqa: E501
    Demo(
        "Fund school nurses in every secondary school",
        "Every pupil should be able to see a nurse during the school day.",
        "health",
        "en",
        S.OPEN,
        380,
        9,
    ),  # noqa: E501
    Demo(
        "Créer des pistes cyclables sécurisées entre les villages",
        "Les routes départementales sont dangereuses pour les cyclistes ; des pistes séparées sauveraient des vies.",
        "transport",
        "fr",
        S.OPEN,
        270,
        15,
    ),  # noqa: E501
    Demo(
        "Publish every public contract as open data",
        "Citizens should be able to see who is paid public money and for what.",
        "democracy",
        "en",
        S.OPEN,
        150,
        6,
    ),  # noqa: E501
    Demo(
        "Interdire la vente de chiots en animalerie",
        "La vente en animalerie encourage l'élevage intensif et les achats impulsifs.",
        "animals",
        "fr",
        S.OPEN,
        95,
        4,
    ),  # noqa: E501
    Demo(
        "Cap rents near universities",
        "Students spend more than half their income on rent near campus.",
        "housing",
        "en",
        S.OPEN,
        60,
        3,
    ),  # noqa: E501
    Demo(
        "Installer des fontaines d'eau potable dans les parcs",
        "Avec les canicules, l'accès à l'eau dans l'espace public est une question de santé.",
        "health",
        "fr",
        S.OPEN,
        33,
        2,
    ),  # noqa: E501
    Demo(
        "Teach first aid in every school",
        "A few hours of training in school would give everyone the skills to save a life.",
        "education",
        "en",
        S.OPEN,
        12,
        1,
    ),  # noqa: E501
    Demo(
        "Allonger les horaires des crèches publiques",
        "Les parents qui travaillent tôt ou tard n'ont aucune solution de garde.",
        "education",
        "fr",
        S.OPEN,
        4,
        1,
    ),  # noqa: E501
    Demo(
        "Protect hedgerows on farmland",
        "Hedgerows shelter birds and insects and hold the soil together.",
        "environment",
        "en",
        S.CLOSED,
        1_230,
        182,
    ),  # noqa: E501
    Demo(
        "Baisser la TVA sur les billets de train",
        "Le train doit être moins cher que l'avion pour les trajets intérieurs.",
        "transport",
        "fr",
        S.CLOSED,
        820,
        182,
    ),  # noqa: E501
    Demo(
        "Free museum entry on the first Sunday of the month",
        "Culture should be open to everyone, whatever their income.",
        "culture",
        "en",
        S.CLOSED,
        300,
        182,
    ),  # noqa: E501
    Demo(
        "Garantir un médecin traitant à chaque habitant",
        "Des millions de personnes n'ont pas de médecin traitant.",
        "health",
        "fr",
        S.CLOSED,
        45,
        182,
    ),  # noqa: E501
    Demo(
        "Build more social housing",
        "This already exists as an open petition.",
        "housing",
        "en",
        S.REJECTED,
        reason=Petition.RejectionReason.DUPLICATE,
    ),  # noqa: E501
    Demo(
        "Supprimer le permis de conduire",
        "Le permis ne sert à rien.",
        "transport",
        "fr",
        S.REJECTED,
        reason=Petition.RejectionReason.UNCLEAR,
    ),  # noqa: E501
    Demo(
        "Buy our miracle water filters for every school",
        "Visit our shop for a discount code.",
        "education",
        "en",
        S.REJECTED,
        reason=Petition.RejectionReason.ADVERTISING,
    ),  # noqa: E501
    Demo(
        "Change the rules of a foreign parliament",
        "We want another country's parliament to change its voting system.",
        "democracy",
        "en",
        S.REJECTED,
        reason=Petition.RejectionReason.NOT_RESPONSIBLE,
    ),  # noqa: E501
    Demo(
        "Petition taken down after a court order",
        "Its text is no longer shown.",
        "democracy",
        "en",
        S.HIDDEN,
        120,
        10,
    ),  # noqa: E501
    Demo(
        "Limiter la publicité lumineuse la nuit",
        "Les écrans publicitaires allumés toute la nuit gaspillent l'énergie.",
        "environment",
        "fr",
        S.AWAITING_MODERATION,
        6,
    ),  # noqa: E501
    Demo(
        "Make bus stops accessible to wheelchair users",
        "Many stops have no dropped kerb or shelter.",
        "transport",
        "en",
        S.AWAITING_MODERATION,
        6,
    ),  # noqa: E501
    Demo(
        "Protect urban allotments from development",
        "Allotments feed families and build communities.",
        "environment",
        "en",
        S.AWAITING_MODERATION,
        6,
    ),  # noqa: E501
    Demo(
        "Des cantines scolaires 100 % bio et locales",
        "Les enfants méritent une alimentation saine et les agriculteurs locaux des débouchés.",
        "education",
        "fr",
        S.COLLECTING_SUPPORTERS,
        3,
    ),  # noqa: E501
    Demo(
        "Longer opening hours for public swimming pools",
        "Pools close too early for people who work.",
        "health",
        "en",
        S.COLLECTING_SUPPORTERS,
        2,
    ),  # noqa: E501
    Demo(
        "Créer un budget participatif national",
        "Les citoyens doivent pouvoir décider d'une partie des investissements publics.",
        "democracy",
        "fr",
        S.COLLECTING_SUPPORTERS,
        1,
    ),  # noqa: E501
    Demo(
        "Require microchips for all cats",
        "Lost cats could be returned home quickly.",
        "animals",
        "en",
        S.OPEN,
        20,
        5,
    ),  # noqa: E501
    Demo(
        "Encadrer les loyers dans toutes les grandes villes",
        "Les loyers ont augmenté bien plus vite que les salaires.",
        "housing",
        "fr",
        S.OPEN,
        1_080,
        60,
    ),  # noqa: E501
    Demo(
        "Light up every pedestrian crossing at night",
        "Most accidents at crossings happen in the dark.",
        "transport",
        "en",
        S.OPEN,
        200,
        8,
    ),  # noqa: E501
]


def _weights(regions: list[Region]) -> list[float]:
    return [float(region.population or 1) for region in regions]


@transaction.atomic
def load_demo_petitions(creator: Any, moderator: Any) -> int:
    """Create the demo petitions once; returns how many were created (0 when present)."""
    if Petition.objects.filter(title=DEMOS[0].title).exists():
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
    for number, demo in enumerate(DEMOS):
        petition = _petition(demo, creator, now)
        petition.topics.set([topics[demo.topic]])
        _history(petition, demo, moderator)
        _signatures(petition, demo, rng, departements, states, now, number)
    count_signatures()
    recount()
    return len(DEMOS)


def _petition(demo: Demo, creator: Any, now: Any) -> Petition:
    opened = now - timedelta(days=demo.days_open)
    published = demo.state in (S.OPEN, S.CLOSED, S.HIDDEN)
    return Petition.objects.create(
        title=demo.title,
        summary=demo.summary,
        details="" if not published else (
            "## " + ("Pourquoi" if demo.language == "fr" else "Why") + "\n\n" + demo.summary
        ),
        language=demo.language,
        creator=creator,
        creator_name=creator.display_name,
        state=demo.state,
        moderation_requested_at=opened - timedelta(days=3)
        if demo.state != S.COLLECTING_SUPPORTERS else None,
        opened_at=opened if published else None,
        deadline=opened + timedelta(days=182) if published else None,
        closed_at=now - timedelta(days=1) if demo.state == S.CLOSED else None,
        rejected_at=now - timedelta(days=2) if demo.state == S.REJECTED else None,
        hidden_at=now - timedelta(days=1) if demo.state == S.HIDDEN else None,
        rejection_reason=demo.reason,
        response_threshold=RESPONSE if published else None,
        consideration_threshold=CONSIDERATION if published else None,
    )  # fmt: skip


def _history(petition: Petition, demo: Demo, moderator: Any) -> None:
    if demo.state in (S.OPEN, S.CLOSED, S.HIDDEN):
        record_event("petition.opened", actor=moderator, target=petition)
    if demo.state == S.CLOSED:
        record_event("petition.closed", target=petition)
    if demo.state == S.REJECTED:
        record_event("petition.rejected", actor=moderator, target=petition,
                     data={"reason": demo.reason})  # fmt: skip
    if demo.state == S.HIDDEN:
        record_event("petition.hidden", actor=moderator, target=petition,
                     data={"details": "Court order"})  # fmt: skip


def _signatures(
    petition: Petition, demo: Demo, rng: random.Random, departements: list[Region],
    states: list[Region], now: Any, number: int,
) -> None:  # fmt: skip
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
        rows.append(Signature(
            petition=petition, name=f"Demo Signer {n}", email=email,
            email_normalised=normalise_email(email), country="US" if in_us else "FR",
            postcode=region.code if not in_us else "", region=region, language=demo.language,
            state=Signature.State.CONFIRMED, confirmed_at=at, wants_updates=rng.random() < 0.6,
            listed_publicly=rng.random() < 0.3, is_supporter=n < 5 and demo.state in (
                S.COLLECTING_SUPPORTERS, S.AWAITING_MODERATION),
        ))  # fmt: skip
    Signature.objects.bulk_create(rows, batch_size=2000)
