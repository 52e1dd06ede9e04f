"""Internal notes on a petition's workspace, and marking inbox items read."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from core.audit import record_event
from petitions.models import Petition
from responses.models import Department, InternalNote, StaffNotification


@transaction.atomic
def add_note(petition: Petition, *, actor: Any, department: Department, body: str) -> InternalNote:
    """A note staff leave on a petition, recorded in its history; never public."""
    note = InternalNote.objects.create(
        petition=petition, department=department, author=actor, body=body.strip()
    )
    record_event(
        "petition.note_added",
        actor=actor,
        target=petition,
        data={"department": department.slug, "note": note.pk},
    )
    return note


def mark_read(user: Any, notification_id: int | None = None) -> int:
    """Mark one (or every) unread inbox item of ``user`` read. Reading changes nobody's
    work: no audit event; idempotent."""
    unread = StaffNotification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return int(unread.update(read_at=timezone.now()))
