"""``manage.py mailing_progress``: one mailing's progress bar, the unfinished ones, --watch."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from responses.management.commands import mailing_progress as command
from responses.models import Mailing, OutboxMessage
from tests.petitions.conftest import make_petition

pytestmark = pytest.mark.django_db


def add(mailing: Mailing, state: str, n: int) -> None:
    start = OutboxMessage.objects.count()
    OutboxMessage.objects.bulk_create(
        OutboxMessage(
            mailing=mailing,
            email=f"p{start + i}@example.org",
            email_normalised=f"p{start + i}@example.org",
            language="en",
            state=state,
        )
        for i in range(n)
    )


def run(*args: object) -> str:
    out = StringIO()
    call_command("mailing_progress", *[str(a) for a in args], stdout=out)
    return out.getvalue()


@pytest.fixture
def mailing(db):
    return Mailing.objects.create(
        kind=Mailing.Kind.DEBATE_SCHEDULED, petition=make_petition(), fanned_out_at=timezone.now()
    )


def test_the_progress_line_reads_as_documented():
    counts = {"total": 10_000, "sent": 5_200, "failed": 3, "remaining": 4_797}
    assert command.progress_line(counts) == (
        "[#####.....] 52% sent 5,200 / 10,000, failed 3, remaining 4,797"
    )


def test_an_empty_mailing_shows_an_empty_bar():
    counts = {"total": 0, "sent": 0, "failed": 0, "remaining": 0}
    assert command.progress_line(counts).startswith("[..........] 0% sent 0 / 0")


def test_one_mailing(mailing):
    add(mailing, OutboxMessage.State.SENT, 3)
    add(mailing, OutboxMessage.State.FAILED, 1)
    add(mailing, OutboxMessage.State.PENDING, 6)
    output = run(mailing.pk)
    assert f"Mailing {mailing.pk}: Debate scheduled, petition {mailing.petition_id}" in output
    assert "[###.......] 30% sent 3 / 10, failed 1, remaining 6 (sending)" in output


def test_without_an_id_it_lists_the_unfinished_mailings(mailing):
    done = Mailing.objects.create(
        kind=Mailing.Kind.DEBATE_OUTCOME,
        petition=mailing.petition,
        fanned_out_at=timezone.now(),
        finished_at=timezone.now(),
    )
    add(mailing, OutboxMessage.State.PENDING, 2)
    output = run()
    assert f"Mailing {mailing.pk}:" in output
    assert "0% sent 0 / 2" in output
    assert f"Mailing {done.pk}:" not in output


def test_without_an_unfinished_mailing_it_says_so(db):
    assert "No mailing is under way." in run()


def test_watching_refreshes_until_the_mailing_is_finished(mailing, monkeypatch):
    add(mailing, OutboxMessage.State.PENDING, 4)
    sleeps = []

    def send_some(seconds: float) -> None:
        """Each second, the senders deliver two messages, then the mailing finishes."""
        sleeps.append(seconds)
        pending = list(
            OutboxMessage.objects.filter(mailing=mailing, state="pending").values_list(
                "pk", flat=True
            )[:2]
        )
        OutboxMessage.objects.filter(pk__in=pending).update(state=OutboxMessage.State.SENT)
        if not OutboxMessage.objects.filter(mailing=mailing, state="pending").exists():
            Mailing.objects.filter(pk=mailing.pk).update(finished_at=timezone.now())

    monkeypatch.setattr(command.time, "sleep", send_some)
    output = run(mailing.pk, "--watch")
    assert sleeps == [1.0, 1.0]
    lines = [line for line in output.splitlines() if line.startswith("[")]
    assert lines == [
        "[..........] 0% sent 0 / 4, failed 0, remaining 4",
        "[#####.....] 50% sent 2 / 4, failed 0, remaining 2",
        "[##########] 100% sent 4 / 4, failed 0, remaining 0",
    ]
    assert "Finished at" in output


def test_an_unknown_mailing_is_an_error(db):
    with pytest.raises(CommandError, match="no mailing 999"):
        run(999)


def test_watching_needs_an_id(db):
    with pytest.raises(CommandError, match="needs a mailing id"):
        run("--watch")
