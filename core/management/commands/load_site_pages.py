"""Create the legal pages from the texts shipped in core/content/, without overwriting edits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from core.models import Page

CONTENT_DIR = Path(__file__).resolve().parent.parent.parent / "content"


def read_page(slug: str, language: str) -> tuple[str, str]:
    """Return (title, body) from ``<slug>.<language>.md``, whose first line is ``# Title``."""
    text = (CONTENT_DIR / f"{slug}.{language}.md").read_text(encoding="utf-8")
    first, _, body = text.partition("\n")
    return first.lstrip("# ").strip(), body.strip() + "\n"


class Command(BaseCommand):
    help = "Create the accessibility statement, privacy notice and terms if they are missing."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--overwrite", action="store_true", help="Replace edited pages with the shipped text."
        )

    def handle(self, *args: Any, overwrite: bool = False, **options: Any) -> None:
        for slug in Page.Slug.values:
            title_en, body_en = read_page(slug, "en")
            title_fr, body_fr = read_page(slug, "fr")
            values = {
                "title_en": title_en,
                "body_en": body_en,
                "title_fr": title_fr,
                "body_fr": body_fr,
            }
            if overwrite:
                _page, created = Page.objects.update_or_create(slug=slug, defaults=values)
            else:
                _page, created = Page.objects.get_or_create(slug=slug, defaults=values)
            state = "created" if created else ("replaced" if overwrite else "kept")
            self.stdout.write(f"{slug}: {state}")
