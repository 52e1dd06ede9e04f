"""Loading region sets: the shipped French and US sets, and any other from a CSV file.

A CSV has a header with ``code,name`` and optionally ``population``, ``parent_code``
(a region of ``parent_kind``) and ``postcode_prefixes`` (space-separated prefixes or
ranges such as ``010-027``). Loading is idempotent: rows are matched on (kind, code).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import translation
from django_countries import countries

from petitions.models import Country, PostcodePrefix, Region
from petitions.places import forget_prefixes

DATA = Path(__file__).resolve().parent / "data"
FR_REGION, FR_DEPARTEMENT, US_STATE = "fr-region", "fr-departement", "us-state"


@dataclass
class LoadReport:
    regions: int = 0
    prefixes: int = 0


def expand_prefixes(spec: str) -> list[str]:
    """``"005 010-012"`` → ``["005", "010", "011", "012"]`` (ranges keep their width)."""
    prefixes: list[str] = []
    for part in spec.split():
        low, _, high = part.partition("-")
        if not high:
            prefixes.append(low)
            continue
        width = len(low)
        prefixes.extend(str(n).zfill(width) for n in range(int(low), int(high) + 1))
    return prefixes


def load_countries() -> int:
    """Every ISO 3166-1 country, named in English and French (django-countries)."""
    with translation.override("en"):
        english = dict(countries)
    with translation.override("fr"):
        french = dict(countries)
    for code, name in english.items():
        Country.objects.update_or_create(
            code=code, defaults={"name_en": str(name), "name_fr": str(french[code])}
        )
    from petitions.selectors import forget_country_choices

    forget_country_choices()
    return len(english)


@transaction.atomic
def load_csv(
    rows: Iterable[dict[str, str]], *, kind: str, country: str, parent_kind: str = ""
) -> LoadReport:
    report = LoadReport()
    country_row, _ = Country.objects.get_or_create(
        code=country, defaults={"name_en": country, "name_fr": country}
    )
    for row in rows:
        parent = None
        if row.get("parent_code"):
            parent = Region.objects.get(kind=parent_kind, code=row["parent_code"])
        region, _ = Region.objects.update_or_create(
            kind=kind,
            code=row["code"],
            defaults={
                "name": row["name"],
                "country": country_row,
                "parent": parent,
                "population": int(row["population"]) if row.get("population") else None,
            },
        )
        report.regions += 1
        for prefix in expand_prefixes(row.get("postcode_prefixes", "")):
            PostcodePrefix.objects.update_or_create(
                country=country_row, prefix=prefix, defaults={"region": region}
            )
            report.prefixes += 1
    forget_prefixes(country)
    return report


def french_postcode_prefixes(code: str) -> str:
    """The postcode prefixes of a département (README in petitions/data/)."""
    if code == "2A":
        return "200-201"
    if code == "2B":
        return "202-206"
    return code  # 01..95 and 971..976: the code is the prefix


def _read(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def load_shipped() -> dict[str, LoadReport]:
    """Countries, French régions and départements, US states."""
    load_countries()
    departements = [
        {
            **row,
            "parent_code": row["region_code"],
            "postcode_prefixes": french_postcode_prefixes(row["code"]),
        }
        for row in _read("fr_departements.csv")
    ]
    states = [{**row, "postcode_prefixes": row["zip_prefixes"]} for row in _read("us_states.csv")]
    return {
        FR_REGION: load_csv(_read("fr_regions.csv"), kind=FR_REGION, country="FR"),
        FR_DEPARTEMENT: load_csv(
            departements, kind=FR_DEPARTEMENT, country="FR", parent_kind=FR_REGION
        ),
        US_STATE: load_csv(states, kind=US_STATE, country="US"),
    }
