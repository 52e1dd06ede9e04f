"""Site-wide rules administrators edit: thresholds, and the pause-signing switch."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.lookups import IsNull
from django.utils.translation import gettext_lazy as _

from core.memo import ProcessMemo
from petitions.thresholds import TerritoryRule, Threshold


class ThresholdPolicy(models.Model):
    """The one row of threshold rules; snapshotted on each petition when it opens."""

    response_threshold = models.PositiveIntegerField(
        _("response threshold"),
        default=10_000,
        validators=[MinValueValidator(1)],
        help_text=_("Signatures after which the government must respond."),
    )
    consideration_threshold = models.PositiveIntegerField(
        _("consideration threshold"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Signatures after which a committee considers a debate. Empty: none."),
    )
    signing_window_days = models.PositiveIntegerField(
        _("signing window (days)"), default=182, validators=[MinValueValidator(1)]
    )
    territory_applies_to = models.CharField(
        _("territory condition applies to"),
        max_length=20,
        choices=[
            ("", _("no territory condition")),
            ("response", _("the response threshold")),
            ("consideration", _("the consideration threshold")),
        ],
        blank=True,
    )
    territory_region_kind = models.SlugField(
        _("region kind"),
        max_length=40,
        blank=True,
        help_text=_('For example "fr-departement", "us-state" or "country".'),
    )
    territory_min_regions = models.PositiveIntegerField(
        _("at least this many regions"), null=True, blank=True
    )
    territory_min_signatures = models.PositiveIntegerField(
        _("each with at least this many signatures"), null=True, blank=True
    )
    territory_per_100k = models.BooleanField(
        _("counted per 100,000 inhabitants"),
        default=False,
        help_text=_("The minimum above is per 100,000 inhabitants of each region."),
    )
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        verbose_name = _("threshold policy")
        verbose_name_plural = _("threshold policy")

    def __str__(self) -> str:
        return str(_("Threshold policy"))

    @classmethod
    def current(cls) -> ThresholdPolicy:
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy

    def territory(self) -> TerritoryRule | None:
        if not (self.territory_applies_to and self.territory_region_kind):
            return None
        return TerritoryRule(
            region_kind=self.territory_region_kind,
            min_regions=self.territory_min_regions or 0,
            min_signatures=self.territory_min_signatures or 0,
            per_100k=self.territory_per_100k,
        )

    def response(self) -> Threshold:
        territory = self.territory() if self.territory_applies_to == "response" else None
        return Threshold(self.response_threshold, territory)

    def consideration(self) -> Threshold | None:
        if self.consideration_threshold is None:
            return None
        territory = self.territory() if self.territory_applies_to == "consideration" else None
        return Threshold(self.consideration_threshold, territory)

    @property
    def signing_window(self) -> timedelta:
        return timedelta(days=self.signing_window_days)


class SigningPause(models.Model):
    """A period during which nobody can sign. Open deadlines grow by its length."""

    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason shown on the banner"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("signing pause")
        verbose_name_plural = _("signing pauses")
        ordering = ["-started_at"]
        constraints = [
            # At most one pause is running at any time.
            models.UniqueConstraint(
                IsNull(models.F("ended_at"), True),
                condition=models.Q(ended_at__isnull=True),
                name="petitions_one_running_pause",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}"

    @classmethod
    def running(cls) -> SigningPause | None:
        return cls.objects.filter(ended_at__isnull=True).first()

    @classmethod
    def in_force(cls) -> SigningPause | None:
        """The running pause as this process saw it less than a second ago.

        Every signature and every petition page asks; a pause takes effect everywhere
        within a second, and at once in the process that started or ended it.
        """
        return _IN_FORCE.get(None, cls.running)

    @staticmethod
    def forget() -> None:
        _IN_FORCE.forget()


_IN_FORCE: ProcessMemo[SigningPause | None] = ProcessMemo(seconds=1.0)
