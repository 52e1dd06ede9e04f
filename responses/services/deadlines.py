"""Reminders before and on the due date, then weekly escalation while a response is late.

Each reminder is claimed by a conditional UPDATE of its timestamp, so a task that runs
twice (or on two workers) sends each reminder once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import record_event
from petitions.models import Petition
from responses.models import Assignment, Membership, Track
from responses.services import notify

ESCALATE_EVERY = timedelta(days=7)


# Lead assignments of petitions still waiting for their response.
AWAITING = Q(
    ended_at__isnull=True,
    role=Assignment.Role.LEAD,
    track=Track.RESPONSE,
    petition__response_state=Petition.ResponseState.AWAITING,
)


def send_deadline_reminders(now: datetime | None = None) -> dict[str, int]:
    """Remind and escalate; returns how many of each were sent."""
    now = now or timezone.now()
    before = timedelta(days=settings.AGORA_REMINDER_DAYS_BEFORE)
    waiting = Assignment.objects.filter(AWAITING).select_related("petition", "department")
    sent = {"before": 0, "due": 0, "escalated": 0}
    for assignment in waiting.filter(
        reminded_before_at__isnull=True, due_at__gt=now, due_at__lte=now + before
    ):
        if _claim(assignment, "reminded_before_at", now, Q(reminded_before_at__isnull=True)):
            _remind(assignment, "reminder_before", [Membership.Role.OFFICER])
            sent["before"] += 1
    for assignment in waiting.filter(reminded_due_at__isnull=True, due_at__lte=now):
        if _claim(assignment, "reminded_due_at", now, Q(reminded_due_at__isnull=True)):
            _remind(assignment, "reminder_due", [Membership.Role.OFFICER, Membership.Role.REVIEWER])
            sent["due"] += 1
    stale = Q(escalated_at__isnull=True) | Q(escalated_at__lte=now - ESCALATE_EVERY)
    for assignment in waiting.filter(stale, due_at__lte=now - ESCALATE_EVERY):
        if _claim(assignment, "escalated_at", now, stale):
            _escalate(assignment)
            sent["escalated"] += 1
    return sent


@transaction.atomic
def _claim(assignment: Assignment, field: str, now: datetime, condition: Q) -> bool:
    return bool(Assignment.objects.filter(condition, pk=assignment.pk).update(**{field: now}))


def _remind(assignment: Assignment, template: str, roles: list[str]) -> None:
    petition = assignment.petition
    notify.staff(
        notify.members([assignment.department_id], roles),
        template=template,
        message=_("Petition %(id)s is due on %(due)s: “%(title)s”."),
        values={"id": petition.pk, "due": f"{assignment.due_at:%Y-%m-%d}", "title": petition.title},
        url=reverse("backoffice:workspace", args=[petition.pk]),
        petition=petition,
        assignment=assignment,
    )
    record_event(
        f"petition.{template}", target=petition, data={"department": assignment.department.slug}
    )


def _escalate(assignment: Assignment) -> None:
    """Weekly while late: the department's reviewers and the administrators are told."""
    petition = assignment.petition
    people = notify.members([assignment.department_id], [Membership.Role.REVIEWER])
    notify.staff(
        [*people, *notify.administrators()],
        template="escalation",
        message=_("Petition %(id)s is %(days)s days overdue in %(department)s."),
        values={
            "id": petition.pk,
            "days": assignment.days_overdue(),
            "department": assignment.department.name,
        },
        url=reverse("backoffice:workspace", args=[petition.pk]),
        petition=petition,
        assignment=assignment,
        days_overdue=assignment.days_overdue(),
    )
    record_event(
        "petition.escalated",
        target=petition,
        data={"department": assignment.department.slug, "days_overdue": assignment.days_overdue()},
    )
