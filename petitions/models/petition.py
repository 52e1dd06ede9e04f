"""The petition: its text, its lifecycle, the rules it opened under, and its stored counts."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from petitions.models.topics import Topic
from petitions.thresholds import TerritoryRule, Threshold

TITLE_MAX = 120
SUMMARY_MAX = 500
DETAILS_MAX = 5000


def new_token() -> str:
    return secrets.token_urlsafe(24)


class PetitionQuerySet(models.QuerySet["Petition"]):
    def public(self) -> PetitionQuerySet:
        """Petitions anyone may read: open, closed, or rejected with their text shown."""
        return self.filter(state__in=Petition.PUBLIC_STATES)

    def signable(self) -> PetitionQuerySet:
        return self.filter(state=Petition.State.OPEN, deadline__gt=timezone.now())


class Petition(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        COLLECTING_SUPPORTERS = "collecting_supporters", _("Collecting supporters")
        AWAITING_MODERATION = "awaiting_moderation", _("Awaiting moderation")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")
        REJECTED = "rejected", _("Rejected")
        HIDDEN = "hidden", _("Hidden")
        REMOVED = "removed", _("Removed")

    class ResponseState(models.TextChoices):
        NONE = "none", _("No response needed yet")
        AWAITING = "awaiting_response", _("Awaiting a response")
        RESPONDED = "responded", _("Responded")

    class ConsiderationState(models.TextChoices):
        NONE = "none", _("Not for consideration")
        AWAITING = "awaiting_consideration", _("Awaiting consideration")
        CONSIDERED = "considered", _("Considered")

    class RejectionReason(models.TextChoices):
        DUPLICATE = "duplicate", _("There is already a petition about this")
        NOT_RESPONSIBLE = "not_responsible", _("It is not the public body's responsibility")
        OFFENSIVE = "offensive", _("It is offensive or abusive")
        DEFAMATORY = "defamatory", _("It could be defamatory")
        ADVERTISING = "advertising", _("It promotes a product, service or campaign")
        UNCLEAR = "unclear", _("It is unclear what it asks for")
        ALREADY_DONE = "already_done", _("It asks for something that is already being done")
        NOT_ACTION = "not_action", _("It does not ask for a clear action")
        PERSONAL_DATA = "personal_data", _("It contains personal information")
        IRRELEVANT = "irrelevant", _("It is nonsense or a joke")

    # Rejections whose text is too harmful to show.
    HIDE_TEXT_REASONS = frozenset(
        {RejectionReason.OFFENSIVE, RejectionReason.DEFAMATORY, RejectionReason.ADVERTISING}
    )
    PUBLIC_STATES = (State.OPEN, State.CLOSED, State.REJECTED)

    title = models.CharField(_("title"), max_length=TITLE_MAX)
    summary = models.TextField(_("summary"), max_length=SUMMARY_MAX)
    details = models.TextField(_("more details"), max_length=DETAILS_MAX, blank=True)
    topics = models.ManyToManyField(Topic, verbose_name=_("topics"), related_name="petitions")
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("creator"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="petitions",
    )
    creator_name = models.CharField(_("creator's name"), max_length=100)

    state = models.CharField(
        _("state"), max_length=30, choices=State.choices, default=State.DRAFT, db_index=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    moderation_requested_at = models.DateTimeField(_("sent to moderation"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    rejected_at = models.DateTimeField(_("rejected"), null=True, blank=True)
    hidden_at = models.DateTimeField(_("hidden"), null=True, blank=True)
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True, db_index=True)
    rejection_reason = models.CharField(
        _("rejection reason"), max_length=30, choices=RejectionReason.choices, blank=True
    )
    rejection_details = models.TextField(_("rejection details"), blank=True)

    supporter_token = models.CharField(max_length=64, unique=True, default=new_token)
    supporters_needed = models.PositiveIntegerField(_("supporters needed"), default=5)

    # The rules in force when the petition opened.
    response_threshold = models.PositiveIntegerField(null=True, blank=True)
    consideration_threshold = models.PositiveIntegerField(null=True, blank=True)
    response_territory = models.JSONField(null=True, blank=True)
    consideration_territory = models.JSONField(null=True, blank=True)

    response_state = models.CharField(
        _("response"), max_length=30, choices=ResponseState.choices, default=ResponseState.NONE
    )
    consideration_state = models.CharField(
        _("consideration"),
        max_length=30,
        choices=ConsiderationState.choices,
        default=ConsiderationState.NONE,
    )
    response_threshold_reached_at = models.DateTimeField(null=True, blank=True)
    consideration_threshold_reached_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    # Claimed once by responses.services.routing.route_petition (conditional UPDATE).
    response_routed_at = models.DateTimeField(null=True, blank=True)
    consideration_routed_at = models.DateTimeField(null=True, blank=True)
    response_due_at = models.DateTimeField(_("response due"), null=True, blank=True)

    # Written only by the counting task (never per signature): see petitions.services.counting.
    signature_count = models.PositiveIntegerField(_("signatures"), default=0, db_index=True)
    counted_at = models.DateTimeField(null=True, blank=True)

    objects = PetitionQuerySet.as_manager()

    class Meta:
        verbose_name = _("petition")
        verbose_name_plural = _("petitions")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "-signature_count"], name="petition_state_count"),
            models.Index(fields=["state", "deadline"], name="petition_state_deadline"),
            models.Index(fields=["state", "moderation_requested_at"], name="petition_queue"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("petitions:detail", args=[self.pk])

    @property
    def text_is_hidden(self) -> bool:
        """Offensive, defamatory and advertising rejections never show their text."""
        return self.state == self.State.HIDDEN or (
            self.state == self.State.REJECTED and self.rejection_reason in self.HIDE_TEXT_REASONS
        )

    @property
    def is_signable(self) -> bool:
        return (
            self.state == self.State.OPEN
            and self.deadline is not None
            and self.deadline > timezone.now()
        )

    def response_rule(self) -> Threshold | None:
        if self.response_threshold is None:
            return None
        return Threshold(self.response_threshold, TerritoryRule.from_json(self.response_territory))

    def consideration_rule(self) -> Threshold | None:
        if self.consideration_threshold is None:
            return None
        return Threshold(
            self.consideration_threshold, TerritoryRule.from_json(self.consideration_territory)
        )

    def next_threshold(self) -> int | None:
        """The next number of signatures that matters, for the progress bar."""
        for threshold in (self.response_threshold, self.consideration_threshold):
            if threshold is not None and self.signature_count < threshold:
                return threshold
        return None

    def moderation_due(self, target_days: int) -> datetime | None:
        if self.moderation_requested_at is None:
            return None
        return self.moderation_requested_at + timedelta(days=target_days)
