"""Stored counts written by the counting task: per region, per country, per hour."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from petitions.models.petition import Petition
from petitions.models.places import Region


class RegionCount(models.Model):
    """Confirmed signatures of a petition from a region (and, rolled up, its parents)."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="region_counts")
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("signatures by region")
        verbose_name_plural = _("signatures by region")
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "region"], name="petitions_regioncount_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.petition_id}/{self.region_id}: {self.count}"


class CountryCount(models.Model):
    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="country_counts")
    country = models.CharField(max_length=2)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("signatures by country")
        verbose_name_plural = _("signatures by country")
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "country"], name="petitions_countrycount_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.petition_id}/{self.country}: {self.count}"


class HourlyCount(models.Model):
    """Signatures confirmed in one hour (UTC): the chart over time and trending."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="hourly_counts")
    hour = models.DateTimeField()
    count = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("signatures by hour")
        verbose_name_plural = _("signatures by hour")
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "hour"], name="petitions_hourlycount_unique"
            ),
        ]
        indexes = [models.Index(fields=["hour", "petition"], name="hourlycount_hour")]

    def __str__(self) -> str:
        return f"{self.petition_id}@{self.hour:%Y-%m-%d %H}: {self.count}"
