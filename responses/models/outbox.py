"""The outbox: one row per recipient and message, so a mailing is exactly once and resumable."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from responses.models.responses import Response


class Mailing(models.Model):
    """One message to many people: a published response, a scheduled debate, its outcome.

    Unique per (kind, petition, response version): publishing is announced once. Rows are
    created in batches from ``fanout_cursor`` (the last signature id queued), so a killed
    fan-out resumes where it stopped.
    """

    class Kind(models.TextChoices):
        RESPONSE_PUBLISHED = "response_published", _("Response published")
        DEBATE_SCHEDULED = "debate_scheduled", _("Debate scheduled")
        DEBATE_OUTCOME = "debate_outcome", _("Debate outcome")

    kind = models.CharField(max_length=30, choices=Kind.choices)
    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.CASCADE, related_name="mailings"
    )
    response = models.ForeignKey(
        Response, null=True, blank=True, on_delete=models.CASCADE, related_name="mailings"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    fanout_cursor = models.BigIntegerField(default=0)
    fanned_out_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("mailing")
        verbose_name_plural = _("mailings")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "petition", "response"],
                condition=Q(response__isnull=False),
                name="responses_mailing_once",
            ),
            models.UniqueConstraint(
                fields=["kind", "petition"],
                condition=Q(response__isnull=True),
                name="responses_mailing_once_without_response",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} - petition {self.petition_id}"


class OutboxMessage(models.Model):
    """One recipient of one mailing. Unique per (mailing, address): never sent twice."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    # No index of its own: the (mailing, email_normalised) constraint's index starts with it.
    mailing = models.ForeignKey(
        Mailing, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    signature = models.ForeignKey(
        "petitions.Signature", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.EmailField()
    email_normalised = models.CharField(max_length=254)
    language = models.CharField(max_length=8)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # A sender claims rows by writing its token with a conditional UPDATE; a claim that
    # outlives ``claimed_until`` (its worker died) can be taken over.
    claimed_until = models.DateTimeField(null=True, blank=True)
    # worker/uuid; not indexed: each index is written on every claim and every sent mark
    # (claims are read back by id; a restarted worker's release scans the pending rows).
    claim_token = models.CharField(max_length=100, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        constraints = [
            models.UniqueConstraint(
                fields=["mailing", "email_normalised"], name="responses_outbox_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["mailing", "id"],
                name="outbox_pending",
                condition=Q(state="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mailing_id} → {self.email} ({self.state})"
