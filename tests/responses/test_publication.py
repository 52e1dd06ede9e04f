from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import InvalidTransition, NotAllowed
from core.models import AuditEvent
from petitions.models import Petition
from responses.models import Mailing, Response, ResponseVersion
from responses.services.drafting import approve_response, create_response, submit_response
from responses.services.publication import (
    correct_response,
    publish_response,
    publish_scheduled_responses,
    record_debate_outcome,
    schedule_debate,
)
from tests.responses.conftest import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(petition, department, officer, reviewer):
    response = create_response(
        actor=officer,
        department=department,
        petitions=[petition],
        title="Our answer",
        body="Trees.",
    )
    submit_response(response, actor=officer)
    return approve_response(response, actor=reviewer)


def test_publishing_marks_petitions_responded_and_starts_one_mailing_each(
    approved, petition, publisher, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        publish_response(approved, actor=publisher)
    petition.refresh_from_db()
    assert petition.response_state == Petition.ResponseState.RESPONDED
    assert petition.responded_at is not None
    assert approved.state == Response.State.PUBLISHED
    assert Mailing.objects.get().petition == petition
    assert len(callbacks) == 1  # the fan-out, after commit
    assert AuditEvent.objects.filter(action="petition.responded").count() == 1


def test_publishing_twice_is_refused_and_announces_once(approved, publisher):
    publish_response(approved, actor=publisher)
    with pytest.raises(InvalidTransition):
        publish_response(approved, actor=publisher)
    assert Mailing.objects.count() == 1


def test_only_publishers_of_the_department_publish(approved, reviewer, officer):
    for actor in (reviewer, officer):
        with pytest.raises(NotAllowed):
            publish_response(approved, actor=actor)


def test_a_draft_cannot_be_published(petition, department, officer, publisher):
    draft = create_response(
        actor=officer, department=department, petitions=[petition], title="T", body="B"
    )
    with pytest.raises(InvalidTransition):
        publish_response(draft, actor=publisher)


def test_a_scheduled_response_is_published_by_the_task_when_its_time_comes(approved, publisher):
    publish_response(approved, actor=publisher, at=timezone.now() + timedelta(hours=1))
    assert publish_scheduled_responses() == []
    Response.objects.filter(pk=approved.pk).update(scheduled_for=timezone.now())
    assert publish_scheduled_responses() == [approved.pk]
    approved.refresh_from_db()
    assert approved.state == Response.State.PUBLISHED
    assert approved.publisher == publisher


def test_a_correction_is_a_new_version_with_a_note(approved, publisher):
    publish_response(approved, actor=publisher)
    with pytest.raises(InvalidTransition):
        correct_response(approved, actor=publisher, title="Our answer", body="Fixed", note="")
    correct_response(
        approved, actor=publisher, title="Our answer", body="Fixed date", note="The date was wrong."
    )
    approved.refresh_from_db()
    assert approved.corrected_at is not None
    latest = approved.versions.last()
    assert (latest.kind, latest.note, latest.body) == (
        ResponseVersion.Kind.CORRECTION,
        "The date was wrong.",
        "Fixed date",
    )
    assert Mailing.objects.count() == 1  # corrections do not email everyone again


def test_the_committee_schedules_a_debate_and_records_its_outcome(topic, committee):

    from responses.models import Membership
    from responses.services.routing import route_petition
    from tests.petitions.conftest import make_petition

    petition = make_petition()
    petition.topics.set([topic])
    route_petition(petition.pk, "consideration")
    clerk = member(committee, Membership.Role.PUBLISHER)
    schedule_debate(petition, actor=clerk, on=timezone.localdate() + timedelta(days=14))
    record_debate_outcome(petition, actor=clerk, outcome="The committee recommends a law.")
    petition.refresh_from_db()
    assert petition.consideration_state == Petition.ConsiderationState.CONSIDERED
    assert set(Mailing.objects.values_list("kind", flat=True)) == {
        "debate_scheduled",
        "debate_outcome",
    }
