"""Threshold rules: a count, a signing window, and an optional territory condition.

One engine expresses every reference system: "at least K regions of kind X, each with at
least M signatures, or M per 100,000 inhabitants" covers the French National Assembly
(30 départements), the European Citizens' Initiative (7 member states above a minimum
proportional to population) and openPetition-style quorums. The rules in force when a
petition opens are stored on it as JSON, so later policy changes never move its goalposts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

COUNTRY_KIND = "country"  # a territory rule on countries uses per-country counts


@dataclasses.dataclass(frozen=True)
class TerritoryRule:
    region_kind: str
    min_regions: int
    min_signatures: int
    per_100k: bool = False  # ``min_signatures`` is per 100,000 inhabitants

    def qualifies(self, count: int, population: int | None) -> bool:
        """Does one region with ``count`` signatures (and ``population``) count towards K?"""
        if not self.per_100k:
            return count >= self.min_signatures
        if not population:
            return False  # a per-capita rule cannot count a region of unknown size
        return count * 100_000 >= self.min_signatures * population

    def is_met(self, regions: Iterable[tuple[int, int | None]]) -> bool:
        """``regions``: (count, population) for each region of ``region_kind`` signed from."""
        qualifying = sum(1 for count, population in regions if self.qualifies(count, population))
        return qualifying >= self.min_regions

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> TerritoryRule | None:
        return cls(**data) if data else None


@dataclasses.dataclass(frozen=True)
class Threshold:
    """One threshold: a number of signatures, and perhaps a territory condition."""

    signatures: int
    territory: TerritoryRule | None = None

    def is_met(self, count: int, regions: Iterable[tuple[int, int | None]] = ()) -> bool:
        if count < self.signatures:
            return False
        return self.territory is None or self.territory.is_met(regions)
