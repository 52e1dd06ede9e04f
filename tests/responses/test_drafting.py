import pytest

from core.audit import events_for
from core.errors import InvalidTransition, NotAllowed
from core.models import AuditEvent
from responses.models import Membership, Response, Review
from responses.services.drafting import (
    approve_response,
    create_response,
    send_back_response,
    submit_response,
    update_response,
)
from tests.petitions.conftest import make_petition
from tests.responses.conftest import member, routed_petition

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(petition, department, officer):
    return create_response(
        actor=officer,
        department=department,
        petitions=[petition],
        title="Our answer",
        body="We will **plant** trees.",
    )


def test_an_officer_drafts_a_response_with_its_first_version(draft, officer):
    assert draft.state == Response.State.DRAFT
    assert draft.drafter == officer
    assert list(draft.versions.values_list("number", "body")) == [(1, "We will **plant** trees.")]
    assert AuditEvent.objects.get(action="response.drafted").actor == officer


def test_one_response_can_answer_several_petitions(topic, department, officer):
    first, second = routed_petition(topic), routed_petition(topic, title="Same ask")
    response = create_response(
        actor=officer, department=department, petitions=[first, second], title="T", body="B"
    )
    assert set(response.petitions.all()) == {first, second}


def test_only_officers_of_the_department_draft(petition, department, other_department, reviewer):
    outsider = member(other_department, Membership.Role.OFFICER)
    for actor in (reviewer, outsider):
        with pytest.raises(NotAllowed):
            create_response(
                actor=actor, department=department, petitions=[petition], title="T", body="B"
            )


def test_a_petition_not_routed_to_the_department_cannot_be_answered_by_it(department, officer):
    with pytest.raises(NotAllowed):
        create_response(
            actor=officer, department=department, petitions=[make_petition()], title="T", body="B"
        )


def test_editing_keeps_every_version_and_unchanged_text_adds_none(draft, officer):
    update_response(draft, actor=officer, title="Our answer", body="Version two")
    update_response(draft, actor=officer, title="Our answer", body="Version two")
    draft.refresh_from_db()
    assert draft.version == 2
    assert list(draft.versions.values_list("number", flat=True)) == [1, 2]


def test_the_full_review_cycle(draft, officer, reviewer):
    submit_response(draft, actor=officer)
    with pytest.raises(InvalidTransition):
        update_response(draft, actor=officer, title="T", body="Sneaky change in review")
    with pytest.raises(InvalidTransition):
        send_back_response(draft, actor=reviewer, comment="  ")
    send_back_response(draft, actor=reviewer, comment="Add the timetable.")
    assert draft.state == Response.State.CHANGES_REQUESTED
    update_response(draft, actor=officer, title="Our answer", body="Trees by 2030.")
    submit_response(draft, actor=officer)
    approve_response(draft, actor=reviewer)
    draft.refresh_from_db()
    assert draft.state == Response.State.APPROVED
    assert draft.reviewer == reviewer
    decisions = list(Review.objects.values_list("decision", "version", "comment"))
    assert decisions == [("sent_back", 1, "Add the timetable."), ("approved", 2, "")]
    actions = list(events_for(draft).values_list("action", flat=True))
    assert sorted(actions) == sorted(
        [
            "response.drafted",
            "response.submitted",
            "response.sent_back",
            "response.edited",
            "response.submitted",
            "response.approved",
        ]
    )


def test_the_drafter_cannot_review_their_own_response(draft, officer, department):
    Membership.objects.create(user=officer, department=department, role=Membership.Role.REVIEWER)
    officer.groups.add(*member(department, Membership.Role.REVIEWER).groups.all())
    submit_response(draft, actor=officer)
    officer = type(officer).objects.get(pk=officer.pk)
    with pytest.raises(NotAllowed, match="wrote"):
        approve_response(draft, actor=officer)


def test_approving_twice_is_refused(draft, officer, reviewer):
    submit_response(draft, actor=officer)
    approve_response(draft, actor=reviewer)
    with pytest.raises(InvalidTransition):
        approve_response(draft, actor=reviewer)
