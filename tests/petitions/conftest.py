"""Fixtures for the petitions tests: open petitions, signatures, a moderator."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from petitions.identity import normalise_email
from petitions.models import Country, Petition, Signature
from tests.factories import UserFactory


@pytest.fixture
def countries(db):
    for code, en, fr in [("FR", "France", "France"), ("US", "United States", "États-Unis")]:
        Country.objects.get_or_create(code=code, defaults={"name_en": en, "name_fr": fr})


def make_petition(**fields: Any) -> Petition:
    """An open petition with a month to go, unless ``fields`` say otherwise."""
    now = timezone.now()
    defaults: dict[str, Any] = {
        "title": "Plant more trees in cities",
        "summary": "Shade, cooler streets and cleaner air.",
        "language": "en",
        "creator": fields.pop("creator", None) or UserFactory(),
        "creator_name": "Camille",
        "state": Petition.State.OPEN,
        "opened_at": now,
        "deadline": now + timedelta(days=30),
        "response_threshold": 10,
        "consideration_threshold": 100,
    }
    defaults.update(fields)
    return Petition.objects.create(**defaults)


def make_signature(petition: Petition, email: str, **fields: Any) -> Signature:
    defaults: dict[str, Any] = {
        "name": "A Signer",
        "country": "FR",
        "postcode": "75001",
        "language": "en",
        "state": Signature.State.CONFIRMED,
        "confirmed_at": timezone.now(),
    }
    defaults.update(fields)
    return Signature.objects.create(
        petition=petition, email=email, email_normalised=normalise_email(email), **defaults
    )


@pytest.fixture
def petition(db):
    return make_petition()
