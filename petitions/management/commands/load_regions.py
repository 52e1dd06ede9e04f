"""Load the shipped region sets, or another set from a CSV file (see petitions/regions.py)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from petitions.regions import load_csv, load_shipped


class Command(BaseCommand):
    help = "Load countries, French régions/départements and US states, or a CSV region set."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--csv", type=Path, help="A CSV file: code,name[,population,...]")
        parser.add_argument("--kind", help='Kind of the regions in the CSV, e.g. "de-land".')
        parser.add_argument("--country", help="ISO code of their country, e.g. DE.")
        parser.add_argument("--parent-kind", default="", help="Kind of the parent_code column.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["csv"] is None:
            for kind, report in load_shipped().items():
                self.stdout.write(f"{kind}: {report.regions} regions, {report.prefixes} prefixes")
            return
        if not (options["kind"] and options["country"]):
            raise CommandError("--csv needs --kind and --country.")
        try:
            with options["csv"].open(encoding="utf-8", newline="") as handle:
                rows = list(csv.DictReader(handle))
        except OSError as error:
            raise CommandError(f"Cannot read {options['csv']}: {error}") from error
        missing = {"code", "name"} - set(rows[0] if rows else {})
        if missing:
            raise CommandError(f"The CSV lacks the column(s): {', '.join(sorted(missing))}.")
        report = load_csv(
            rows,
            kind=options["kind"],
            country=options["country"].upper(),
            parent_kind=options["parent_kind"],
        )
        self.stdout.write(
            f"{options['kind']}: {report.regions} regions, {report.prefixes} prefixes"
        )
