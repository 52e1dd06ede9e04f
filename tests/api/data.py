"""Seed data for the API tests: public and private petitions, signers with personal data.

Shared by the unit tests (tests/api) and the schemathesis run (tests/integration), so the
absence of personal data is checked against rows that really hold some.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from petitions.models import (
    Country,
    CountryCount,
    HourlyCount,
    Petition,
    Region,
    RegionCount,
    Topic,
)
from responses.models import Assignment, Department, Response, Track
from tests.petitions.conftest import make_petition, make_signature

# What must never leave through the API.
EMAILS = ["listed.person@example.org", "private.person@example.net", "Third.One+tag@gmail.com"]
IPS = ["203.0.113.77", "2001:db8::4242"]
POSTCODES = ["75011", "13008"]
UNLISTED_NAMES = ["Zéphyrine Confidentielle", "Barnabé Secretname"]
LISTED_NAME = "Listed Lucie"


@dataclass
class OpenData:
    department: Department
    other_department: Department
    topic: Topic
    other_topic: Topic
    paris: Region
    ile_de_france: Region
    open_petition: Petition
    closed_petition: Petition
    rejected_petition: Petition
    private: list[Petition]
    response: Response
    draft_response: Response

    @property
    def public(self) -> list[Petition]:
        return [self.open_petition, self.closed_petition, self.rejected_petition]


def seed_open_data() -> OpenData:
    now = timezone.now()
    france, _ = Country.objects.get_or_create(
        code="FR", defaults={"name_en": "France", "name_fr": "France"}
    )
    Country.objects.get_or_create(
        code="US", defaults={"name_en": "United States", "name_fr": "États-Unis"}
    )
    ile_de_france = Region.objects.create(
        kind="fr-region", code="11", name="Île-de-France", country=france, population=12_000_000
    )
    paris = Region.objects.create(
        kind="fr-departement",
        code="75",
        name="Paris",
        country=france,
        parent=ile_de_france,
        population=2_000_000,
    )
    department = Department.objects.create(
        name_en="Ministry of Ecology",
        name_fr="Ministère de l'Écologie",
        slug="ecology",
        acronym="ECO",
        contact_email="officer.private@ministry.example",
    )
    other_department = Department.objects.create(
        name_en="Ministry of Transport", name_fr="Ministère des Transports", slug="transport"
    )
    topic = Topic.objects.create(
        slug="environment",
        name_en="Environment",
        name_fr="Environnement",
        lead_department=department,
    )
    other_topic = Topic.objects.create(slug="transport", name_en="Transport", name_fr="Transports")

    open_petition = make_petition(
        title="Plant more trees in cities",
        signature_count=150,
        response_state=Petition.ResponseState.RESPONDED,
        responded_at=now,
        response_threshold_reached_at=now - timedelta(days=10),
        created_at=now,
    )
    open_petition.topics.set([topic])
    closed_petition = make_petition(
        title="Build cycle lanes everywhere",
        state=Petition.State.CLOSED,
        closed_at=now - timedelta(days=1),
        opened_at=now - timedelta(days=200),
        deadline=now - timedelta(days=1),
        signature_count=40,
        response_state=Petition.ResponseState.AWAITING,
        response_due_at=now - timedelta(days=2),
    )
    closed_petition.topics.set([other_topic])
    rejected_petition = make_petition(
        title="Rename the moon",
        state=Petition.State.REJECTED,
        rejection_reason=Petition.RejectionReason.UNCLEAR,
        rejected_at=now,
        opened_at=None,
        signature_count=0,
    )
    private = [
        make_petition(title="Draft petition secret", state=Petition.State.DRAFT),
        make_petition(title="Hidden petition secret", state=Petition.State.HIDDEN),
        make_petition(title="Removed petition secret", state=Petition.State.REMOVED),
        make_petition(title="Awaiting moderation secret", state=Petition.State.AWAITING_MODERATION),
        make_petition(
            title="Offensive petition secret",
            state=Petition.State.REJECTED,
            rejection_reason=Petition.RejectionReason.OFFENSIVE,
        ),
    ]

    # Signers: personal data in every column the API must never read.
    make_signature(
        open_petition,
        EMAILS[0],
        name=LISTED_NAME,
        listed_publicly=True,
        ip_address=IPS[0],
        postcode=POSTCODES[0],
        region=paris,
    )
    make_signature(
        open_petition,
        EMAILS[1],
        name=UNLISTED_NAMES[0],
        listed_publicly=False,
        ip_address=IPS[1],
        postcode=POSTCODES[1],
        region=paris,
    )
    make_signature(
        closed_petition,
        EMAILS[2],
        name=UNLISTED_NAMES[1],
        listed_publicly=False,
        ip_address=IPS[0],
        postcode=POSTCODES[0],
        country="US",
    )
    for petition in private:
        make_signature(petition, f"signer{petition.pk}@example.com", name=UNLISTED_NAMES[0])

    RegionCount.objects.create(petition=open_petition, region=paris, count=100)
    RegionCount.objects.create(petition=open_petition, region=ile_de_france, count=120)
    CountryCount.objects.create(petition=open_petition, country="FR", count=140)
    CountryCount.objects.create(petition=open_petition, country="US", count=10)
    hour = now.replace(minute=0, second=0, microsecond=0)
    HourlyCount.objects.create(petition=open_petition, hour=hour - timedelta(days=1), count=90)
    HourlyCount.objects.create(petition=open_petition, hour=hour, count=60)

    Assignment.objects.create(
        petition=closed_petition,
        department=other_department,
        role=Assignment.Role.LEAD,
        track=Track.RESPONSE,
        due_at=now - timedelta(days=2),
    )
    Assignment.objects.create(
        petition=open_petition,
        department=department,
        role=Assignment.Role.LEAD,
        track=Track.RESPONSE,
        due_at=now + timedelta(days=20),
    )
    response = Response.objects.create(
        department=department,
        title="Our answer on trees",
        body="We **will** plant trees.",
        state=Response.State.PUBLISHED,
        published_at=now,
    )
    response.petitions.set([open_petition, private[1]])
    draft = Response.objects.create(
        department=department,
        title="Draft answer secret",
        body="Not yet.",
        state=Response.State.DRAFT,
    )
    draft.petitions.set([closed_petition])
    return OpenData(
        department,
        other_department,
        topic,
        other_topic,
        paris,
        ile_de_france,
        open_petition,
        closed_petition,
        rejected_petition,
        private,
        response,
        draft,
    )
