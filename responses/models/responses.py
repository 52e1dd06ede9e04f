"""Official responses: drafted, reviewed by someone else, published, perhaps corrected."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from responses.models.departments import Department


class Response(models.Model):
    """One response, which may answer several petitions (duplicates, related asks).

    ``title`` and ``body`` hold the current text; every saved text is also a
    ``ResponseVersion``, so any two versions can be compared and nothing is lost.
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")
        APPROVED = "approved", _("Approved")
        SCHEDULED = "scheduled", _("Scheduled")
        PUBLISHED = "published", _("Published")

    EDITABLE_STATES = (State.DRAFT, State.CHANGES_REQUESTED)

    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="responses"
    )
    petitions = models.ManyToManyField(
        "petitions.Petition", verbose_name=_("petitions answered"), related_name="responses"
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("response (Markdown)"), max_length=20_000)
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.DRAFT, db_index=True
    )
    drafter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    publisher = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted for review"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    scheduled_for = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True, db_index=True)
    corrected_at = models.DateTimeField(_("updated"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("responses:detail", args=[self.pk])


class ResponseVersion(models.Model):
    """A saved text of a response: drafts, the published text, corrections."""

    class Kind(models.TextChoices):
        DRAFT = "draft", _("Draft")
        CORRECTION = "correction", _("Correction after publication")

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("response (Markdown)"))
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.DRAFT)
    note = models.CharField(_("what changed"), max_length=500, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("response version")
        verbose_name_plural = _("response versions")
        ordering = ["response", "number"]
        constraints = [
            models.UniqueConstraint(fields=["response", "number"], name="responses_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.response_id} v{self.number}"


class Review(models.Model):
    """A reviewer's decision on a submitted version: approve, or send back with a comment."""

    class Decision(models.TextChoices):
        APPROVED = "approved", _("Approved")
        SENT_BACK = "sent_back", _("Sent back")

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="reviews")
    version = models.PositiveIntegerField()
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision = models.CharField(max_length=20, choices=Decision.choices)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} v{self.version}"


class InternalNote(models.Model):
    """A note staff leave on a petition's workspace; never public."""

    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.CASCADE, related_name="internal_notes"
    )
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(_("note"), max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("internal note")
        verbose_name_plural = _("internal notes")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Note on {self.petition_id}"
