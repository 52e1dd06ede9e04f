"""Cross-cutting tasks: email delivery, the worker heartbeat, housekeeping."""

from __future__ import annotations

import logging
import smtplib
from importlib import import_module
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from core.mail import message_from_dict, temporary
from core.webhooks import tasks as webhook_tasks  # noqa: F401  (the worker finds tasks here)

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "agora:worker-heartbeat"

# Errors worth trying again: the server is busy, refused for now, or the link broke.
TRANSIENT_SMTP_ERRORS = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    smtplib.SMTPDataError,
    ConnectionError,
    TimeoutError,
)


@shared_task(
    bind=True,
    autoretry_for=TRANSIENT_SMTP_ERRORS,
    retry_backoff=10,
    retry_backoff_max=600,
    max_retries=8,
)
def send_email(self: Any, message: dict[str, Any]) -> None:
    """Deliver one serialised message (see ``core.mail.queue_message``).

    Transient SMTP failures retry with exponential backoff; a recipient refused for good
    (``SMTPRecipientsRefused``) is logged and dropped, because retrying cannot help.
    """
    try:
        message_from_dict(message).send()
    except smtplib.SMTPRecipientsRefused as refused:
        if temporary(refused):
            raise self.retry(exc=refused) from refused
        logger.warning("Recipients refused for %r", message.get("subject"))


@shared_task
def heartbeat() -> str:
    """Record that a worker and beat are alive; /health/ reports the time."""
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, now, timeout=None)
    return now


@shared_task
def clear_expired_sessions() -> None:
    """Delete expired sessions every night (the same as `manage.py clearsessions`)."""
    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.clear_expired()
