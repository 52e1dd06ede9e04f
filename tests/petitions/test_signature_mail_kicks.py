"""Asking for a confirmation-email sender: at once, then quietly during a surge."""

from __future__ import annotations

from unittest import mock

import pytest
from django.test import override_settings

from petitions.services import signature_mail

pytestmark = pytest.mark.django_db


def kicks(django_capture_on_commit_callbacks, times: int) -> int:
    """Ask ``times`` times in a row; returns how many senders were started."""
    with mock.patch("petitions.tasks.send_signature_emails.apply_async") as started:
        for _ in range(times):
            with django_capture_on_commit_callbacks(execute=True):
                signature_mail.request_delivery()
    return started.call_count


def test_the_first_signature_starts_a_sender_and_the_latch_holds_back_the_next(
    django_capture_on_commit_callbacks,
):
    assert kicks(django_capture_on_commit_callbacks, 3) == 1  # the latch: one on its way


def test_a_sender_that_started_lets_the_next_signature_start_another(
    django_capture_on_commit_callbacks,
):
    assert kicks(django_capture_on_commit_callbacks, 1) == 1
    signature_mail._lower_latch()  # what send_due does when it starts
    assert kicks(django_capture_on_commit_callbacks, 1) == 1


@override_settings(AGORA_SIGNATURE_MAIL_QUIET_SECONDS=60.0)
def test_within_the_quiet_period_a_process_does_not_even_ask_redis(
    django_capture_on_commit_callbacks,
):
    with mock.patch.object(signature_mail, "_raise_latch", return_value=True) as latch:
        assert kicks(django_capture_on_commit_callbacks, 3) == 1
    assert latch.call_count == 1
    signature_mail.forget_kicks()
    with mock.patch.object(signature_mail, "_raise_latch", return_value=True) as latch:
        assert kicks(django_capture_on_commit_callbacks, 1) == 1


def test_a_sender_hands_over_to_a_new_one_before_the_time_limit():
    batches = iter([200, 200, 0])
    with (
        mock.patch.object(signature_mail, "send_batch", side_effect=lambda: next(batches)),
        mock.patch("petitions.tasks.send_signature_emails.delay") as handed_over,
    ):
        assert signature_mail.send_due(budget=0.0) == 200
    assert handed_over.call_count == 1
    assert next(batches) == 200  # the rest is left to the new sender


def test_a_sender_within_its_time_sends_every_batch():
    batches = iter([200, 200, 0])
    with (
        mock.patch.object(signature_mail, "send_batch", side_effect=lambda: next(batches)),
        mock.patch("petitions.tasks.send_signature_emails.delay") as handed_over,
    ):
        assert signature_mail.send_due() == 400
    assert handed_over.call_count == 0
