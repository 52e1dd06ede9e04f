from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from core.errors import InvalidTransition, NotAllowed
from core.models import AuditEvent
from petitions.models import Country, Petition, Region, RegionCount, Topic
from responses.models import (
    Assignment,
    Debate,
    Department,
    Membership,
    RoutingRule,
    StaffNotification,
)
from responses.services.routing import reroute_petition, route_petition
from tests.factories import UserFactory
from tests.petitions.conftest import make_petition
from tests.responses.conftest import member, routed_petition

pytestmark = pytest.mark.django_db


def test_routing_assigns_the_lead_department_with_a_due_date_and_tells_its_members(
    topic, department, officer, django_capture_on_commit_callbacks
):
    petition = make_petition(response_state=Petition.ResponseState.AWAITING)
    petition.topics.set([topic])
    with django_capture_on_commit_callbacks(execute=True):
        assignments = route_petition(petition.pk, "response")

    [lead] = assignments
    assert lead.department == department
    assert lead.role == Assignment.Role.LEAD
    assert lead.due_at - lead.assigned_at == timedelta(days=30)
    petition.refresh_from_db()
    assert petition.response_routed_at is not None
    assert petition.response_due_at == lead.due_at
    assert AuditEvent.objects.get(action="petition.routed").data["lead"] == "ecology"
    assert StaffNotification.objects.filter(user=officer).count() == 1
    assert [m.to for m in mail.outbox] == [[officer.email]]


def test_routing_twice_does_nothing_more(petition):
    assert route_petition(petition.pk, "response") == []
    assert Assignment.objects.filter(petition=petition).count() == 1
    assert AuditEvent.objects.filter(action="petition.routed").count() == 1


def test_routing_rules_add_contributing_departments(topic, other_department):
    culture = Department.objects.create(name_en="Culture", name_fr="Culture", slug="culture")
    health = Department.objects.create(name_en="Health", name_fr="Santé", slug="health")
    RoutingRule.objects.create(department=other_department, kind="keyword", keyword="BUS")
    RoutingRule.objects.create(department=culture, kind="keyword", keyword="museum")
    france = Country.objects.create(code="FR", name_en="France", name_fr="France")
    paris = Region.objects.create(kind="fr-departement", code="75", name="Paris", country=france)
    RoutingRule.objects.create(department=health, kind="region", region=paris, region_share=50)
    petition = make_petition(title="More bus lanes", signature_count=10)
    petition.topics.set([topic])
    RegionCount.objects.create(petition=petition, region=paris, count=6)

    assignments = route_petition(petition.pk, "response")

    roles = {(a.department.slug, a.role) for a in assignments}
    assert roles == {("ecology", "lead"), ("transport", "contributor"), ("health", "contributor")}


def test_without_a_lead_the_fallback_department_receives_the_petition():
    fallback = Department.objects.create(
        name_en="Petitions Unit", name_fr="Bureau des pétitions", slug="unit", is_fallback=True
    )
    petition = make_petition()
    petition.topics.set([Topic.objects.create(slug="misc", name_en="Misc", name_fr="Divers")])
    [lead] = route_petition(petition.pk, "response")
    assert lead.department == fallback


def test_without_any_department_the_claim_is_released_and_administrators_told(administrator):
    petition = make_petition()
    assert route_petition(petition.pk, "response") == []
    petition.refresh_from_db()
    assert petition.response_routed_at is None
    assert AuditEvent.objects.filter(action="petition.routing_failed").exists()
    assert StaffNotification.objects.filter(user=administrator).exists()


def test_the_consideration_threshold_routes_to_a_committee_with_a_debate(topic, committee):
    petition = make_petition()
    petition.topics.set([topic])
    [lead] = route_petition(petition.pk, "consideration")
    assert lead.department == committee
    assert lead.track == "consideration"
    assert Debate.objects.get(petition=petition).committee == committee


def test_rerouting_needs_a_reason_and_a_reviewer_and_keeps_the_due_date(
    petition, department, other_department, reviewer
):
    due = Assignment.objects.get(petition=petition).due_at
    with pytest.raises(InvalidTransition):
        reroute_petition(
            petition,
            actor=reviewer,
            track="response",
            lead=other_department,
            contributors=[],
            reason=" ",
        )
    with pytest.raises(NotAllowed):
        reroute_petition(
            petition,
            actor=UserFactory(),
            track="response",
            lead=other_department,
            contributors=[],
            reason="Transport matter",
        )

    [lead] = reroute_petition(
        petition,
        actor=reviewer,
        track="response",
        lead=other_department,
        contributors=[],
        reason="It is about buses",
    )

    assert lead.department == other_department
    assert lead.due_at == due
    ended = Assignment.objects.get(petition=petition, department=department)
    assert ended.ended_at is not None
    event = AuditEvent.objects.get(action="petition.rerouted")
    assert event.data["reason"] == "It is about buses"
    assert event.actor == reviewer


def test_only_one_active_lead_per_track(petition, other_department):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        Assignment.objects.create(
            petition=petition,
            department=other_department,
            role="lead",
            track="response",
            due_at=timezone.now(),
        )


def test_staff_of_one_department_do_not_see_another_departments_assignments(
    topic, other_department
):
    petition = routed_petition(topic)
    outsider = member(other_department, Membership.Role.OFFICER)
    assert not Assignment.objects.for_user(outsider).filter(petition=petition).exists()
