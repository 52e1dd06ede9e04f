"""Webhook tasks, on the `default` queue. Each only calls a service and is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from core.webhooks import services


@shared_task
def create_webhook_deliveries(audit_event_id: int) -> list[int]:
    """Create (once) and enqueue the deliveries of one audit event's webhook."""
    return services.create_deliveries(audit_event_id)


@shared_task
def deliver_webhook(delivery_id: int) -> str | None:
    """Make the delivery's next attempt if it is due and nobody else claimed it.

    Retries are not Celery retries: the service records the failure on the row and
    schedules this task again with the backoff's countdown, so the schedule survives in the
    database (the sweep below) even if the broker loses the message.
    """
    delivery = services.attempt_delivery(delivery_id)
    return None if delivery is None else str(delivery.state)


@shared_task
def retry_webhook_deliveries() -> int:
    """Every minute (beat): enqueue the deliveries that are due or were abandoned."""
    due = services.due_deliveries()
    for delivery_id in due:
        deliver_webhook.delay(delivery_id)
    return len(due)
