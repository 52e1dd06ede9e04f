"""Show how far a mailing has gone, or list the mailings still under way.

    manage.py mailing_progress              # every unfinished mailing, one line each
    manage.py mailing_progress 42           # one mailing
    manage.py mailing_progress 42 --watch   # the same, refreshed every second until finished

Read-only: it counts the mailing's outbox rows by state (one query per refresh) and never
touches them, so it is safe to run beside the senders.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from responses.models import Mailing
from responses.services import outbox

BAR_WIDTH = 10
REFRESH_SECONDS = 1.0


def progress_line(counts: dict[str, int]) -> str:
    """``[#####.....] 52% sent 5,200 / 10,000, failed 3, remaining 4,797``."""
    total, sent = counts["total"], counts["sent"]
    percent = sent * 100 // total if total else 0
    filled = sent * BAR_WIDTH // total if total else 0
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    return (
        f"[{bar}] {percent}% sent {sent:,} / {total:,}, "
        f"failed {counts['failed']:,}, remaining {counts['remaining']:,}"
    )


def describe(mailing: Mailing) -> str:
    return f"Mailing {mailing.pk}: {mailing.get_kind_display()}, petition {mailing.petition_id}"


def state(mailing: Mailing) -> str:
    if mailing.finished_at is not None:
        return f"finished at {timezone.localtime(mailing.finished_at):%Y-%m-%d %H:%M:%S}"
    if mailing.fanned_out_at is None:
        return "listing the recipients"
    return "sending"


class Command(BaseCommand):
    help = "Show a mailing's delivery progress (sent, failed, remaining), or list unfinished ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("mailing_id", nargs="?", type=int, help="The mailing's id.")
        parser.add_argument(
            "--watch",
            action="store_true",
            help="Refresh every second until the mailing is finished (Ctrl+C stops watching).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        mailing_id: int | None = options["mailing_id"]
        if mailing_id is None:
            if options["watch"]:
                raise CommandError("--watch needs a mailing id.")
            self.list_unfinished()
            return
        mailing = Mailing.objects.filter(pk=mailing_id).first()
        if mailing is None:
            raise CommandError(f"There is no mailing {mailing_id}.")
        self.stdout.write(describe(mailing))
        if options["watch"]:
            try:
                self.watch(mailing)
            except KeyboardInterrupt:
                self.stdout.write("")
            return
        self.stdout.write(f"{progress_line(outbox.progress(mailing))} ({state(mailing)})")

    def list_unfinished(self) -> None:
        mailings = list(Mailing.objects.filter(finished_at__isnull=True).order_by("created_at"))
        if not mailings:
            self.stdout.write("No mailing is under way.")
            return
        for mailing in mailings:
            self.stdout.write(
                f"{describe(mailing)}\n  {progress_line(outbox.progress(mailing))} "
                f"({state(mailing)})"
            )

    def watch(self, mailing: Mailing) -> None:
        """On a terminal, one line rewritten in place; otherwise a line per refresh."""
        in_place = self.stdout.isatty()
        while True:
            mailing.refresh_from_db(fields=["fanned_out_at", "finished_at"])
            line = progress_line(outbox.progress(mailing))
            if in_place:
                self.stdout.write(f"\r\x1b[2K{line}", ending="")
                self.stdout.flush()
            else:
                self.stdout.write(line)
            if mailing.finished_at is not None:
                break
            time.sleep(REFRESH_SECONDS)
        if in_place:
            self.stdout.write("")
        self.stdout.write(state(mailing).capitalize() + ".")
