"""Recording audit events. Every service records one event per state change."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from core.api import answers
from core.models import AuditEvent
from core.webhooks.events import EVENT_FOR_ACTION


def record_event(
    action: str,
    *,
    actor: Any = None,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Insert an audit row in the caller's transaction.

    ``action`` is a dotted name (``account.deleted``, ``petition.published``); ``actor`` is a
    user or None for the system; anonymous users are stored as None.
    """
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    event = AuditEvent.objects.create(
        actor=actor,
        action=action,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        data=data or {},
    )
    if answers.enabled() and answers.concerns_public_data(action):
        transaction.on_commit(answers.invalidate)  # the API shows the change at once
    if action in EVENT_FOR_ACTION:
        # Some audit events are public webhook events (core/webhooks/events.py). Imported
        # here because the webhook services record audit events themselves.
        from core.webhooks.services import emit

        emit(event)
    return event


def events_for(target: models.Model) -> models.QuerySet[AuditEvent]:
    """The history of one object, newest first."""
    return AuditEvent.objects.filter(
        target_type=ContentType.objects.get_for_model(target), target_id=str(target.pk)
    ).select_related("actor")
