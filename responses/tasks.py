"""Responses tasks: thin wrappers around the services (routing, deadlines, publication, mail)."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import shared_task
from django.conf import settings

from responses.models import Mailing
from responses.services import deadlines, outbox, publication

logger = logging.getLogger(__name__)


@shared_task
def send_deadline_reminders() -> dict[str, int]:
    return deadlines.send_deadline_reminders()


@shared_task
def publish_scheduled_responses() -> list[int]:
    return publication.publish_scheduled_responses()


SEND_BUDGET = 30.0  # seconds: a batch or two less than the tasks' soft time limit (60 s)
POLL_SECONDS = 0.5  # a sender that caught up with a running fan-out looks again this often


def start_senders(mailing_id: int) -> None:
    for _ in range(settings.AGORA_OUTBOX_SENDERS):
        send_mailing.delay(mailing_id)


@shared_task
def fan_out_mailing(mailing_id: int) -> int:
    """Create the outbox rows; the senders start as soon as the first batch is committed.

    The senders keep polling while the fan-out runs (see ``send_mailing``), and one that
    found nothing to send for a whole SEND_BUDGET stops; so when the fan-out ends, the
    senders are started again unless the first ones are certainly still there (started
    less than SEND_BUDGET ago). Extra senders cost nothing: each claims its own batches.
    """
    started_at: float | None = None

    def committed(done: bool) -> None:
        nonlocal started_at
        if started_at is None or (done and time.monotonic() - started_at >= SEND_BUDGET):
            started_at = time.monotonic()
            start_senders(mailing_id)

    return outbox.fan_out(mailing_id, committed=committed)


@shared_task(
    bind=True,
    autoretry_for=(outbox.TransientMailError,),
    retry_backoff=15,
    retry_backoff_max=900,
    max_retries=None,
)
def send_mailing(self: Any, mailing_id: int) -> int:
    """Send batches until none is left; a server outage retries with backoff.

    A large mailing outlasts the tasks' time limit: each sender stops after SEND_BUDGET
    seconds, between two batches, and a new task takes its place, so no sender is killed
    between the SMTP server's acceptance of a message and the row's release.

    Senders start while the fan-out still creates rows: one that finds nothing pending
    waits POLL_SECONDS and looks again as long as the fan-out is not over. One that sent
    nothing in its whole budget stops without a successor (the fan-out, or
    ``resume_mailings`` if the fan-out died, starts new senders): idle senders never pile
    up. Run eagerly (tests, ``make run`` without a worker) a sender never waits, since the
    fan-out that would add rows is the caller, blocked until it returns.
    """
    sent, started = 0, time.monotonic()
    while True:
        handled = outbox.send_batch(mailing_id)
        sent += handled
        if not handled:
            if self.request.is_eager or not outbox.fanning_out(mailing_id):
                break
            time.sleep(POLL_SECONDS)
        if time.monotonic() - started > SEND_BUDGET:
            if sent:
                send_mailing.delay(mailing_id)
            break
    return sent


def restart_mailings() -> int:
    """A worker restarted after dying in the middle of mailings: their senders died with it.

    Its running tasks are lost (their messages come back only after the broker's
    visibility timeout), so each unfinished mailing gets a full set of senders (or its
    fan-out) at once, instead of one more sender a minute from ``resume_mailings``.
    """
    restarted = 0
    for mailing in Mailing.objects.filter(finished_at__isnull=True).only("pk", "fanned_out_at"):
        if mailing.fanned_out_at is None:
            fan_out_mailing.delay(mailing.pk)
        else:
            start_senders(mailing.pk)
        restarted += 1
    return restarted


@shared_task
def resume_mailings() -> int:
    """Every minute: restart the mailings whose workers stopped (killed, redeployed)."""
    resumed = 0
    for mailing in Mailing.objects.filter(finished_at__isnull=True).only("pk", "fanned_out_at"):
        if mailing.fanned_out_at is None:
            fan_out_mailing.delay(mailing.pk)
        else:
            send_mailing.delay(mailing.pk)
        resumed += 1
    return resumed
