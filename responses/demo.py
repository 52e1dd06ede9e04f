"""Demo departments for `make run`: ministries with officers, reviewers and a publisher, a
committee, routing rules; then, once the demo petitions exist, their routing, a response in
review, a published one (whose mailing the worker delivers into var/mail) and a late one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from petitions.models import Petition, Topic
from responses.models import Assignment, Department, Membership, Response, RoutingRule
from responses.services.drafting import approve_response, create_response, submit_response
from responses.services.publication import publish_response
from responses.services.routing import route_petition

DEPARTMENTS = [
    # slug, English, French, acronym, kind, lead of topics
    (
        "ecology",
        "Ministry of Ecological Transition",
        "Ministère de la Transition écologique",
        "MTE",
        "ministry",
        ["environment", "animals"],
    ),
    (
        "transport",
        "Ministry of Transport",
        "Ministère des Transports",
        "MT",
        "ministry",
        ["transport"],
    ),
    ("health", "Ministry of Health", "Ministère de la Santé", "MS", "ministry", ["health"]),
    (
        "education",
        "Ministry of Education",
        "Ministère de l'Éducation nationale",
        "MEN",
        "ministry",
        ["education"],
    ),
    ("housing", "Ministry of Housing", "Ministère du Logement", "ML", "ministry", ["housing"]),
    ("culture", "Ministry of Culture", "Ministère de la Culture", "MC", "ministry", ["culture"]),
    ("petitions-unit", "Petitions Unit", "Bureau des pétitions", "BP", "service", []),
    ("committee", "Petitions Committee", "Commission des pétitions", "CP", "committee", []),
]
MEMBERS = {
    "officer@agora.example": (Membership.Role.OFFICER, ["ecology", "transport", "housing"]),
    "reviewer@agora.example": (Membership.Role.REVIEWER, ["ecology", "transport", "housing"]),
    "publisher@agora.example": (
        Membership.Role.PUBLISHER,
        ["ecology", "transport", "housing", "committee"],
    ),
}


@transaction.atomic
def load_demo_departments(users: dict[str, Any]) -> int:
    """Departments, memberships and routing rules (idempotent); topics must exist."""
    for slug, english, french, acronym, kind, topics in DEPARTMENTS:
        department, _ = Department.objects.update_or_create(
            slug=slug,
            defaults={
                "name_en": english,
                "name_fr": french,
                "acronym": acronym,
                "kind": kind,
                "is_fallback": slug == "petitions-unit",
                "contact_email": f"{slug}@agora.example",
                "response_target_days": 60 if kind == "committee" else 30,
            },
        )
        Topic.objects.filter(slug__in=topics).update(lead_department=department)
    for email, (role, slugs) in MEMBERS.items():
        for department in Department.objects.filter(slug__in=slugs):
            Membership.objects.get_or_create(user=users[email], department=department, role=role)
    for keyword, slug in (("bus", "transport"), ("school", "education"), ("école", "education")):
        RoutingRule.objects.get_or_create(
            kind=RoutingRule.Kind.KEYWORD,
            keyword=keyword,
            department=Department.objects.get(slug=slug),
        )
    return len(DEPARTMENTS)


def load_demo_responses(users: dict[str, Any]) -> int:
    """Route the demo petitions past their thresholds and give a few of them a response."""
    if Response.objects.exists():
        return 0
    reached = Petition.objects.filter(response_threshold_reached_at__isnull=False)
    for petition in reached:
        route_petition(petition.pk, "response")
    officer, reviewer, publisher = (
        users["officer@agora.example"],
        users["reviewer@agora.example"],
        users["publisher@agora.example"],
    )
    hedgerows = reached.filter(title__startswith="Protect hedgerows").first()
    if hedgerows is not None:
        response = create_response(
            actor=officer,
            department=Department.objects.get(slug="ecology"),
            petitions=[hedgerows],
            title="Hedgerows will be protected by law",
            body=HEDGEROWS,
        )
        submit_response(response, actor=officer)
        approve_response(response, actor=reviewer)
        publish_response(response, actor=publisher)
    trees = reached.filter(title__startswith="Plant a million trees").first()
    if trees is not None:
        response = create_response(
            actor=officer,
            department=Department.objects.get(slug="ecology"),
            petitions=[trees],
            title="Our urban tree plan",
            body=TREES,
        )
        submit_response(response, actor=officer)
    rents = reached.filter(title__startswith="Encadrer les loyers").first()
    if rents is not None:  # a late one, to show the overdue markers and escalations
        late = timezone.now() - timedelta(days=5)
        Assignment.objects.filter(petition=rents).update(due_at=late)
        Petition.objects.filter(pk=rents.pk).update(response_due_at=late)
    return reached.count()


HEDGEROWS = """Thank you to everyone who signed this petition.

## What we will do

* Hedgerows on farmland will be **protected by law** from 2027: removing one will need a
  permit, and each metre removed must be replaced by two.
* A fund of 50 million euros will help farmers plant **7,000 km** of new hedgerows.

## Why

Hedgerows shelter birds and pollinators, hold the soil and store carbon.
"""

TREES = """We share your ambition. This draft sets out the urban tree plan:

1. A planting fund for cities above 20,000 inhabitants.
2. Shade targets for every schoolyard by 2030.
"""
