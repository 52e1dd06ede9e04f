"""The moderation back-office and the pause-signing switch."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from core.audit import record_event
from core.models import AuditEvent
from petitions.models import Petition, SigningPause
from tests.factories import UserFactory, staff_user
from tests.petitions.conftest import make_petition, make_signature

pytestmark = pytest.mark.django_db

QUEUE = reverse("moderation:queue")
SIGNING = reverse("moderation:signing")


def waiting(days_ago: float = 0, **fields: Any) -> Petition:
    return make_petition(
        state=Petition.State.AWAITING_MODERATION,
        opened_at=None,
        deadline=None,
        response_threshold=None,
        consideration_threshold=None,
        moderation_requested_at=timezone.now() - timedelta(days=days_ago),
        **fields,
    )


def action_url(name: str, petition: Petition) -> str:
    return reverse(f"moderation:{name}", args=[petition.pk])


@pytest.fixture
def as_moderator(client, moderator):
    client.force_login(moderator)
    return client


@pytest.fixture
def as_administrator(client, administrator):
    client.force_login(administrator)
    return client


# --- Access ---------------------------------------------------------------------------------


ALL_PAGES = ["queue", "review", "approve", "reject", "hide", "restore", "remove", "signing"]


def _url(name: str, petition: Petition) -> str:
    if name in ("queue", "signing"):
        return reverse(f"moderation:{name}")
    return action_url(name, petition)


@pytest.mark.parametrize("name", ["queue", "review", "signing"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, petition, name):
    url = _url(name, petition)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('account_login')}?next={url}"


@pytest.mark.parametrize("name", ["approve", "reject", "hide", "restore", "remove"])
def test_anonymous_posts_are_sent_to_the_login_page_and_change_nothing(client, name):
    petition = waiting()
    response = client.post(action_url(name, petition), {"reject-reason": "duplicate"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    petition.refresh_from_db()
    assert petition.state == Petition.State.AWAITING_MODERATION


@pytest.mark.parametrize("name", ALL_PAGES)
def test_citizens_and_staff_without_the_role_are_refused(client, name):
    petition = waiting()
    for user in (UserFactory(), staff_user(Role.OFFICER)):
        client.force_login(user)
        url = _url(name, petition)
        assert client.get(url).status_code in (403, 405)
        assert (
            client.post(url, {"reject-reason": "duplicate", "action": "pause"}).status_code == 403
        )
    petition.refresh_from_db()
    assert petition.state == Petition.State.AWAITING_MODERATION
    assert SigningPause.running() is None


def test_a_moderator_who_is_not_flagged_staff_is_refused(client):
    user = staff_user(Role.MODERATOR)
    user.is_staff = False
    user.save(update_fields=["is_staff"])
    client.force_login(user)
    assert client.get(QUEUE).status_code == 403


def test_the_signing_switch_is_for_administrators_not_moderators(as_moderator):
    assert as_moderator.get(SIGNING).status_code == 403
    assert as_moderator.post(SIGNING, {"action": "pause"}).status_code == 403
    assert SigningPause.running() is None


@pytest.mark.parametrize("name", ["approve", "reject", "hide", "restore", "remove"])
def test_decisions_need_a_post(as_moderator, name):
    petition = waiting()
    assert as_moderator.get(action_url(name, petition)).status_code == 405
    petition.refresh_from_db()
    assert petition.state == Petition.State.AWAITING_MODERATION


@pytest.mark.parametrize("name", ["queue", "review"])
def test_pages_refuse_a_post(as_moderator, petition, name):
    assert as_moderator.post(_url(name, petition)).status_code == 405


def test_an_unknown_petition_is_a_404(as_moderator):
    assert as_moderator.get(reverse("moderation:review", args=[999])).status_code == 404
    assert as_moderator.post(reverse("moderation:approve", args=[999])).status_code == 404


# --- The queue ------------------------------------------------------------------------------


def test_the_queue_lists_the_longest_waiting_first_with_due_dates_and_overdue_tags(
    as_moderator, settings, django_assert_max_num_queries
):
    settings.AGORA_MODERATION_TARGET_DAYS = 7
    recent = waiting(days_ago=1, title="Recent petition")
    old = waiting(days_ago=10.5, title="Old petition")
    waiting(days_ago=8, title="Late petition")
    make_petition(title="Already open petition")
    with django_assert_max_num_queries(12):
        response = as_moderator.get(QUEUE)
    assert response.status_code == 200
    page = response.text
    waiting_section = page.split('id="recent"')[0]
    assert waiting_section.index("Old petition") < waiting_section.index("Recent petition")
    assert "Already open petition" not in waiting_section
    assert "Overdue by 3 days" in page  # 3.5 days late
    assert "Overdue by 1 day" in page
    assert "2 overdue" in page
    assert action_url("review", old) in page
    assert action_url("review", recent) in page


def test_the_queue_lists_recent_decisions_from_the_audit_trail(as_moderator, moderator):
    rejected = make_petition(
        title="Rejected petition",
        state=Petition.State.REJECTED,
        rejection_reason=Petition.RejectionReason.DUPLICATE,
    )
    record_event(
        "petition.rejected", actor=moderator, target=rejected, data={"reason": "duplicate"}
    )
    page = as_moderator.get(QUEUE).text
    recent_section = page.split('id="recent"')[1].split('id="published"')[0]
    assert "Rejected petition" in recent_section
    assert moderator.display_name in recent_section
    assert str(Petition.RejectionReason.DUPLICATE.label) in recent_section


def test_published_petitions_can_be_found_by_number_or_title(as_moderator):
    trees = make_petition(title="Plant more trees")
    make_petition(title="Free buses")
    waiting(title="Trees in waiting")
    by_title = as_moderator.get(QUEUE, {"q": "trees"}).text.split('id="published"')[1]
    assert "Plant more trees" in by_title
    assert "Free buses" not in by_title
    assert "Trees in waiting" not in by_title
    by_number = as_moderator.get(QUEUE, {"q": f"#{trees.pk}"}).text.split('id="published"')[1]
    assert "Plant more trees" in by_number
    assert "Free buses" not in by_number
    nothing = as_moderator.get(QUEUE, {"q": "zzz"}).text
    assert "No published petition matches" in nothing


# --- Review ---------------------------------------------------------------------------------


def test_the_review_page_shows_the_text_the_creator_the_history_and_valid_actions(
    as_moderator, moderator
):
    creator = UserFactory(email="creator@example.org", display_name="Camille")
    petition = waiting(creator=creator, details="Some **bold** words")
    make_signature(petition, "supporter@example.org", is_supporter=True)
    record_event("petition.created", actor=creator, target=petition)
    response = as_moderator.get(action_url("review", petition))
    assert response.status_code == 200
    page = response.text
    assert "creator@example.org" in page
    assert "<strong>bold</strong>" in page
    assert "1 of 5" in page
    assert "Created" in page
    assert "Camille" in page
    assert action_url("approve", petition) in page
    assert action_url("reject", petition) in page
    assert action_url("remove", petition) in page
    assert action_url("hide", petition) not in page
    assert action_url("restore", petition) not in page
    assert 'name="reject-reason"' in page


@pytest.mark.parametrize(
    ("state", "offered", "not_offered"),
    [
        (Petition.State.OPEN, ["hide", "remove"], ["approve", "reject", "restore"]),
        (Petition.State.HIDDEN, ["restore", "remove"], ["approve", "reject", "hide"]),
        (Petition.State.REMOVED, [], ["approve", "reject", "hide", "restore", "remove"]),
    ],
)
def test_the_review_page_offers_only_the_actions_of_the_state(
    as_moderator, state, offered, not_offered
):
    petition = make_petition(state=state)
    page = as_moderator.get(action_url("review", petition)).text
    for name in offered:
        assert action_url(name, petition) in page
    for name in not_offered:
        assert action_url(name, petition) not in page


# --- Decisions ------------------------------------------------------------------------------


def test_approving_opens_the_petition_records_it_and_emails_the_creator(
    as_moderator, moderator, django_capture_on_commit_callbacks
):
    petition = waiting()
    with django_capture_on_commit_callbacks(execute=True):
        response = as_moderator.post(action_url("approve", petition))
    assert response.status_code == 302
    assert response.url == QUEUE
    petition.refresh_from_db()
    assert petition.state == Petition.State.OPEN
    assert petition.deadline is not None
    assert AuditEvent.objects.filter(
        action="petition.opened", actor=moderator, target_id=str(petition.pk)
    ).exists()
    assert [message.to for message in mail.outbox] == [[petition.creator.email]]
    assert petition.get_absolute_url() in mail.outbox[0].body
    assert "is now open for signatures" in as_moderator.get(response.url).text


def test_approving_twice_says_the_petition_has_moved_on(as_moderator):
    petition = make_petition(state=Petition.State.OPEN)
    response = as_moderator.post(action_url("approve", petition))
    assert response.status_code == 409
    assert "no longer in a state that allows this action" in response.text
    assert not AuditEvent.objects.filter(action="petition.opened").exists()


def test_rejecting_needs_a_valid_reason(as_moderator):
    petition = waiting()
    response = as_moderator.post(action_url("reject", petition), {"reject-reason": "rude"})
    assert response.status_code == 400
    assert "There is a problem" in response.text
    assert 'href="#id_reject-reason_0"' in response.text
    petition.refresh_from_db()
    assert petition.state == Petition.State.AWAITING_MODERATION
    assert mail.outbox == []


def test_rejecting_records_the_reason_and_emails_the_creator(
    as_moderator, moderator, django_capture_on_commit_callbacks
):
    petition = waiting()
    with django_capture_on_commit_callbacks(execute=True):
        response = as_moderator.post(
            action_url("reject", petition),
            {"reject-reason": "duplicate", "reject-details": "See petition 3."},
        )
    assert response.status_code == 302
    assert response.url == QUEUE
    petition.refresh_from_db()
    assert petition.state == Petition.State.REJECTED
    assert petition.rejection_reason == "duplicate"
    assert petition.rejection_details == "See petition 3."
    event = AuditEvent.objects.get(action="petition.rejected")
    assert event.actor == moderator
    assert event.data == {"reason": "duplicate"}
    assert len(mail.outbox) == 1
    assert "See petition 3." in mail.outbox[0].body


def test_hiding_needs_a_reason_then_hides_and_records_it(as_moderator, moderator):
    petition = make_petition()
    response = as_moderator.post(action_url("hide", petition), {"hide-details": "  "})
    assert response.status_code == 400
    assert "Say why you are hiding this petition." in response.text
    petition.refresh_from_db()
    assert petition.state == Petition.State.OPEN

    response = as_moderator.post(action_url("hide", petition), {"hide-details": "Court order 12"})
    assert response.status_code == 302
    assert response.url == action_url("review", petition)
    petition.refresh_from_db()
    assert petition.state == Petition.State.HIDDEN
    event = AuditEvent.objects.get(action="petition.hidden")
    assert (event.actor, event.data) == (moderator, {"details": "Court order 12"})


def test_hiding_a_petition_waiting_for_moderation_is_a_conflict(as_moderator):
    petition = waiting()
    response = as_moderator.post(action_url("hide", petition), {"hide-details": "Spam"})
    assert response.status_code == 409
    petition.refresh_from_db()
    assert petition.state == Petition.State.AWAITING_MODERATION


def test_restoring_brings_a_hidden_petition_back(as_moderator, moderator):
    petition = make_petition(state=Petition.State.HIDDEN, hidden_at=timezone.now())
    response = as_moderator.post(action_url("restore", petition))
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.state == Petition.State.OPEN
    assert AuditEvent.objects.filter(action="petition.restored", actor=moderator).exists()
    assert as_moderator.post(action_url("restore", petition)).status_code == 409


def test_removing_needs_details_and_a_confirmation(as_moderator, moderator):
    petition = make_petition()
    response = as_moderator.post(action_url("remove", petition), {"remove-details": "Court"})
    assert response.status_code == 400
    assert "Confirm that you want to remove this petition." in response.text
    petition.refresh_from_db()
    assert petition.state == Petition.State.OPEN

    response = as_moderator.post(
        action_url("remove", petition), {"remove-details": "Court", "remove-confirm": "on"}
    )
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.state == Petition.State.REMOVED
    assert AuditEvent.objects.filter(action="petition.removed", actor=moderator).exists()


def test_decisions_are_csrf_protected(moderator):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(moderator)
    petition = waiting()
    assert client.post(action_url("approve", petition)).status_code == 403
    petition.refresh_from_db()
    assert petition.state == Petition.State.AWAITING_MODERATION


# --- Pausing signing ------------------------------------------------------------------------


def test_the_switch_shows_that_signing_runs_and_the_past_pauses(as_administrator, administrator):
    SigningPause.objects.create(
        started_by=administrator, reason="Election period", ended_at=timezone.now()
    )
    response = as_administrator.get(SIGNING)
    assert response.status_code == 200
    assert "Signing is open" in response.text
    assert "Election period" in response.text
    assert 'value="pause"' in response.text


def test_pausing_then_resuming_signing_extends_open_deadlines(as_administrator, administrator):
    petition = make_petition(opened_at=timezone.now() - timedelta(days=3))
    deadline = petition.deadline
    response = as_administrator.post(SIGNING, {"action": "pause", "reason": "Maintenance"})
    assert response.status_code == 302
    pause = SigningPause.running()
    assert pause is not None
    assert (pause.reason, pause.started_by) == ("Maintenance", administrator)
    assert AuditEvent.objects.filter(action="signing.paused", actor=administrator).exists()
    page = as_administrator.get(SIGNING).text
    assert "Signing is paused." in page
    assert "Maintenance" in page
    assert 'value="resume"' in page

    SigningPause.objects.filter(pk=pause.pk).update(started_at=timezone.now() - timedelta(hours=2))
    response = as_administrator.post(SIGNING, {"action": "resume"})
    assert response.status_code == 302
    assert SigningPause.running() is None
    petition.refresh_from_db()
    assert petition.deadline - deadline >= timedelta(hours=2)
    assert AuditEvent.objects.filter(action="signing.resumed", actor=administrator).exists()


def test_pausing_twice_or_resuming_when_running_is_a_conflict(as_administrator, administrator):
    SigningPause.objects.create(started_by=administrator)
    response = as_administrator.post(SIGNING, {"action": "pause"})
    assert response.status_code == 409
    assert "already paused" in response.text
    SigningPause.objects.update(ended_at=timezone.now())
    response = as_administrator.post(SIGNING, {"action": "resume"})
    assert response.status_code == 409
    assert "not paused" in response.text


def test_the_switch_refuses_a_too_long_reason_or_an_unknown_action(as_administrator):
    response = as_administrator.post(SIGNING, {"action": "pause", "reason": "x" * 301})
    assert response.status_code == 400
    assert "There is a problem" in response.text
    assert as_administrator.post(SIGNING, {"action": "explode"}).status_code == 400
    assert as_administrator.put(SIGNING).status_code == 405
    assert SigningPause.running() is None


# --- Staff home and admin -------------------------------------------------------------------


def test_the_staff_home_links_each_role_to_its_tools(client, moderator, administrator):
    client.force_login(moderator)
    page = client.get(reverse("staff:home")).text
    assert QUEUE in page
    assert SIGNING not in page
    client.force_login(administrator)
    page = client.get(reverse("staff:home")).text
    assert SIGNING in page
    assert reverse("admin:petitions_thresholdpolicy_changelist") in page


def test_administrators_edit_the_one_threshold_policy_in_the_admin(client, administrator):
    client.force_login(administrator)
    response = client.get(reverse("admin:petitions_thresholdpolicy_changelist"))
    assert response.status_code == 302
    change = response.url
    assert client.get(change).status_code == 200
    assert client.get(reverse("admin:petitions_thresholdpolicy_add")).status_code == 403
    delete = reverse("admin:petitions_thresholdpolicy_delete", args=[1])
    assert client.get(delete).status_code == 403
    response = client.post(
        change,
        {"response_threshold": "500", "signing_window_days": "90", "territory_applies_to": ""},
    )
    assert response.status_code == 302
    from petitions.models import ThresholdPolicy

    assert ThresholdPolicy.current().response_threshold == 500


def test_signing_pauses_are_read_only_in_the_admin(client, administrator):
    client.force_login(administrator)
    pause = SigningPause.objects.create(started_by=administrator, ended_at=timezone.now())
    assert client.get(reverse("admin:petitions_signingpause_changelist")).status_code == 200
    assert client.get(reverse("admin:petitions_signingpause_add")).status_code == 403
    response = client.post(
        reverse("admin:petitions_signingpause_change", args=[pause.pk]), {"reason": "Edited"}
    )
    assert response.status_code == 403
    pause.refresh_from_db()
    assert pause.reason == ""


def test_moderators_cannot_reach_the_threshold_policy(client, moderator):
    client.force_login(moderator)
    response = client.get(reverse("admin:petitions_thresholdpolicy_changelist"))
    assert response.status_code == 403


@pytest.mark.parametrize("model", ["topic", "region", "country", "signingpause"])
def test_the_administrator_role_reaches_the_petition_settings_in_the_admin(
    client, administrator, countries, model
):
    client.force_login(administrator)
    assert client.get(reverse(f"admin:petitions_{model}_changelist")).status_code == 200
    assert "/staff/admin/petitions/" in client.get(reverse("admin:index")).text


def test_countries_are_read_only_but_their_population_is_editable(client, administrator, countries):
    from petitions.models import Country

    client.force_login(administrator)
    assert client.get(reverse("admin:petitions_country_add")).status_code == 403
    change = reverse("admin:petitions_country_change", args=["FR"])
    response = client.post(change, {"population": "68000000", "name_en": "Changed"})
    assert response.status_code == 302
    france = Country.objects.get(code="FR")
    assert (france.population, france.name_en) == (68_000_000, "France")
