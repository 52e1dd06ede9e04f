"""Webhook endpoints, the deliveries of events to them, and every attempt made.

These models belong to the ``core`` app (``core.models`` imports them). A delivery is one
event for one endpoint: unique per (endpoint, audit event), so an event reaches an endpoint
at most once however often the task creating the deliveries runs. Each attempt is claimed
by a conditional UPDATE of the delivery (``state`` and ``attempt_count``), so two workers
never send the same attempt.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.webhooks.events import EventType


class WebhookEndpoint(models.Model):
    """An address that receives the events it subscribes to, signed with its own secret.

    The secret must stay readable to sign deliveries, so it is stored as is (unlike API
    keys, which are only compared): it is shown to the administrator once, at creation or
    rotation, and never again in the back-office.
    """

    url = models.URLField(_("address"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(max_length=100)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    secret_rotated_at = models.DateTimeField(_("secret rotated"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-active", "url", "pk"]

    def __str__(self) -> str:
        return self.url

    def subscribes_to(self, event_type: str) -> bool:
        return event_type in self.events

    def event_labels(self) -> list[str]:
        return [str(EventType(value).label) for value in self.events if value in EventType.values]


class WebhookDelivery(models.Model):
    """One event for one endpoint: its frozen payload, its state and its retry schedule.

    ``last_attempt`` is the number of the attempt after which a failure is final: the
    maximum at creation, and the next attempt after a manual re-send.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    uuid = models.UUIDField(_("event id"), default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("endpoint"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    audit_event = models.ForeignKey(
        "core.AuditEvent", on_delete=models.PROTECT, related_name="webhook_deliveries"
    )
    event_type = models.CharField(_("event"), max_length=50, choices=EventType.choices)
    payload = models.JSONField(_("payload"))
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.PENDING
    )
    attempt_count = models.PositiveIntegerField(_("attempts"), default=0)
    last_attempt = models.PositiveIntegerField(default=1)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(_("status code"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "audit_event"], name="webhook_delivery_once_per_event"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.uuid}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: what came back and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("time"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    status_code = models.PositiveIntegerField(_("status code"), null=True, blank=True)
    succeeded = models.BooleanField(_("delivered"), default=False)
    error = models.CharField(_("error"), max_length=500, blank=True)
    response_excerpt = models.TextField(_("response excerpt"), blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["delivery", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number"),
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.number}"
