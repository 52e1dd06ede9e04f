"""Departments, their staff, and the rules that route petitions to them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Department(models.Model):
    """A ministry, a service, or a committee (for the consideration threshold)."""

    class Kind(models.TextChoices):
        MINISTRY = "ministry", _("Ministry")
        SERVICE = "service", _("Service")
        COMMITTEE = "committee", _("Committee")

    name_en = models.CharField(_("name (English)"), max_length=200)
    name_fr = models.CharField(_("name (French)"), max_length=200)
    acronym = models.CharField(_("acronym"), max_length=20, blank=True)
    slug = models.SlugField(_("address"), max_length=80, unique=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.MINISTRY)
    response_target_days = models.PositiveIntegerField(
        _("response target (days)"),
        default=30,
        help_text=_("Days from routing to the published response."),
    )
    is_fallback = models.BooleanField(
        _("receives petitions without a lead department"),
        default=False,
        help_text=_("Petitions whose topics name no lead department are routed here."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["name_en"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_fallback"],
                condition=Q(is_fallback=True),
                name="responses_one_fallback_department",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_fr if get_language() == "fr" else self.name_en


class Membership(models.Model):
    """A person's role in one department. Staff only ever see their departments' work."""

    class Role(models.TextChoices):
        OFFICER = "officer", _("Department officer")
        REVIEWER = "reviewer", _("Reviewer")
        PUBLISHER = "publisher", _("Publisher")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "department", "role"], name="responses_membership_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} - {self.department} ({self.get_role_display()})"


class RoutingRule(models.Model):
    """Adds a contributing department when a petition matches a topic, a keyword or a region."""

    class Kind(models.TextChoices):
        TOPIC = "topic", _("Topic")
        KEYWORD = "keyword", _("Keyword in the title or summary")
        REGION = "region", _("Signatures from a region")

    department = models.ForeignKey(
        Department,
        verbose_name=_("contributing department"),
        on_delete=models.CASCADE,
        related_name="routing_rules",
    )
    kind = models.CharField(_("when"), max_length=20, choices=Kind.choices)
    topic = models.ForeignKey(
        "petitions.Topic", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    keyword = models.CharField(_("keyword"), max_length=100, blank=True)
    region = models.ForeignKey(
        "petitions.Region", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    region_share = models.PositiveSmallIntegerField(
        _("minimum share of signatures from the region (%)"), default=10
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="topic", topic__isnull=False)
                    | (Q(kind="keyword") & ~Q(keyword=""))
                    | Q(kind="region", region__isnull=False)
                ),
                name="responses_routingrule_has_its_criterion",
            ),
        ]

    def __str__(self) -> str:
        criterion = self.topic or self.keyword or self.region
        return f"{self.get_kind_display()} {criterion} → {self.department}"
