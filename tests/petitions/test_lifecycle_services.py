from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import InvalidTransition, NotAllowed
from core.models import AuditEvent
from petitions.models import Petition, SigningPause
from petitions.services.lifecycle import close_expired_petitions, pause_signing, resume_signing
from tests.factories import UserFactory
from tests.petitions.conftest import make_petition

pytestmark = pytest.mark.django_db


def test_petitions_past_their_deadline_are_closed_once():
    due = make_petition(deadline=timezone.now() - timedelta(minutes=1))
    running = make_petition()
    assert close_expired_petitions() == [due.pk]
    assert close_expired_petitions() == []
    due.refresh_from_db()
    running.refresh_from_db()
    assert due.state == Petition.State.CLOSED
    assert due.closed_at is not None
    assert running.state == Petition.State.OPEN
    assert AuditEvent.objects.filter(action="petition.closed").count() == 1


def test_nothing_closes_while_signing_is_paused():
    make_petition(deadline=timezone.now() - timedelta(minutes=1))
    SigningPause.objects.create()
    assert close_expired_petitions() == []


def test_resuming_extends_open_deadlines_by_the_pause(administrator, monkeypatch):
    start = timezone.now()
    before = make_petition(opened_at=start - timedelta(days=3), deadline=start + timedelta(days=1))
    pause_signing(actor=administrator, reason="Maintenance")
    SigningPause.objects.update(started_at=start - timedelta(hours=2))
    during = make_petition(
        opened_at=start - timedelta(hours=1), deadline=start + timedelta(days=10)
    )
    closed = make_petition(state=Petition.State.CLOSED, deadline=start - timedelta(days=5))

    resume_signing(actor=administrator)

    for petition in (before, during, closed):
        petition.refresh_from_db()
    assert before.deadline == pytest.approx(
        start + timedelta(days=1, hours=2), abs=timedelta(seconds=5)
    )
    assert during.deadline == pytest.approx(
        start + timedelta(days=10, hours=1), abs=timedelta(seconds=5)
    )
    assert closed.deadline == start - timedelta(days=5)
    assert SigningPause.running() is None
    event = AuditEvent.objects.get(action="signing.resumed")
    assert event.data["extended"] == 2


def test_pausing_twice_or_resuming_when_running_is_refused(administrator):
    pause_signing(actor=administrator)
    with pytest.raises(InvalidTransition):
        pause_signing(actor=administrator)
    resume_signing(actor=administrator)
    with pytest.raises(InvalidTransition):
        resume_signing(actor=administrator)


def test_only_administrators_pause_signing(moderator):
    with pytest.raises(NotAllowed):
        pause_signing(actor=moderator)
    with pytest.raises(NotAllowed):
        pause_signing(actor=UserFactory())
