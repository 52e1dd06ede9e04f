from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import AuditEvent
from responses.models import Assignment, StaffNotification
from responses.services.deadlines import send_deadline_reminders

pytestmark = pytest.mark.django_db


def _due_in(petition, delta):
    Assignment.objects.filter(petition=petition).update(due_at=timezone.now() + delta)


def test_a_reminder_goes_to_officers_a_week_before_and_only_once(petition, officer, reviewer):
    _due_in(petition, timedelta(days=5))
    assert send_deadline_reminders() == {"before": 1, "due": 0, "escalated": 0}
    assert send_deadline_reminders() == {"before": 0, "due": 0, "escalated": 0}
    reminders = StaffNotification.objects.filter(message__contains="is due")
    assert reminders.filter(user=officer).count() == 1
    assert not reminders.filter(user=reviewer).exists()


def test_on_the_due_date_officers_and_reviewers_are_reminded(petition, officer, reviewer):
    _due_in(petition, -timedelta(hours=1))
    assert send_deadline_reminders()["due"] == 1
    reminders = StaffNotification.objects.filter(message__contains="is due")
    assert set(reminders.values_list("user", flat=True)) == {officer.pk, reviewer.pk}


def test_late_responses_escalate_weekly_to_reviewers_and_administrators(
    petition, reviewer, administrator
):
    _due_in(petition, -timedelta(days=8))
    now = timezone.now()
    assert send_deadline_reminders(now)["escalated"] == 1
    assert send_deadline_reminders(now + timedelta(days=3))["escalated"] == 0
    assert send_deadline_reminders(now + timedelta(days=7, minutes=1))["escalated"] == 1
    assert StaffNotification.objects.filter(user=administrator).count() == 2
    assert AuditEvent.objects.filter(action="petition.escalated").count() == 2


def test_responded_petitions_are_not_chased(petition):
    from petitions.models import Petition

    _due_in(petition, -timedelta(days=30))
    Petition.objects.filter(pk=petition.pk).update(response_state="responded")
    assert send_deadline_reminders() == {"before": 0, "due": 0, "escalated": 0}
