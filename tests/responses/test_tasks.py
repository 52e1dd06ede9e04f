"""The mailing tasks: the fan-out starts the senders after its first batch; a sender sends
batches until none is left (waiting for a fan-out still running), handing over before the
time limit."""

from __future__ import annotations

from types import SimpleNamespace
from unittest import mock

import pytest
from django.core import mail

from config.celery import release_claims_of_previous_life
from core import claims
from responses import tasks
from responses.models import Mailing, OutboxMessage
from responses.services import outbox
from tests.responses.test_outbox import mailing  # noqa: F401 (a fixture)


def test_a_mailing_sender_hands_over_to_a_new_task_before_the_time_limit():
    batches = iter([500, 500, 0])
    with (
        mock.patch.object(tasks.outbox, "send_batch", side_effect=lambda _id: next(batches)),
        mock.patch.object(tasks, "SEND_BUDGET", 0.0),
        mock.patch.object(tasks.send_mailing, "delay") as handed_over,
    ):
        assert tasks.send_mailing.run(7) == 500
    handed_over.assert_called_once_with(7)


def test_a_mailing_sender_within_its_time_sends_every_batch():
    batches = iter([500, 500, 0])
    with (
        mock.patch.object(tasks.outbox, "send_batch", side_effect=lambda _id: next(batches)),
        mock.patch.object(tasks.outbox, "fanning_out", return_value=False),
        mock.patch.object(tasks.send_mailing, "delay") as handed_over,
    ):
        assert tasks.send_mailing.run(7) == 1000
    handed_over.assert_not_called()


def test_a_sender_that_caught_up_with_the_fan_out_waits_for_its_next_rows():
    batches = iter([500, 0, 0, 500, 0])
    fanning = iter([True, True, False])
    with (
        mock.patch.object(tasks.outbox, "send_batch", side_effect=lambda _id: next(batches)),
        mock.patch.object(tasks.outbox, "fanning_out", side_effect=lambda _id: next(fanning)),
        mock.patch.object(tasks, "POLL_SECONDS", 0.0),
        mock.patch.object(tasks.send_mailing, "delay") as handed_over,
    ):
        assert tasks.send_mailing.run(7) == 1000
    handed_over.assert_not_called()


def test_a_sender_idle_for_its_whole_time_stops_without_a_successor():
    # The fan-out (or resume_mailings, if the fan-out died) starts senders again: idle
    # senders handing over to idle senders would pile up.
    with (
        mock.patch.object(tasks.outbox, "send_batch", return_value=0),
        mock.patch.object(tasks.outbox, "fanning_out", return_value=True),
        mock.patch.object(tasks, "POLL_SECONDS", 0.0),
        mock.patch.object(tasks, "SEND_BUDGET", 0.0),
        mock.patch.object(tasks.send_mailing, "delay") as handed_over,
    ):
        assert tasks.send_mailing.run(7) == 0
    handed_over.assert_not_called()


@pytest.mark.django_db
def test_the_senders_start_after_the_first_batch_of_the_fan_out_and_nothing_is_left(
    mailing,  # noqa: F811 (the fixture)
    settings,
):
    """Eager (as in tests): the senders run inside the fan-out's kick, so the first
    messages leave before the fan-out is over; the last kick sends the rest and the
    mailing finishes, each recipient once."""
    settings.AGORA_OUTBOX_SENDERS = 2
    settings.AGORA_OUTBOX_FANOUT_BATCH = 3
    seen: list[tuple[int, bool]] = []  # (messages so far, fan-out over) at each send
    real_send_batch = outbox.send_batch

    def send_batch(mailing_id: int) -> int:
        handled = real_send_batch(mailing_id, size=2)
        if handled:
            fanned_out = Mailing.objects.get(pk=mailing_id).fanned_out_at is not None
            seen.append((len(mail.outbox), fanned_out))
        return handled

    with (
        mock.patch.object(tasks.outbox, "send_batch", side_effect=send_batch),
        mock.patch.object(tasks, "SEND_BUDGET", 0.0),  # the last kick must start senders
    ):
        tasks.fan_out_mailing.delay(mailing.pk)

    assert seen[0] == (2, False), "the first messages left before the fan-out was over"
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert len(recipients) == 9
    assert len(set(recipients)) == 9
    mailing.refresh_from_db()
    assert mailing.finished_at is not None
    assert not OutboxMessage.objects.filter(mailing=mailing).exclude(state="sent").exists()


@pytest.mark.django_db
def test_a_sender_finding_nothing_before_the_fan_out_ends_leaves_the_mailing_open(
    mailing,  # noqa: F811 (the fixture)
):
    assert tasks.send_mailing.delay(mailing.pk).get() == 0  # eager: no waiting
    mailing.refresh_from_db()
    assert mailing.finished_at is None
    outbox.fan_out(mailing.pk)
    assert tasks.send_mailing.delay(mailing.pk).get() == 9
    mailing.refresh_from_db()
    assert mailing.finished_at is not None


def restarted(hostname: str) -> None:
    """What Celery's worker_ready signal does for a worker named ``hostname``."""
    release_claims_of_previous_life(sender=SimpleNamespace(hostname=hostname))


@pytest.mark.django_db
def test_a_worker_restarted_after_dying_mid_mailing_restarts_its_senders_at_once(
    mailing,  # noqa: F811 (the fixture)
):
    """Its claims are freed and, eager here, the senders it starts deliver the rest."""
    outbox.fan_out(mailing.pk)
    with mock.patch.object(claims, "claim_owner", return_value="mail@host-a"):
        held = outbox.claim(mailing.pk, size=4)
    assert len(held) == 4
    restarted("mail@host-a")
    assert sorted(address for message in mail.outbox for address in message.to) == sorted(
        OutboxMessage.objects.filter(mailing=mailing).values_list("email", flat=True)
    )
    mailing.refresh_from_db()
    assert mailing.finished_at is not None


@pytest.mark.django_db
def test_a_worker_starting_with_nothing_to_free_starts_no_sender(
    mailing,  # noqa: F811 (the fixture)
):
    outbox.fan_out(mailing.pk)
    with mock.patch.object(tasks.send_mailing, "delay") as started:
        restarted("mail@host-a")
    started.assert_not_called()
