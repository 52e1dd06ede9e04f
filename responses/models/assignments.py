"""A petition routed to a department, with its due date; and the committee's debate."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from responses.models.departments import Department


class Track(models.TextChoices):
    RESPONSE = "response", _("Government response")
    CONSIDERATION = "consideration", _("Consideration for a debate")


class AssignmentQuerySet(models.QuerySet["Assignment"]):
    def active(self) -> AssignmentQuerySet:
        return self.filter(ended_at__isnull=True)

    def for_user(self, user: Any) -> AssignmentQuerySet:
        """Only the assignments of the departments the user belongs to (object permission)."""
        if getattr(user, "is_superuser", False) or getattr(user, "has_perm", lambda _p: False)(
            "accounts.administer_site"
        ):
            return self
        return self.filter(department__memberships__user=user).distinct()


class Assignment(models.Model):
    """One department's share of a petition's answer: the lead writes it, contributors help.

    Re-routing ends assignments (``ended_at``) rather than deleting them, so the history of
    who held a petition, and for how long, stays whole.
    """

    class Role(models.TextChoices):
        LEAD = "lead", _("Lead")
        CONTRIBUTOR = "contributor", _("Contributor")

    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.CASCADE, related_name="assignments"
    )
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    track = models.CharField(_("track"), max_length=20, choices=Track.choices)
    assigned_at = models.DateTimeField(_("assigned"), default=timezone.now)
    due_at = models.DateTimeField(_("due"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    reminded_before_at = models.DateTimeField(null=True, blank=True)
    reminded_due_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "department", "track"],
                condition=Q(ended_at__isnull=True),
                name="responses_one_active_assignment",
            ),
            models.UniqueConstraint(
                fields=["petition", "track"],
                condition=Q(ended_at__isnull=True, role="lead"),
                name="responses_one_active_lead",
            ),
        ]
        indexes = [models.Index(fields=["department", "ended_at", "due_at"])]

    def __str__(self) -> str:
        return f"{self.petition_id} → {self.department} ({self.role})"

    def days_overdue(self, now: datetime | None = None) -> int:
        """Whole days past the due date (0 when not overdue)."""
        moment = now or timezone.now()
        return (moment - self.due_at).days if moment > self.due_at else 0


class Debate(models.Model):
    """A committee's consideration of a petition: the debate date and its outcome."""

    petition = models.OneToOneField(
        "petitions.Petition", on_delete=models.CASCADE, related_name="debate"
    )
    committee = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="debates")
    scheduled_for = models.DateField(_("debate date"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    outcome_at = models.DateTimeField(_("outcome recorded"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("debate")
        verbose_name_plural = _("debates")

    def __str__(self) -> str:
        return f"Debate on petition {self.petition_id}"


class StaffNotification(models.Model):
    """An item in a staff member's inbox: a petition routed to them, a reminder, a review."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_notifications"
    )
    message = models.CharField(max_length=300)
    url = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("staff notification")
        verbose_name_plural = _("staff notifications")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.message
