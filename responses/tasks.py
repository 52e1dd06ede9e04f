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


@shared_task
def fan_out_mailing(mailing_id: int) -> int:
    """Create the outbox rows, then start the senders (each claims its own batches)."""
    added = outbox.fan_out(mailing_id)
    for _ in range(settings.AGORA_OUTBOX_SENDERS):
        send_mailing.delay(mailing_id)
    return added


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
    """
    sent, started = 0, time.monotonic()
    while handled := outbox.send_batch(mailing_id):
        sent += handled
        if time.monotonic() - started > SEND_BUDGET:
            send_mailing.delay(mailing_id)
            break
    return sent


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
