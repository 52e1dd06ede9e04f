"""Petition tasks: thin wrappers that call a service (see petitions/services/)."""

from __future__ import annotations

import logging

from celery import shared_task

from petitions.services import counting, lifecycle, signature_mail
from petitions.services.signature_mail import MailUnavailable

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def count_signatures() -> int | None:
    """Every AGORA_COUNT_INTERVAL_SECONDS on the `counting` queue; one run at a time."""
    return counting.count_signatures()


@shared_task(bind=True, max_retries=20, default_retry_delay=30)
def recount_signatures(self) -> int:  # type: ignore[no-untyped-def]
    """Nightly: rebuild every count from the rows and log each correction."""
    try:
        corrections = counting.recount()
    except counting.RecountBusy as busy:
        raise self.retry(exc=busy) from busy
    for correction in corrections:
        logger.warning("Recount correction: %s", correction)
    return len(corrections)


@shared_task(
    autoretry_for=(MailUnavailable,), retry_backoff=10, retry_backoff_max=300, max_retries=None
)
def send_signature_emails() -> int:
    """Confirmation and "already signed" emails that signing marked due (mail queue)."""
    return signature_mail.send_due()


@shared_task
def close_expired_petitions() -> list[int]:
    return lifecycle.close_expired_petitions()


@shared_task
def announce_threshold(petition_id: int, threshold: str) -> None:
    """Tell the creator their petition reached a threshold (enqueued once, by the claim)."""
    from petitions.models import Petition
    from petitions.notifications import threshold_reached

    petition = Petition.objects.filter(pk=petition_id).select_related("creator").first()
    if petition is not None:
        threshold_reached(petition, threshold)


@shared_task
def route_petition(petition_id: int, threshold: str) -> int:
    """Enqueued once, after commit, when a threshold crossing is claimed; idempotent."""
    from responses.services.routing import route_petition as route

    return len(route(petition_id, threshold))
