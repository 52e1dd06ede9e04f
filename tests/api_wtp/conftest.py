"""Fixtures for the We the People API tests: petitions, a published response, partner keys."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from accounts import partners
from accounts.models import PartnerKey
from petitions.models import Country, Petition, Region, Topic
from responses.models import Department, Response
from tests.petitions.conftest import make_petition, make_signature

BASE = "/api/wtp/v1/"


@pytest.fixture
def topic(db) -> Topic:
    department = Department.objects.create(
        name_en="Ministry of the Environment", name_fr="Ministère de l'Environnement", slug="env"
    )
    return Topic.objects.create(
        slug="environment", name_en="Environment", name_fr="Environnement",
        lead_department=department,
    )  # fmt: skip


@pytest.fixture
def paris(db) -> Region:
    france, _created = Country.objects.get_or_create(
        code="FR", defaults={"name_en": "France", "name_fr": "France"}
    )
    return Region.objects.create(kind="fr-departement", code="75", name="Paris", country=france)


@pytest.fixture
def petition(topic) -> Petition:
    item = make_petition(details="Trees **cool** streets.", signature_count=4)
    item.topics.add(topic)
    return item


def publish_response(petition: Petition, **fields: Any) -> Response:
    department = petition.topics.get().lead_department
    assert department is not None
    response = Response.objects.create(
        department=department,
        title=fields.pop("title", "Our answer on trees"),
        body=fields.pop("body", "We will **plant** trees. <script>alert(1)</script>"),
        state=fields.pop("state", Response.State.PUBLISHED),
        published_at=fields.pop("published_at", timezone.now()),
        **fields,
    )
    response.petitions.add(petition)
    Petition.objects.filter(pk=petition.pk).update(
        response_state=Petition.ResponseState.RESPONDED,
        response_threshold_reached_at=timezone.now(),
    )
    return response


def issue(use: str = PartnerKey.Use.SIGN, **fields: Any) -> partners.IssuedKey:
    values: dict[str, Any] = {
        "name": "Campaign site",
        "contact_name": "Alex",
        "contact_email": "alex@partner.example",
        "use": use,
    }
    values.update(fields)
    return partners.issue_key(actor=None, **values)


@pytest.fixture
def sign_key() -> partners.IssuedKey:
    return issue()


@pytest.fixture
def read_key() -> partners.IssuedKey:
    return issue(PartnerKey.Use.READ, name="Research lab")


__all__ = ["BASE", "issue", "make_petition", "make_signature", "publish_response"]
