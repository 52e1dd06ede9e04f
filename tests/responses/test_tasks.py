"""The mailing sender task: batches until none is left, handing over before the time limit."""

from __future__ import annotations

from unittest import mock

from responses import tasks


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
        mock.patch.object(tasks.send_mailing, "delay") as handed_over,
    ):
        assert tasks.send_mailing.run(7) == 1000
    handed_over.assert_not_called()
