"""The department back-office: inbox, notifications, workspace, drafting, review,
publication, comparison and mailing progress.

The most important property is the boundary between departments: another department's
petitions, drafts, notes and mailings answer 404, exactly as if they did not exist.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from petitions.models import Country, HourlyCount, Petition, Region, RegionCount
from responses.models import (
    Assignment,
    Debate,
    InternalNote,
    Mailing,
    Membership,
    OutboxMessage,
    Response,
    ResponseVersion,
    Review,
    StaffNotification,
)
from responses.services.drafting import approve_response, create_response, submit_response
from responses.services.publication import publish_response
from responses.services.routing import route_petition
from tests.factories import UserFactory
from tests.petitions.conftest import make_petition, make_signature
from tests.responses.conftest import member, routed_petition

pytestmark = pytest.mark.django_db

OFFICER, REVIEWER, PUBLISHER = (
    Membership.Role.OFFICER,
    Membership.Role.REVIEWER,
    Membership.Role.PUBLISHER,
)
ALL_ROLES = (OFFICER, REVIEWER, PUBLISHER)


def url(name: str, *args: object) -> str:
    return reverse(f"backoffice:{name}", args=args)


def text(response) -> str:
    return response.content.decode()


# --- Fixtures --------------------------------------------------------------------------------


@pytest.fixture
def outsider(other_department):
    """Staff of another department, holding every role there."""
    return member(other_department, *ALL_ROLES)


@pytest.fixture
def draft(petition, department, officer):
    return create_response(
        actor=officer,
        department=department,
        petitions=[petition],
        title="Our answer on trees",
        body="We will **plant** 10,000 trees.",
    )


@pytest.fixture
def in_review(draft, officer):
    return submit_response(draft, actor=officer)


@pytest.fixture
def approved(in_review, reviewer):
    return approve_response(in_review, actor=reviewer)


@pytest.fixture
def published(approved, publisher, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        return publish_response(approved, actor=publisher)


@pytest.fixture
def mailing(published, petition):
    return Mailing.objects.get(response=published, petition=petition)


def as_user(client, user):
    client.force_login(user)
    return client


def all_urls(petition, response, mailing_id):
    """Every page of the back-office, with its method."""
    return [
        ("get", url("inbox")),
        ("get", url("notifications")),
        ("get", url("workspace", petition.pk)),
        ("post", url("add_note", petition.pk)),
        ("get", url("reroute", petition.pk)),
        ("post", url("debate", petition.pk)),
        ("get", f"{url('response_create')}?petition={petition.pk}"),
        ("get", url("response", response.pk)),
        ("post", url("response_edit", response.pk)),
        ("post", url("response_submit", response.pk)),
        ("post", url("response_approve", response.pk)),
        ("post", url("response_send_back", response.pk)),
        ("post", url("response_publish", response.pk)),
        ("post", url("response_correct", response.pk)),
        ("get", f"{url('response_compare', response.pk)}?a=1&b=1"),
        ("get", url("mailing", mailing_id)),
    ]


# --- Access: anonymous, non-staff, wrong method --------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client, draft, petition):
    for method, address in all_urls(petition, draft, 1):
        response = getattr(client, method)(address)
        assert response.status_code == 302, address
        assert response.url.startswith(reverse("account_login")), address


def test_people_who_are_not_staff_are_refused(client, draft, petition):
    as_user(client, UserFactory())
    for method, address in all_urls(petition, draft, 1):
        assert getattr(client, method)(address).status_code == 403, address


def test_staff_without_a_department_role_are_refused_nothing_leaks(client, draft, petition):
    """A staff member with no staff-area permission at all gets a 403 too."""
    as_user(client, UserFactory(is_staff=True))
    assert client.get(url("workspace", petition.pk)).status_code == 403


@pytest.mark.parametrize(
    "name",
    [
        "add_note",
        "debate",
        "response_edit",
        "response_submit",
        "response_approve",
        "response_send_back",
        "response_publish",
        "response_correct",
    ],
)
def test_decisions_only_accept_post(client, officer, draft, petition, name):
    as_user(client, officer)
    target = petition.pk if name in ("add_note", "debate") else draft.pk
    assert client.get(url(name, target)).status_code == 405


@pytest.mark.parametrize("name", ["workspace", "response", "mailing"])
def test_pages_do_not_accept_post(client, publisher, mailing, petition, name):
    as_user(client, publisher)
    target = {"workspace": petition.pk, "response": mailing.response_id, "mailing": mailing.pk}
    assert client.post(url(name, target[name])).status_code == 405


def test_the_inbox_and_the_comparison_do_not_accept_post(client, officer, draft):
    as_user(client, officer)
    assert client.post(url("inbox")).status_code == 405
    assert client.post(f"{url('response_compare', draft.pk)}?a=1&b=1").status_code == 405


# --- The boundary between departments ------------------------------------------------------


def test_another_departments_staff_get_404_everywhere(client, outsider, mailing, petition):
    response = mailing.response
    as_user(client, outsider)
    for method, address in all_urls(petition, response, mailing.pk)[2:]:
        assert getattr(client, method)(address).status_code == 404, address


def test_another_departments_staff_change_nothing_by_posting(client, outsider, draft, petition):
    as_user(client, outsider)
    client.post(url("add_note", petition.pk), {"note-body": "Sneaky"})
    client.post(url("response_edit", draft.pk), {"edit-title": "X", "edit-body": "Y"})
    client.post(url("response_submit", draft.pk))
    draft.refresh_from_db()
    assert (draft.state, draft.title, draft.version) == (
        Response.State.DRAFT,
        "Our answer on trees",
        1,
    )
    assert not InternalNote.objects.exists()


def test_the_inbox_never_shows_another_departments_petitions(client, outsider, draft, petition):
    as_user(client, outsider)
    page = text(client.get(url("inbox")))
    assert petition.title not in page
    assert draft.title not in page


def test_a_contributing_department_sees_the_petition_and_its_notes_but_not_the_leads_draft(
    client, topic, department, other_department, officer
):
    petition = make_petition(response_state=Petition.ResponseState.AWAITING)
    petition.topics.set([topic])
    route_petition(petition.pk, "response")
    Assignment.objects.create(
        petition=petition,
        department=other_department,
        role=Assignment.Role.CONTRIBUTOR,
        track="response",
        due_at=timezone.now() + timedelta(days=30),
    )
    draft = create_response(
        actor=officer, department=department, petitions=[petition], title="Secret draft", body="B"
    )
    InternalNote.objects.create(
        petition=petition, department=department, author=officer, body="Lead note"
    )
    contributor = member(other_department, OFFICER, REVIEWER, PUBLISHER)
    as_user(client, contributor)

    page = client.get(url("workspace", petition.pk))
    assert page.status_code == 200
    assert "Lead note" in text(page)
    assert "Secret draft" not in text(page)
    assert "Draft a response" not in text(page)  # only the lead department drafts
    assert client.get(url("response", draft.pk)).status_code == 404
    assert "Secret draft" not in text(client.get(url("inbox")))
    assert client.get(f"{url('response_create')}?petition={petition.pk}").status_code == 403


# --- The inbox -----------------------------------------------------------------------------


def test_the_inbox_lists_the_departments_petitions_with_due_dates(client, officer, petition):
    late = routed_petition(petition.topics.get(), title="Late petition")
    Assignment.objects.filter(petition=late).update(
        due_at=timezone.now() - timedelta(days=3, hours=1)
    )
    as_user(client, officer)
    response = client.get(url("inbox"))
    page = text(response)
    assert response.status_code == 200
    assert petition.title in page
    assert "Overdue by 3 days" in page
    assert re.search(r"(29|30) days left", page)
    assert "No draft yet" in page


def test_the_inbox_shows_the_state_of_a_draft(client, officer, draft):
    as_user(client, officer)
    page = text(client.get(url("inbox")))
    assert draft.title in page
    assert 'tag--neutral">Draft</span>' in page
    assert "No draft yet" not in page


def test_the_inbox_sorts_by_due_date_both_ways(client, officer, topic):
    soon = routed_petition(topic, title="Due soon")
    later = routed_petition(topic, title="Due later")
    Assignment.objects.filter(petition=later).update(due_at=timezone.now() + timedelta(days=50))
    as_user(client, officer)
    ascending = text(client.get(url("inbox")))
    descending = text(client.get(url("inbox"), {"sort": "-due"}))
    assert ascending.index(soon.title) < ascending.index(later.title)
    assert descending.index(later.title) < descending.index(soon.title)


def test_the_inbox_filters_by_state_track_and_department(
    client, topic, department, other_department, committee
):
    waiting = routed_petition(topic, title="Still waiting")
    done = routed_petition(topic, title="Already answered")
    Petition.objects.filter(pk=done.pk).update(response_state=Petition.ResponseState.RESPONDED)
    late = routed_petition(topic, title="Very late")
    Assignment.objects.filter(petition=late).update(due_at=timezone.now() - timedelta(days=2))
    person = member(department, OFFICER)
    Membership.objects.create(user=person, department=committee, role=OFFICER)
    debated = make_petition(
        title="For the committee",
        consideration_state=Petition.ConsiderationState.AWAITING,
    )
    route_petition(debated.pk, "consideration")
    as_user(client, person)

    responded = text(client.get(url("inbox"), {"state": "responded"}))
    assert done.title in responded
    assert waiting.title not in responded
    overdue = text(client.get(url("inbox"), {"state": "overdue"}))
    assert late.title in overdue
    assert waiting.title not in overdue
    awaiting = text(client.get(url("inbox"), {"state": "awaiting", "track": "response"}))
    assert waiting.title in awaiting
    assert done.title not in awaiting
    assert debated.title not in awaiting
    consideration = text(client.get(url("inbox"), {"track": "consideration"}))
    assert debated.title in consideration
    assert waiting.title not in consideration
    committee_only = text(client.get(url("inbox"), {"department": committee.pk}))
    assert debated.title in committee_only
    assert waiting.title not in committee_only


def test_filtering_on_someone_elses_department_is_refused(client, officer, other_department):
    as_user(client, officer)
    response = client.get(url("inbox"), {"department": other_department.pk})
    assert response.status_code == 400
    assert "Select a valid choice" in text(response)


def test_the_inbox_runs_a_constant_number_of_queries(
    client, officer, topic, department, django_assert_max_num_queries
):
    def load() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("inbox")).status_code == 200
        return len(queries)

    as_user(client, officer)
    first = routed_petition(topic)
    create_response(actor=officer, department=department, petitions=[first], title="T", body="B")
    few = load()
    for n in range(8):
        petition = routed_petition(topic, title=f"Petition {n}")
        create_response(
            actor=officer, department=department, petitions=[petition], title="T", body="B"
        )
    with django_assert_max_num_queries(few):
        client.get(url("inbox"))


def test_the_inbox_shows_25_petitions_a_page(client, officer, topic):
    for n in range(26):
        routed_petition(topic, title=f"Numbered petition {n:02}")
    as_user(client, officer)
    first = client.get(url("inbox"))
    assert first.context["page"].paginator.num_pages == 2
    assert len(first.context["rows"]) == 25
    assert len(client.get(url("inbox"), {"page": 2}).context["rows"]) == 1


# --- Notifications -------------------------------------------------------------------------


def test_notifications_are_listed_newest_first(client, officer):
    StaffNotification.objects.create(user=officer, message="Older one", url="/a/")
    StaffNotification.objects.create(user=officer, message="Newer one", url="/b/")
    StaffNotification.objects.create(user=UserFactory(), message="Not mine", url="/c/")
    as_user(client, officer)
    page = text(client.get(url("notifications")))
    assert page.index("Newer one") < page.index("Older one")
    assert "Not mine" not in page
    assert "You have 2 unread notifications." in page


def test_posting_marks_every_notification_read(client, officer):
    for n in range(3):
        StaffNotification.objects.create(user=officer, message=f"N{n}", url="/")
    other = StaffNotification.objects.create(user=UserFactory(), message="Theirs", url="/")
    as_user(client, officer)
    response = client.post(url("notifications"))
    assert response.status_code == 302
    assert not StaffNotification.objects.filter(user=officer, read_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.read_at is None


def test_posting_an_id_marks_only_that_notification(client, officer):
    one = StaffNotification.objects.create(user=officer, message="One", url="/")
    two = StaffNotification.objects.create(user=officer, message="Two", url="/")
    as_user(client, officer)
    client.post(url("notifications"), {"notification": one.pk})
    one.refresh_from_db()
    two.refresh_from_db()
    assert one.read_at is not None
    assert two.read_at is None


def test_someone_elses_notification_cannot_be_marked(client, officer):
    theirs = StaffNotification.objects.create(user=UserFactory(), message="Theirs", url="/")
    as_user(client, officer)
    assert client.post(url("notifications"), {"notification": theirs.pk}).status_code == 404
    assert client.post(url("notifications"), {"notification": "abc"}).status_code == 400
    theirs.refresh_from_db()
    assert theirs.read_at is None


# --- The workspace -------------------------------------------------------------------------


def test_the_workspace_shows_the_petition_its_routing_figures_and_history(
    client, petition, reviewer, draft
):
    france = Country.objects.get_or_create(
        code="FR", defaults={"name_en": "France", "name_fr": "France"}
    )[0]
    region = Region.objects.get_or_create(
        kind="fr-region", code="11", defaults={"name": "Île-de-France", "country": france}
    )[0]
    RegionCount.objects.update_or_create(petition=petition, region=region, defaults={"count": 7})
    HourlyCount.objects.create(petition=petition, hour=timezone.now(), count=7)
    Petition.objects.filter(pk=petition.pk).update(details="Some **details**.")
    as_user(client, reviewer)

    response = client.get(url("workspace", petition.pk))
    page = text(response)
    assert response.status_code == 200
    assert petition.title in page
    assert "<strong>details</strong>" in page
    assert "Ministry of Ecology" in page  # the lead assignment
    assert region.name in page
    assert 'class="chart' in page
    assert "chart-over-time" in page
    assert "Routed to the departments" in page  # history
    assert draft.title in page  # the department's own draft
    assert url("reroute", petition.pk) in page  # a reviewer of the lead may re-route
    assert "Draft a response" not in page  # but only officers draft


def test_the_workspace_offers_officers_of_the_lead_to_draft(client, petition, officer):
    as_user(client, officer)
    page = text(client.get(url("workspace", petition.pk)))
    assert f"{url('response_create')}?petition={petition.pk}" in page
    assert url("reroute", petition.pk) not in page


def test_the_history_names_the_staff_who_acted(client, petition, officer, draft):
    InternalNote.objects.all().delete()
    as_user(client, officer)
    client.post(url("add_note", petition.pk), {"note-body": "Called the ministry."})
    page = text(client.get(url("workspace", petition.pk)))
    assert "Internal note added" in page
    assert officer.display_name in page


def test_adding_a_note(client, petition, officer, department):
    as_user(client, officer)
    response = client.post(url("add_note", petition.pk), {"note-body": "Ask the legal team."})
    assert response.status_code == 302
    note = InternalNote.objects.get()
    assert (note.body, note.author, note.department) == ("Ask the legal team.", officer, department)
    event = AuditEvent.objects.get(action="petition.note_added")
    assert event.actor == officer
    assert "Ask the legal team." in text(client.get(url("workspace", petition.pk)))


def test_an_empty_note_is_refused(client, petition, officer):
    as_user(client, officer)
    response = client.post(url("add_note", petition.pk), {"note-body": "  "})
    assert response.status_code == 400
    assert "Write the note before adding it." in text(response)
    assert not InternalNote.objects.exists()


# --- Re-routing ----------------------------------------------------------------------------


def test_the_reroute_form_shows_the_current_routing(client, petition, reviewer, department):
    as_user(client, reviewer)
    response = client.get(url("reroute", petition.pk))
    assert response.status_code == 200
    assert response.context["form"].initial["lead"] == department.pk


def test_officers_cannot_reroute(client, petition, officer):
    as_user(client, officer)
    assert client.get(url("reroute", petition.pk)).status_code == 403
    assert client.post(url("reroute", petition.pk), {"reason": "x"}).status_code == 403


def test_rerouting_moves_the_petition_and_tells_the_new_department(
    client, petition, reviewer, other_department, django_capture_on_commit_callbacks
):
    newcomer = member(other_department, OFFICER)
    mail.outbox.clear()
    as_user(client, reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("reroute", petition.pk),
            {"lead": other_department.pk, "reason": "Transport matter", "track": "response"},
        )
    assert response.status_code == 302
    assert response.url == url("inbox")  # the reviewer's department no longer holds it
    lead = Assignment.objects.active().get(petition=petition, role="lead")
    assert lead.department == other_department
    assert lead.reason == "Transport matter"
    assert AuditEvent.objects.get(action="petition.rerouted").actor == reviewer
    assert [message.to for message in mail.outbox] == [[newcomer.email]]
    assert StaffNotification.objects.filter(user=newcomer).exists()
    assert client.get(url("workspace", petition.pk)).status_code == 404


def test_rerouting_needs_a_reason_and_changes_nothing_without_one(
    client, petition, reviewer, department, other_department
):
    as_user(client, reviewer)
    response = client.post(
        url("reroute", petition.pk), {"lead": other_department.pk, "track": "response"}
    )
    assert response.status_code == 400
    assert "Give a reason for re-routing." in text(response)
    assert Assignment.objects.active().get(petition=petition).department == department


def test_rerouting_an_unknown_track_is_a_bad_request(client, petition, reviewer):
    as_user(client, reviewer)
    assert client.get(url("reroute", petition.pk), {"track": "nope"}).status_code == 400


# --- The committee's debate ----------------------------------------------------------------


@pytest.fixture
def debated(committee):
    petition = make_petition(consideration_state=Petition.ConsiderationState.AWAITING)
    route_petition(petition.pk, "consideration")
    return petition


def test_a_committee_publisher_schedules_the_debate_and_records_its_outcome(
    client, debated, committee, django_capture_on_commit_callbacks
):
    chair = member(committee, PUBLISHER)
    as_user(client, chair)
    assert "Schedule the debate" in text(client.get(url("workspace", debated.pk)))
    day = (timezone.localdate() + timedelta(days=20)).isoformat()
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            url("debate", debated.pk), {"action": "schedule", "debate-date-on": day}
        )
    assert response.status_code == 302
    assert Debate.objects.get(petition=debated).scheduled_for.isoformat() == day
    assert AuditEvent.objects.get(action="petition.debate_scheduled").actor == chair
    with django_capture_on_commit_callbacks(execute=False):
        client.post(
            url("debate", debated.pk),
            {"action": "outcome", "debate-outcome-outcome": "The committee agreed."},
        )
    debated.refresh_from_db()
    assert debated.consideration_state == Petition.ConsiderationState.CONSIDERED
    assert Mailing.objects.filter(petition=debated).count() == 2


def test_a_debate_without_a_date_is_refused(client, debated, committee):
    as_user(client, member(committee, PUBLISHER))
    response = client.post(url("debate", debated.pk), {"action": "schedule"})
    assert response.status_code == 400
    assert "Choose the date of the debate." in text(response)
    assert Debate.objects.get(petition=debated).scheduled_for is None
    assert client.post(url("debate", debated.pk), {"action": "other"}).status_code == 400


def test_only_a_committee_publisher_schedules_the_debate(client, debated, committee):
    as_user(client, member(committee, OFFICER))
    day = (timezone.localdate() + timedelta(days=20)).isoformat()
    response = client.post(url("debate", debated.pk), {"action": "schedule", "debate-date-on": day})
    assert response.status_code == 403
    assert "Publisher role" in text(response)
    assert Debate.objects.get(petition=debated).scheduled_for is None


# --- Drafting ------------------------------------------------------------------------------


def test_the_editor_offers_other_petitions_awaiting_a_response(client, petition, officer, topic):
    similar = routed_petition(topic, title="A similar ask")
    as_user(client, officer)
    response = client.get(f"{url('response_create')}?petition={petition.pk}")
    assert response.status_code == 200
    assert similar.title in text(response)
    assert response.context["form"].initial["petitions"] == [petition.pk]


def test_preview_renders_the_sanitised_text_and_saves_nothing(client, petition, officer):
    as_user(client, officer)
    response = client.post(
        f"{url('response_create')}?petition={petition.pk}",
        {
            "edit-title": "T",
            "edit-body": "Hello **world** <script>alert(1)</script>",
            "edit-petitions": [petition.pk],
            "action": "preview",
        },
    )
    assert response.status_code == 200
    assert "<strong>world</strong>" in text(response)
    assert "<script>alert" not in text(response)
    assert not Response.objects.exists()


def test_saving_a_draft_answering_two_petitions(client, petition, officer, topic):
    similar = routed_petition(topic, title="A similar ask")
    as_user(client, officer)
    response = client.post(
        f"{url('response_create')}?petition={petition.pk}",
        {
            "edit-title": "Our answer",
            "edit-body": "Text",
            "edit-petitions": [petition.pk, similar.pk],
            "action": "save",
        },
    )
    created = Response.objects.get()
    assert response.status_code == 302
    assert response.url == url("response", created.pk)
    assert set(created.petitions.all()) == {petition, similar}
    assert created.versions.count() == 1
    assert AuditEvent.objects.get(action="response.drafted").actor == officer


def test_a_draft_without_a_title_is_refused(client, petition, officer):
    as_user(client, officer)
    response = client.post(
        f"{url('response_create')}?petition={petition.pk}",
        {"edit-body": "Text", "edit-petitions": [petition.pk], "action": "save"},
    )
    assert response.status_code == 400
    assert "Give the response a title." in text(response)
    assert not Response.objects.exists()


def test_the_editor_needs_a_petition(client, officer):
    as_user(client, officer)
    assert client.get(url("response_create")).status_code == 400
    assert client.get(f"{url('response_create')}?petition=abc").status_code == 400


def test_only_officers_of_the_lead_department_draft(client, petition, reviewer):
    as_user(client, reviewer)
    assert client.get(f"{url('response_create')}?petition={petition.pk}").status_code == 403


def test_a_petition_already_answered_cannot_get_a_new_draft(client, petition, officer):
    Petition.objects.filter(pk=petition.pk).update(response_state=Petition.ResponseState.RESPONDED)
    as_user(client, officer)
    response = client.get(f"{url('response_create')}?petition={petition.pk}")
    assert response.status_code == 409
    assert "not waiting for a response" in text(response)


# --- The response page and its decisions -------------------------------------------------


def test_officers_see_the_editor_and_the_submit_button_on_a_draft(client, draft, officer):
    as_user(client, officer)
    page = client.get(url("response", draft.pk))
    assert page.status_code == 200
    assert set(page.context["forms"]) == {"edit"}
    assert url("response_submit", draft.pk) in text(page)
    assert "<strong>plant</strong>" in text(page)


def test_editing_saves_a_new_version(client, draft, officer, petition):
    as_user(client, officer)
    response = client.post(
        url("response_edit", draft.pk),
        {"edit-title": "Better title", "edit-body": "New text", "edit-petitions": [petition.pk]},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.version) == ("Better title", 2)
    assert AuditEvent.objects.filter(action="response.edited").count() == 1


def test_editing_with_preview_saves_nothing(client, draft, officer, petition):
    as_user(client, officer)
    response = client.post(
        url("response_edit", draft.pk),
        {
            "edit-title": "T",
            "edit-body": "*Draft* two",
            "edit-petitions": [petition.pk],
            "action": "preview",
        },
    )
    assert response.status_code == 200
    assert "<em>Draft</em>" in text(response)
    draft.refresh_from_db()
    assert draft.version == 1


def test_an_empty_edit_is_refused(client, draft, officer, petition):
    as_user(client, officer)
    response = client.post(
        url("response_edit", draft.pk),
        {"edit-title": "T", "edit-body": "", "edit-petitions": [petition.pk]},
    )
    assert response.status_code == 400
    assert "Write the text of the response." in text(response)
    draft.refresh_from_db()
    assert draft.version == 1


def test_a_response_in_review_cannot_be_edited(client, in_review, officer, petition):
    as_user(client, officer)
    response = client.post(
        url("response_edit", in_review.pk),
        {"edit-title": "T", "edit-body": "Changed", "edit-petitions": [petition.pk]},
    )
    assert response.status_code == 409
    assert "Only a draft can be edited" in text(response)
    in_review.refresh_from_db()
    assert in_review.version == 1


def test_submitting_tells_the_reviewers(
    client, draft, officer, reviewer, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    as_user(client, officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("response_submit", draft.pk))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == Response.State.IN_REVIEW
    assert AuditEvent.objects.get(action="response.submitted").actor == officer
    assert [message.to for message in mail.outbox] == [[reviewer.email]]
    assert draft.title in mail.outbox[0].subject
    assert url("response", draft.pk) in mail.outbox[0].body
    assert StaffNotification.objects.filter(user=reviewer).exists()


def test_reviewers_cannot_submit(client, draft, reviewer):
    as_user(client, reviewer)
    response = client.post(url("response_submit", draft.pk))
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.state == Response.State.DRAFT


def test_reviewers_see_approve_and_send_back_but_authors_do_not(client, in_review, reviewer):
    as_user(client, reviewer)
    assert set(client.get(url("response", in_review.pk)).context["forms"]) == {
        "approve",
        "send_back",
    }
    author = in_review.drafter
    Membership.objects.create(user=author, department=in_review.department, role=REVIEWER)
    from django.contrib.auth.models import Group

    author.groups.add(Group.objects.get(name="reviewer"))
    as_user(client, type(author).objects.get(pk=author.pk))
    page = client.get(url("response", in_review.pk))
    assert page.context["forms"] == {}
    assert "someone who did not write it" in text(page)


def test_approving_tells_the_publishers(
    client, in_review, reviewer, publisher, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    as_user(client, reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("response_approve", in_review.pk), {"approve-comment": "Good"})
    assert response.status_code == 302
    in_review.refresh_from_db()
    assert in_review.state == Response.State.APPROVED
    assert Review.objects.get().comment == "Good"
    assert [message.to for message in mail.outbox] == [[publisher.email]]


def test_an_author_cannot_approve(client, in_review):
    author = in_review.drafter
    from django.contrib.auth.models import Group

    Membership.objects.create(user=author, department=in_review.department, role=REVIEWER)
    author.groups.add(Group.objects.get(name="reviewer"))
    as_user(client, type(author).objects.get(pk=author.pk))
    response = client.post(url("response_approve", in_review.pk))
    assert response.status_code == 403
    assert "cannot review it" in text(response)
    in_review.refresh_from_db()
    assert in_review.state == Response.State.IN_REVIEW


def test_sending_back_needs_a_comment(client, in_review, reviewer):
    as_user(client, reviewer)
    response = client.post(url("response_send_back", in_review.pk), {"send-back-comment": ""})
    assert response.status_code == 400
    assert "Say what should change" in text(response)
    in_review.refresh_from_db()
    assert in_review.state == Response.State.IN_REVIEW


def test_sending_back_tells_the_drafter(
    client, in_review, reviewer, officer, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    as_user(client, reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("response_send_back", in_review.pk), {"send-back-comment": "Add figures"})
    in_review.refresh_from_db()
    assert in_review.state == Response.State.CHANGES_REQUESTED
    assert [message.to for message in mail.outbox] == [[officer.email]]
    assert "Add figures" in mail.outbox[0].body
    assert AuditEvent.objects.get(action="response.sent_back").actor == reviewer


def test_publishing_now(client, approved, publisher, petition, django_capture_on_commit_callbacks):
    as_user(client, publisher)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url("response_publish", approved.pk), {"publish-action": "now"})
    assert response.status_code == 302
    approved.refresh_from_db()
    petition.refresh_from_db()
    assert approved.state == Response.State.PUBLISHED
    assert petition.response_state == Petition.ResponseState.RESPONDED
    assert Mailing.objects.filter(response=approved, petition=petition).exists()
    assert callbacks  # the fan-out starts after commit
    assert AuditEvent.objects.get(action="response.published").actor == publisher


def test_publishing_emails_the_signers_who_asked(
    client, approved, publisher, petition, django_capture_on_commit_callbacks
):
    make_signature(petition, "signer@example.org", wants_updates=True)
    make_signature(petition, "quiet@example.org", wants_updates=False)
    mail.outbox.clear()
    as_user(client, publisher)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("response_publish", approved.pk), {"publish-action": "now"})
    recipients = {address for message in mail.outbox for address in message.to}
    assert "signer@example.org" in recipients
    assert "quiet@example.org" not in recipients


def test_scheduling_a_publication(client, approved, publisher):
    when = timezone.localtime() + timedelta(days=2)
    as_user(client, publisher)
    response = client.post(
        url("response_publish", approved.pk),
        {"publish-action": "schedule", "publish-at": when.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 302
    approved.refresh_from_db()
    assert approved.state == Response.State.SCHEDULED
    assert abs(approved.scheduled_for - when) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("value", "message"),
    [("", "Choose when to publish the response."), ("2001-01-01T10:00", "in the future")],
)
def test_scheduling_needs_a_future_time(client, approved, publisher, value, message):
    as_user(client, publisher)
    response = client.post(
        url("response_publish", approved.pk), {"publish-action": "schedule", "publish-at": value}
    )
    assert response.status_code == 400
    assert message in text(response)
    approved.refresh_from_db()
    assert approved.state == Response.State.APPROVED


def test_only_publishers_publish(client, approved, reviewer):
    as_user(client, reviewer)
    response = client.post(url("response_publish", approved.pk), {"publish-action": "now"})
    assert response.status_code == 403
    approved.refresh_from_db()
    assert approved.state == Response.State.APPROVED


def test_a_draft_cannot_be_published(client, draft, publisher):
    as_user(client, publisher)
    response = client.post(url("response_publish", draft.pk), {"publish-action": "now"})
    assert response.status_code == 409
    assert "Only an approved response can be published." in text(response)


def test_the_published_page_shows_the_correction_form_and_the_delivery(client, mailing, publisher):
    OutboxMessage.objects.create(
        mailing=mailing, email="a@example.org", email_normalised="a@example.org", language="en",
        state=OutboxMessage.State.SENT,
    )  # fmt: skip
    OutboxMessage.objects.create(
        mailing=mailing, email="b@example.org", email_normalised="b@example.org", language="en"
    )
    as_user(client, publisher)
    page = client.get(url("response", mailing.response_id))
    assert set(page.context["forms"]) == {"correct"}
    assert "50% sent: 1 of 2" in text(page)
    assert url("mailing", mailing.pk) in text(page)


def test_correcting_a_published_response(client, published, publisher):
    as_user(client, publisher)
    response = client.post(
        url("response_correct", published.pk),
        {"correct-title": "Fixed", "correct-body": "Corrected text", "correct-note": "Typo"},
    )
    assert response.status_code == 302
    published.refresh_from_db()
    assert (published.title, published.version) == ("Fixed", 2)
    version = ResponseVersion.objects.get(response=published, number=2)
    assert (version.kind, version.note) == (ResponseVersion.Kind.CORRECTION, "Typo")
    assert AuditEvent.objects.get(action="response.corrected").actor == publisher


def test_a_correction_needs_a_note(client, published, publisher):
    as_user(client, publisher)
    response = client.post(
        url("response_correct", published.pk),
        {"correct-title": "Fixed", "correct-body": "Corrected text"},
    )
    assert response.status_code == 400
    assert "Say what changed." in text(response)
    published.refresh_from_db()
    assert published.version == 1


# --- Comparing versions ----------------------------------------------------------------------


def test_comparing_two_versions_marks_additions_and_deletions(client, draft, officer, petition):
    as_user(client, officer)
    client.post(
        url("response_edit", draft.pk),
        {
            "edit-title": "Our answer on trees",
            "edit-body": "We will **plant** 20,000 trees.",
            "edit-petitions": [petition.pk],
        },
    )
    response = client.get(url("response_compare", draft.pk), {"a": 1, "b": 2})
    page = text(response)
    assert response.status_code == 200
    hidden = '<span class="visually-hidden">'
    assert f"<del>{hidden}[removed: </span>10{hidden}]</span></del>" in page
    assert f"<ins>{hidden}[added: </span>20{hidden}]</span></ins>" in page
    assert ",000 trees." in page  # unchanged text stays, unmarked


@pytest.mark.parametrize("query", [{"a": 1, "b": 9}, {"a": "x", "b": 1}, {"a": 1}])
def test_comparing_unknown_versions_is_a_bad_request(client, draft, officer, query):
    as_user(client, officer)
    response = client.get(url("response_compare", draft.pk), query)
    assert response.status_code == 400


# --- Mailing progress ------------------------------------------------------------------------


def test_the_mailing_page_refreshes_itself_on_request_until_finished(client, mailing, publisher):
    OutboxMessage.objects.create(
        mailing=mailing, email="a@example.org", email_normalised="a@example.org", language="en",
        state=OutboxMessage.State.FAILED,
    )  # fmt: skip
    as_user(client, publisher)
    page = text(client.get(url("mailing", mailing.pk)))
    assert 'http-equiv="refresh"' not in page  # no reload the reader did not ask for
    assert "0% sent: 0 of 1" in page
    asked = text(client.get(url("mailing", mailing.pk), {"refresh": "on"}))
    assert '<meta http-equiv="refresh" content="5">' in asked
    Mailing.objects.filter(pk=mailing.pk).update(
        fanned_out_at=timezone.now(), finished_at=timezone.now()
    )
    finished = text(client.get(url("mailing", mailing.pk), {"refresh": "on"}))
    assert 'http-equiv="refresh"' not in finished


# --- Staff home ------------------------------------------------------------------------------


def test_the_staff_home_links_department_members_to_the_inbox(client, officer):
    as_user(client, officer)
    page = text(client.get(reverse("staff:home")))
    assert url("inbox") in page
    assert url("notifications") in page


def test_the_staff_home_has_no_inbox_card_for_a_moderator(client, moderator):
    as_user(client, moderator)
    assert url("inbox") not in text(client.get(reverse("staff:home")))


# --- The whole flow --------------------------------------------------------------------------


def test_draft_send_back_revise_approve_and_publish_through_the_views(
    client, petition, department, officer, reviewer, publisher, django_capture_on_commit_callbacks
):
    make_signature(petition, "signer@example.org", wants_updates=True)
    mail.outbox.clear()
    create = f"{url('response_create')}?petition={petition.pk}"

    as_user(client, officer)
    client.post(
        create,
        {"edit-title": "Answer", "edit-body": "First text", "edit-petitions": [petition.pk]},
    )
    answer = Response.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("response_submit", answer.pk))

    as_user(client, reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("response_send_back", answer.pk), {"send-back-comment": "Say when."})
    answer.refresh_from_db()
    assert answer.state == Response.State.CHANGES_REQUESTED

    as_user(client, officer)
    assert "Say when." in text(client.get(url("response", answer.pk)))
    client.post(
        url("response_edit", answer.pk),
        {"edit-title": "Answer", "edit-body": "Trees by May.", "edit-petitions": [petition.pk]},
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("response_submit", answer.pk))

    as_user(client, reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("response_approve", answer.pk))

    as_user(client, publisher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("response_publish", answer.pk), {"publish-action": "now"})
    assert response.status_code == 302

    answer.refresh_from_db()
    petition.refresh_from_db()
    assert answer.state == Response.State.PUBLISHED
    assert answer.version == 2
    assert petition.response_state == Petition.ResponseState.RESPONDED
    assert list(
        AuditEvent.objects.filter(action__startswith="response.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == [
        "response.drafted",
        "response.submitted",
        "response.sent_back",
        "response.edited",
        "response.submitted",
        "response.approved",
        "response.published",
    ]
    recipients = [address for message in mail.outbox for address in message.to]
    assert recipients.count(reviewer.email) == 2  # two review requests
    assert recipients.count(officer.email) == 1  # sent back
    assert recipients.count(publisher.email) == 1  # ready to publish
    assert "signer@example.org" in recipients  # the response itself


# --- The staff emails ------------------------------------------------------------------------

STAFF_EMAILS = [
    "petition_routed",
    "routing_failed",
    "reminder_before",
    "reminder_due",
    "escalation",
    "review_requested",
    "response_sent_back",
    "publication_requested",
]


@pytest.mark.parametrize("template", STAFF_EMAILS)
@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_staff_email_renders_with_its_link(template, language, draft, petition, officer):
    from core.mail import render_email

    assignment = Assignment.objects.get(petition=petition)
    link = f"https://agora.example{url('workspace', petition.pk)}"
    message = render_email(
        f"emails/responses/{template}",
        {
            "user": officer,
            "url": link,
            "petition": petition,
            "assignment": assignment,
            "due_at": assignment.due_at,
            "days_overdue": 9,
            "response": draft,
            "comment": "Add <b>figures</b>",
        },
        to=[officer.email],
        language=language,
    )
    html = message.alternatives[0][0]
    assert message.subject
    assert "\n" not in message.subject
    assert link in message.body
    assert link in html
    assert officer.display_name in message.body
    if template == "response_sent_back":
        assert "Add <b>figures</b>" in message.body  # plain text, as written
        assert "Add &lt;b&gt;figures&lt;/b&gt;" in html  # escaped in HTML
