"""Cross-cutting models: the audit trail and the editable site pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

# The webhook models live beside their services but belong to this app: importing them
# here is what makes Django (and the migrations) see them.
from core.webhooks.models import WebhookAttempt as WebhookAttempt
from core.webhooks.models import WebhookDelivery as WebhookDelivery
from core.webhooks.models import WebhookEndpoint as WebhookEndpoint


class AuditEvent(models.Model):
    """One recorded change: who did what to which object, when, with what details.

    Rows are only ever inserted. ``actor`` is null for the system (tasks, schedules).
    ``data`` holds the change's details, never more personal data than the change needs.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=100, db_index=True)
    target_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target_id = models.CharField(max_length=64, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id", "created_at"])]

    def __str__(self) -> str:
        return f"{self.action} @ {self.created_at:%Y-%m-%d %H:%M}"


class Page(models.Model):
    """A page of the site's own text (legal notices), written in Markdown in both languages."""

    class Slug(models.TextChoices):
        ACCESSIBILITY = "accessibility", _("Accessibility statement")
        PRIVACY = "privacy", _("Privacy notice")
        TERMS = "terms", _("Terms of use")

    slug = models.SlugField(_("address"), max_length=50, unique=True, choices=Slug.choices)
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_fr = models.CharField(_("title (French)"), max_length=200)
    body_en = models.TextField(_("text (English, Markdown)"))
    body_fr = models.TextField(_("text (French, Markdown)"))
    updated_at = models.DateTimeField(_("last updated"), auto_now=True)

    class Meta:
        verbose_name = _("site page")
        verbose_name_plural = _("site pages")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return self.title_fr if get_language() == "fr" else self.title_en

    @property
    def body(self) -> str:
        return self.body_fr if get_language() == "fr" else self.body_en
