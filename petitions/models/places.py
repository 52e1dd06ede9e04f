"""Where signatures come from: countries, regions (any kind, nested) and postcode prefixes."""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Country(models.Model):
    """An ISO 3166-1 country. Population is known where a territory rule needs it (ECI)."""

    code = models.CharField(_("code"), max_length=2, primary_key=True)
    name_en = models.CharField(_("name (English)"), max_length=100)
    name_fr = models.CharField(_("name (French)"), max_length=100)
    population = models.PositiveBigIntegerField(_("population"), null=True, blank=True)

    class Meta:
        verbose_name = _("country")
        verbose_name_plural = _("countries")
        ordering = ["name_en"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_fr if get_language() == "fr" else self.name_en


class Region(models.Model):
    """A region of some kind (``fr-departement``, ``fr-region``, ``us-state``...).

    Regions nest through ``parent`` (a département belongs to a région); a signature is
    attached to the finest region its postcode gives, and counts roll up to the parents.
    """

    kind = models.SlugField(_("kind"), max_length=40)
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=120)
    country = models.ForeignKey(
        Country, verbose_name=_("country"), on_delete=models.PROTECT, related_name="regions"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    population = models.PositiveBigIntegerField(_("population"), null=True, blank=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="petitions_region_kind_code"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class PostcodePrefix(models.Model):
    """A postcode prefix and the region it lies in; the longest matching prefix wins."""

    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="+")
    prefix = models.CharField(_("prefix"), max_length=10)
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="postcode_prefixes")

    class Meta:
        verbose_name = _("postcode prefix")
        verbose_name_plural = _("postcode prefixes")
        constraints = [
            models.UniqueConstraint(
                fields=["country", "prefix"], name="petitions_postcodeprefix_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country_id} {self.prefix}* → {self.region_id}"
