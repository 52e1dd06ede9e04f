"""Fixtures for the responses tests: departments with staff, and a routed petition."""

from __future__ import annotations

import pytest

from accounts.roles import Role
from petitions.models import Petition, Topic
from responses.models import Department, Membership
from responses.services.routing import route_petition
from tests.factories import staff_user
from tests.petitions.conftest import make_petition

ROLES = {
    Membership.Role.OFFICER: Role.OFFICER,
    Membership.Role.REVIEWER: Role.REVIEWER,
    Membership.Role.PUBLISHER: Role.PUBLISHER,
}


def member(department: Department, *roles: str, **fields):
    """A staff member with the site role and the membership for each of ``roles``."""
    user = staff_user(*(ROLES[Membership.Role(role)] for role in roles), **fields)
    for role in roles:
        Membership.objects.create(user=user, department=department, role=role)
    return user


@pytest.fixture
def department(db):
    return Department.objects.create(
        name_en="Ministry of Ecology",
        name_fr="Ministère de l'Écologie",
        slug="ecology",
        acronym="ECO",
        response_target_days=30,
    )


@pytest.fixture
def other_department(db):
    return Department.objects.create(
        name_en="Ministry of Transport", name_fr="Ministère des Transports", slug="transport"
    )


@pytest.fixture
def committee(db):
    return Department.objects.create(
        name_en="Petitions Committee",
        name_fr="Commission des pétitions",
        slug="committee",
        kind=Department.Kind.COMMITTEE,
        response_target_days=60,
    )


@pytest.fixture
def officer(department):
    return member(department, Membership.Role.OFFICER)


@pytest.fixture
def reviewer(department):
    return member(department, Membership.Role.REVIEWER)


@pytest.fixture
def publisher(department):
    return member(department, Membership.Role.PUBLISHER)


@pytest.fixture
def topic(department):
    return Topic.objects.create(
        slug="environment",
        name_en="Environment",
        name_fr="Environnement",
        lead_department=department,
    )


def routed_petition(topic: Topic, **fields) -> Petition:
    """An open petition on ``topic`` that crossed its response threshold and was routed."""
    petition = make_petition(response_state=Petition.ResponseState.AWAITING, **fields)
    petition.topics.set([topic])
    route_petition(petition.pk, "response")
    petition.refresh_from_db()
    return petition


@pytest.fixture
def petition(topic):
    return routed_petition(topic)
