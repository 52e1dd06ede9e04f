"""Asking for a confirmation-email sender: at once, then quietly during a surge."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import override_settings

from core import redis
from petitions.models import Signature
from petitions.services import signature_mail
from tests.petitions.conftest import make_signature

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_gathering(monkeypatch):
    monkeypatch.setattr(signature_mail, "GATHER", 0.0)


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
    signature_mail._lower_latch()  # what send_due does when it finds nothing more to send
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
        mock.patch.object(signature_mail, "send_batch", side_effect=lambda *_, **__: next(batches)),
        mock.patch("petitions.tasks.send_signature_emails.delay") as handed_over,
    ):
        assert signature_mail.send_due(budget=0.0) == 200
    assert handed_over.call_count == 1
    assert next(batches) == 200  # the rest is left to the new sender


def test_a_sender_within_its_time_sends_every_batch():
    batches = iter([200, 200, 0, 0])
    with (
        mock.patch.object(signature_mail, "send_batch", side_effect=lambda *_, **__: next(batches)),
        mock.patch("petitions.tasks.send_signature_emails.delay") as handed_over,
    ):
        assert signature_mail.send_due() == 400
    assert handed_over.call_count == 0


def latch_up() -> bool:
    client = redis.client()
    if client is None:
        return cache.get(signature_mail.KICK_KEY) is not None
    return bool(client.exists(signature_mail.KICK_KEY))


def test_the_latch_stays_up_while_the_sender_finds_rows_and_comes_down_before_its_last_look():
    signature_mail._raise_latch()  # as the kick that started this sender
    batches = iter([200, 150, 0, 0])
    seen = []

    def batch(*_, **__) -> int:
        seen.append(latch_up())
        return next(batches)

    with mock.patch.object(signature_mail, "send_batch", side_effect=batch):
        assert signature_mail.send_due() == 350

    # Signatures of those moments started no other sender; after the last look they do.
    assert seen == [True, True, True, False]
    assert not latch_up()


def test_rows_found_by_the_last_look_are_sent_too():
    batches = iter([0, 5, 0, 0])
    with mock.patch.object(
        signature_mail, "send_batch", side_effect=lambda *_, **__: next(batches)
    ):
        assert signature_mail.send_due() == 5


def test_one_smtp_connection_serves_every_batch_of_a_sender(petition, monkeypatch):
    for n in range(5):
        make_signature(
            petition,
            f"signer-{n}@example.org",
            state=Signature.State.PENDING,
            email_due=Signature.EmailDue.CONFIRMATION,
        )
    monkeypatch.setattr(signature_mail, "BATCH", 2)
    opened = []
    real = signature_mail.get_connection

    def get_connection(*args, **kwargs):
        opened.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(signature_mail, "get_connection", get_connection)

    assert signature_mail.send_due() == 5

    assert len(opened) == 1
    assert sorted(message.to[0] for message in mail.outbox) == [
        f"signer-{n}@example.org" for n in range(5)
    ]
    assert not Signature.objects.exclude(email_due="").exists()


def test_after_a_batch_that_was_not_full_the_sender_waits_for_the_next_to_gather(monkeypatch):
    monkeypatch.setattr(signature_mail, "GATHER", 0.25)
    batches = iter([200, 150, 0, 0])
    with (
        mock.patch.object(signature_mail, "send_batch", side_effect=lambda *_, **__: next(batches)),
        mock.patch.object(signature_mail.time, "sleep") as slept,
    ):
        assert signature_mail.send_due() == 350

    assert [call.args for call in slept.call_args_list] == [(0.25,)]  # after 150, not after 200
