"""Write the open-data files now, as the nightly task does, and print the manifest.

    manage.py export_open_data                  # into OPEN_DATA_ROOT, served under /data/
    manage.py export_open_data --output DIR     # into DIR instead (same layout)

On a terminal, each data set shows a progress bar (rows written); otherwise one line per
data set. Safe beside the site: the new set replaces the current one only once complete.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from core.opendata import services, store

BAR_WIDTH = 24
REDRAW_SECONDS = 0.1


def bar_line(dataset: str, rows: int, total: int) -> str:
    """``petitions  [############............]  50%  1,000 / 2,000 rows``."""
    total = max(total, rows)
    filled = rows * BAR_WIDTH // total if total else BAR_WIDTH
    percent = rows * 100 // total if total else 100
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    return f"{dataset:<24} [{bar}] {percent:>3}%  {rows:,} / {total:,} rows"


class TextProgress:
    """A bar redrawn in place on a terminal; a line per finished data set elsewhere."""

    def __init__(self, out: OutputWrapper, *, in_place: bool) -> None:
        self.out = out
        self.in_place = in_place
        self.dataset = ""
        self.total = 0
        self.drawn_at = 0.0

    def start(self, dataset: str, total: int) -> None:
        self.dataset, self.total = dataset, total
        self.drawn_at = 0.0
        self.advance(0)

    def advance(self, rows: int) -> None:
        now = time.monotonic()
        if not self.in_place or now - self.drawn_at < REDRAW_SECONDS:
            return
        self.drawn_at = now
        self.out.write(f"\r\x1b[2K{bar_line(self.dataset, rows, self.total)}", ending="")
        self.out.flush()

    def finish(self, rows: int) -> None:
        line = bar_line(self.dataset, rows, rows)
        if self.in_place:
            self.out.write(f"\r\x1b[2K{line}")
        else:
            self.out.write(f"{self.dataset}: {rows:,} rows")


def summary(manifest: store.Manifest, root: Path) -> list[str]:
    lines = [
        f"Published set {manifest.set} ({manifest.generated_at:%Y-%m-%d %H:%M:%S} UTC) "
        f"in {store.set_folder(root, manifest.set)}",
        f"{'file':<28} {'rows':>10} {'bytes':>14}  sha256",
    ]
    lines += [
        f"{listed.name:<28} {listed.rows:>10,} {listed.bytes:>14,}  {listed.sha256}"
        for listed in manifest.files
    ]
    lines.append(f"Manifest: {store.manifest_path(root)}")
    return lines


class Command(BaseCommand):
    help = "Export the public data (CSV and JSON) with a manifest, as the nightly task does."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            metavar="DIR",
            help="Write into DIR instead of OPEN_DATA_ROOT (created if missing).",
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=services.CHUNK_SIZE,
            help="Rows fetched per database query (memory use grows with it).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        root = Path(options["output"]) if options["output"] else store.default_root()
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1.")
        progress = TextProgress(self.stdout, in_place=self.stdout.isatty())
        try:
            manifest = services.export_open_data(
                root=root, chunk_size=options["chunk_size"], progress=progress
            )
        except services.ExportRunning as busy:
            raise CommandError(str(busy)) from busy
        except OSError as error:
            raise CommandError(f"Cannot write to {root}: {error}") from error
        for line in summary(manifest, root):
            self.stdout.write(line)
