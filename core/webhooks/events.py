"""The webhook events, and the audit actions they are derived from.

Services already record an audit event for every change; a webhook event is nothing more
than some of those audit events, published. Mapping the action names here keeps the
emitting services unaware of webhooks. This module imports nothing from the project,
because ``core.audit`` reads it on every ``record_event``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    PETITION_OPENED = "petition.opened", _("A petition opened for signing")
    PETITION_THRESHOLD_REACHED = (
        "petition.threshold_reached",
        _("A petition reached the threshold for a response or for consideration"),
    )
    PETITION_ROUTED = "petition.routed", _("A petition was routed to a department")
    RESPONSE_PUBLISHED = "response.published", _("A response was published")
    PETITION_CLOSED = "petition.closed", _("A petition closed")


# Audit action -> webhook event. Both threshold actions are one event; the payload says which.
EVENT_FOR_ACTION: dict[str, str] = {
    "petition.opened": EventType.PETITION_OPENED.value,
    "petition.response_threshold_reached": EventType.PETITION_THRESHOLD_REACHED.value,
    "petition.consideration_threshold_reached": EventType.PETITION_THRESHOLD_REACHED.value,
    "petition.routed": EventType.PETITION_ROUTED.value,
    "response.published": EventType.RESPONSE_PUBLISHED.value,
    "petition.closed": EventType.PETITION_CLOSED.value,
}
