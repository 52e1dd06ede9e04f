"""Validate the reference data files in this folder.

Standard library only. Run with:

    python petitions/data/check_data.py

Exits with status 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import csv
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent

EXPECTED_HEADERS = {
    "fr_regions.csv": ["code", "name", "population"],
    "fr_departements.csv": ["code", "name", "region_code", "population"],
    "us_states.csv": ["code", "name", "fips", "population", "zip_prefixes"],
}
EXPECTED_ROWS = {"fr_regions.csv": 18, "fr_departements.csv": 101, "us_states.csv": 51}

# 01..19, 2A, 2B, 21..95, 971..974, 976
EXPECTED_DEPARTEMENTS = (
    [f"{i:02d}" for i in range(1, 20)]
    + ["2A", "2B"]
    + [f"{i:02d}" for i in range(21, 96)]
    + ["971", "972", "973", "974", "976"]
)
EXPECTED_REGIONS = sorted(
    [
        "01",
        "02",
        "03",
        "04",
        "06",
        "11",
        "24",
        "27",
        "28",
        "32",
        "44",
        "52",
        "53",
        "75",
        "76",
        "84",
        "93",
        "94",
    ]
)
PREFIX_TOKEN = re.compile(r"^(\d{3})(?:-(\d{3}))?$")


def read_csv(name: str, errors: list[str]) -> list[dict[str, str]]:
    path = DATA_DIR / name
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames != EXPECTED_HEADERS[name]:
            errors.append(f"{name}: header {reader.fieldnames} != {EXPECTED_HEADERS[name]}")
        rows = list(reader)
    if len(rows) != EXPECTED_ROWS[name]:
        errors.append(f"{name}: {len(rows)} rows, expected {EXPECTED_ROWS[name]}")
    for i, row in enumerate(rows, start=2):
        if None in row or any(v is None or v.strip() == "" for v in row.values()):
            errors.append(f"{name}:{i}: missing or extra field in {row}")
        if row.get("name", "") != row.get("name", "").strip():
            errors.append(f"{name}:{i}: stray whitespace in name {row['name']!r}")
    return rows


def check_unique(name: str, rows: list[dict[str, str]], field: str, errors: list[str]) -> None:
    dupes = [k for k, n in Counter(r[field] for r in rows).items() if n > 1]
    if dupes:
        errors.append(f"{name}: duplicate {field} values {dupes}")


def population(name: str, row: dict[str, str], errors: list[str]) -> int:
    raw = row.get("population") or ""
    if not raw.isdigit() or int(raw) <= 0:
        errors.append(f"{name}: {row.get('code')}: bad population {raw!r}")
        return 0
    return int(raw)


def expand_prefixes(spec: str) -> list[str]:
    """'005 010-027 055' -> ['005', '010', ..., '027', '055'].

    Raises ValueError on a malformed token or a reversed range.
    """
    out: list[str] = []
    for token in spec.split():
        m = PREFIX_TOKEN.match(token)
        if not m:
            raise ValueError(f"malformed prefix token {token!r}")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) else lo
        if hi < lo:
            raise ValueError(f"reversed range {token!r}")
        out.extend(f"{i:03d}" for i in range(lo, hi + 1))
    return out


def check_france(errors: list[str]) -> dict[str, int]:
    regions = read_csv("fr_regions.csv", errors)
    deps = read_csv("fr_departements.csv", errors)
    check_unique("fr_regions.csv", regions, "code", errors)
    check_unique("fr_regions.csv", regions, "name", errors)
    check_unique("fr_departements.csv", deps, "code", errors)
    check_unique("fr_departements.csv", deps, "name", errors)

    region_codes = sorted(r["code"] for r in regions)
    if region_codes != EXPECTED_REGIONS:
        errors.append(f"fr_regions.csv: region codes {region_codes} != {EXPECTED_REGIONS}")
    dep_codes = [d["code"] for d in deps]
    if sorted(dep_codes) != sorted(EXPECTED_DEPARTEMENTS):
        missing = sorted(set(EXPECTED_DEPARTEMENTS) - set(dep_codes))
        extra = sorted(set(dep_codes) - set(EXPECTED_DEPARTEMENTS))
        errors.append(f"fr_departements.csv: missing codes {missing}, unexpected {extra}")

    region_pop = {r["code"]: population("fr_regions.csv", r, errors) for r in regions}
    summed: dict[str, int] = defaultdict(int)
    for d in deps:
        if d["region_code"] not in region_pop:
            errors.append(
                f"fr_departements.csv: {d['code']} has unknown region_code {d['region_code']!r}"
            )
            continue
        summed[d["region_code"]] += population("fr_departements.csv", d, errors)
    for code, pop in region_pop.items():
        if summed.get(code, 0) != pop:
            errors.append(
                f"region {code}: population {pop} != sum of its départements {summed.get(code, 0)}"
            )
    # The five overseas départements are single-département regions.
    for dep, reg in {"971": "01", "972": "02", "973": "03", "974": "04", "976": "06"}.items():
        row = next((d for d in deps if d["code"] == dep), None)
        if row is not None and row["region_code"] != reg:
            errors.append(
                f"département {dep} should belong to region {reg}, not {row['region_code']}"
            )
    return {
        "regions": len(regions),
        "departements": len(deps),
        "population": sum(region_pop.values()),
    }


def check_us(errors: list[str]) -> dict[str, int]:
    states = read_csv("us_states.csv", errors)
    for field in ("code", "name", "fips"):
        check_unique("us_states.csv", states, field, errors)
    owner: dict[str, str] = {}
    total_pop = 0
    for s in states:
        if not re.fullmatch(r"[A-Z]{2}", s["code"]):
            errors.append(f"us_states.csv: bad USPS code {s['code']!r}")
        if not re.fullmatch(r"\d{2}", s["fips"]) or not 1 <= int(s["fips"]) <= 56:
            errors.append(f"us_states.csv: {s['code']}: bad FIPS {s['fips']!r}")
        total_pop += population("us_states.csv", s, errors)
        try:
            prefixes = expand_prefixes(s["zip_prefixes"])
        except ValueError as exc:
            errors.append(f"us_states.csv: {s['code']}: {exc}")
            continue
        if not prefixes:
            errors.append(f"us_states.csv: {s['code']}: no ZIP prefixes")
        for p in prefixes:
            if not "005" <= p <= "999":
                errors.append(f"us_states.csv: {s['code']}: prefix {p} outside 005-999")
            if p in owner:
                errors.append(
                    f"us_states.csv: prefix {p} listed for both {owner[p]} and {s['code']}"
                )
            else:
                owner[p] = s["code"]
    return {"states": len(states), "population": total_pop, "prefixes": len(owner)}


def say(line: str) -> None:
    """Write one line of the report (a CLI script, so stdout is the interface)."""
    sys.stdout.write(line + "\n")


def main() -> int:
    errors: list[str] = []
    fr = check_france(errors)
    us = check_us(errors)
    say(
        f"France: {fr['regions']} régions, {fr['departements']} départements, "
        f"population municipale {fr['population']:,}"
    )
    say(
        f"US: {us['states']} states incl. DC, population {us['population']:,}, "
        f"{us['prefixes']} distinct 3-digit ZIP prefixes"
    )
    if errors:
        say(f"FAILED: {len(errors)} problem(s)")
        for e in errors:
            say(f"  - {e}")
        return 1
    say(
        "OK: all checks passed (row counts, unique codes, région codes exist, "
        "région = sum of its départements, ZIP prefixes unique and within 005-999)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
