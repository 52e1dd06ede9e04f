"""Webhook services: endpoints (register, update, disable, rotate the secret), emitting
events, delivering them with retries, and re-sending.

Exactly once, in the database: a delivery is unique per (endpoint, audit event), and each
attempt is claimed by a conditional UPDATE that moves the delivery to ``sending`` and
increments its attempt count; whoever did not change the row sends nothing. HTTP requests
are made outside any transaction, and tasks are enqueued after commit.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import record_event
from core.background import enqueue_on_commit
from core.errors import DomainError, InvalidTransition, NotAllowed
from core.models import AuditEvent
from core.webhooks import payloads, signing, transport
from core.webhooks.events import EVENT_FOR_ACTION, EventType
from core.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

ADMINISTER = "accounts.administer_site"
SUBSCRIBED_KEY = "agora:webhooks:subscribed-events"
SUBSCRIBED_SECONDS = 60  # a safety net: every change to an endpoint forgets the answer
SWEEP_LIMIT = 500
# A retry's countdown may fire a little early on another machine's clock.
CLOCK_TOLERANCE = timedelta(seconds=1)
State = WebhookDelivery.State


class InvalidEndpoint(DomainError):
    code = "invalid_endpoint"
    default_message = _("This endpoint cannot be registered.")


def _require_administrator(actor: Any) -> None:
    if not (getattr(actor, "is_authenticated", False) and actor.has_perm(ADMINISTER)):
        raise NotAllowed(_("Only administrators can do this."))


# --- Endpoints ------------------------------------------------------------------------------


def _clean(url: str, events: list[str]) -> tuple[str, list[str]]:
    url = url.strip()
    try:
        transport.check_url(url)
    except transport.UnsafeAddress as refused:
        raise InvalidEndpoint(str(refused)) from None
    chosen = sorted(set(events))
    if not chosen:
        raise InvalidEndpoint(_("Choose at least one event."))
    if not set(chosen) <= set(EventType.values):
        raise InvalidEndpoint(_("Choose only events from the list."))
    return url, chosen


def _forget_subscriptions() -> None:
    """After commit, so a concurrent reader cannot cache the old answer again."""
    transaction.on_commit(lambda: cache.delete(SUBSCRIBED_KEY))


@transaction.atomic
def register_endpoint(
    *, actor: Any, url: str, events: list[str], description: str = "", active: bool = True
) -> WebhookEndpoint:
    """Register an endpoint with a new secret (the caller shows it once)."""
    _require_administrator(actor)
    url, chosen = _clean(url, events)
    endpoint = WebhookEndpoint.objects.create(
        url=url,
        events=chosen,
        description=description.strip(),
        active=active,
        secret=signing.new_secret(),
        created_by=actor,
    )
    record_event(
        "webhook.endpoint_registered",
        actor=actor,
        target=endpoint,
        data={"url": url, "events": chosen, "active": active},
    )
    _forget_subscriptions()
    return endpoint


@transaction.atomic
def update_endpoint(
    endpoint: WebhookEndpoint,
    *,
    actor: Any,
    url: str,
    events: list[str],
    description: str = "",
    active: bool = True,
) -> WebhookEndpoint:
    """Change an endpoint; deliveries not yet sent go to the new address."""
    _require_administrator(actor)
    url, chosen = _clean(url, events)
    changes = {"url": url, "events": chosen, "description": description.strip(), "active": active}
    changed = sorted(name for name, value in changes.items() if getattr(endpoint, name) != value)
    for name, value in changes.items():
        setattr(endpoint, name, value)
    endpoint.save(update_fields=[*changes, "updated_at"])
    record_event(
        "webhook.endpoint_updated",
        actor=actor,
        target=endpoint,
        data={"changed": changed, "url": url, "events": chosen, "active": active},
    )
    _forget_subscriptions()
    return endpoint


@transaction.atomic
def disable_endpoint(endpoint: WebhookEndpoint, *, actor: Any) -> WebhookEndpoint:
    """Stop sending to the endpoint; its waiting deliveries resume if it is enabled again."""
    _require_administrator(actor)
    if not WebhookEndpoint.objects.filter(pk=endpoint.pk, active=True).update(
        active=False, updated_at=timezone.now()
    ):
        raise InvalidTransition(_("This endpoint is already disabled."))
    endpoint.active = False
    record_event("webhook.endpoint_disabled", actor=actor, target=endpoint)
    _forget_subscriptions()
    return endpoint


@transaction.atomic
def rotate_secret(endpoint: WebhookEndpoint, *, actor: Any) -> str:
    """Replace the secret at once and return the new one (shown once, never stored elsewhere).

    Deliveries sent from now on, retries included, are signed with the new secret.
    """
    _require_administrator(actor)
    now = timezone.now()
    secret = signing.new_secret()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        secret=secret, secret_rotated_at=now, updated_at=now
    )
    endpoint.secret, endpoint.secret_rotated_at = secret, now
    record_event("webhook.secret_rotated", actor=actor, target=endpoint)
    return secret


# --- Emitting -------------------------------------------------------------------------------


def subscribed_events() -> frozenset[str]:
    """The events at least one active endpoint wants; cached, as every mapped action asks."""
    try:
        cached = cache.get(SUBSCRIBED_KEY)
    except Exception:  # the cache being down must not break the change being recorded
        logger.exception("Could not read the webhook subscriptions from the cache")
        cached = None
    if cached is None:
        events: set[str] = set()
        for chosen in WebhookEndpoint.objects.filter(active=True).values_list("events", flat=True):
            events.update(chosen)
        cached = sorted(events)
        try:
            cache.set(SUBSCRIBED_KEY, cached, SUBSCRIBED_SECONDS)
        except Exception:
            logger.exception("Could not cache the webhook subscriptions")
    return frozenset(cached)


def emit(event: AuditEvent) -> None:
    """Called by ``record_event`` for every audit event, in the caller's transaction.

    Costs a dictionary lookup for unmapped actions and one cache read for mapped ones; only
    when an active endpoint subscribes is the creation of the deliveries enqueued, after
    commit (a rolled-back change announces nothing).
    """
    event_type = EVENT_FOR_ACTION.get(event.action)
    if event_type is None or event_type not in subscribed_events():
        return
    from core.webhooks.tasks import create_webhook_deliveries  # the tasks import this module

    enqueue_on_commit(create_webhook_deliveries, event.pk)


def create_deliveries(audit_event_id: int) -> list[int]:
    """One delivery per active endpoint subscribed to the event; returns the ids created.

    Idempotent: the unique (endpoint, audit event) constraint makes a second run create and
    enqueue nothing. The payload is built now and frozen, so retries and re-sends carry the
    same body, and it holds only public data (``payloads``).
    """
    from core.webhooks.tasks import deliver_webhook

    event = AuditEvent.objects.filter(pk=audit_event_id).first()
    event_type = EVENT_FOR_ACTION.get(event.action) if event is not None else None
    if event is None or event_type is None:
        return []
    done = set(
        WebhookDelivery.objects.filter(audit_event=event).values_list("endpoint_id", flat=True)
    )
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(active=True).order_by("pk")
        if endpoint.subscribes_to(event_type) and endpoint.pk not in done
    ]
    if not endpoints:
        return []
    data = payloads.event_data(event)
    if data is None:  # the object is no longer public: nothing to announce
        return []
    created = []
    for endpoint in endpoints:
        delivery_id = uuid.uuid4()
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(
                    uuid=delivery_id,
                    endpoint=endpoint,
                    audit_event=event,
                    event_type=event_type,
                    payload=payloads.envelope(str(delivery_id), event_type, event, data),
                    last_attempt=settings.WEBHOOKS_MAX_ATTEMPTS,
                    next_attempt_at=timezone.now(),
                )
                enqueue_on_commit(deliver_webhook, delivery.pk)
        except IntegrityError:
            continue  # a concurrent run created it: the endpoint gets the event once
        created.append(delivery.pk)
    return created


# --- Delivering -----------------------------------------------------------------------------


def backoff_seconds(attempt: int) -> float:
    """The wait after failed attempt number ``attempt``: BACKOFF x 4^(n-1), capped."""
    base = float(settings.WEBHOOKS_BACKOFF_SECONDS)
    cap = float(settings.WEBHOOKS_BACKOFF_MAX_SECONDS)
    return float(min(base * 4 ** (attempt - 1), cap))


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()


def headers_for(delivery: WebhookDelivery, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": f"Agora-Webhooks/1.0 (+{settings.SITE_URL})",
        "Agora-Event": delivery.event_type,
        "Agora-Delivery": str(delivery.uuid),
        "Agora-Signature": signing.header(delivery.endpoint.secret, body),
    }


def _claim(delivery_id: int) -> WebhookDelivery | None:
    """Take the next attempt: due and waiting, or abandoned by a worker that died."""
    now = timezone.now()
    if not WebhookEndpoint.objects.filter(deliveries=delivery_id, active=True).exists():
        return None  # disabled: the delivery waits until the endpoint is enabled again
    claimable = Q(state=State.PENDING, next_attempt_at__lte=now + CLOCK_TOLERANCE) | Q(
        state=State.SENDING, claimed_until__lt=now
    )
    claimed = WebhookDelivery.objects.filter(claimable, pk=delivery_id).update(
        state=State.SENDING,
        attempt_count=F("attempt_count") + 1,
        claimed_until=now + timedelta(seconds=settings.WEBHOOKS_LEASE_SECONDS),
    )
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)


def attempt_delivery(delivery_id: int) -> WebhookDelivery | None:
    """Claim, POST and record one attempt; None when there was nothing to claim.

    Safe to call any number of times: only the caller whose UPDATE claimed the attempt
    sends it. A 2xx delivers; anything else waits ``backoff_seconds`` and is retried (a
    task with a countdown, and the sweep as a safety net) until ``last_attempt`` fails.
    """
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    body = body_of(delivery)
    started_at = timezone.now()
    outcome = transport.post(delivery.endpoint.url, body, headers_for(delivery, body))
    return _record(delivery, started_at, outcome)


@transaction.atomic
def _record(
    delivery: WebhookDelivery, started_at: Any, outcome: transport.Outcome
) -> WebhookDelivery:
    number = delivery.attempt_count
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=number,
        started_at=started_at,
        duration_ms=outcome.duration_ms,
        status_code=outcome.status_code,
        succeeded=outcome.succeeded,
        error=outcome.error[:500],
        response_excerpt=outcome.excerpt,
    )
    now = timezone.now()
    delay = 0.0
    changes: dict[str, Any] = {"last_status_code": outcome.status_code, "claimed_until": None}
    if outcome.succeeded:
        changes.update(state=State.DELIVERED, delivered_at=now, next_attempt_at=None)
    elif number >= delivery.last_attempt:
        changes.update(state=State.FAILED, failed_at=now, next_attempt_at=None)
        logger.warning(
            "Webhook delivery %s failed for good after %s attempts", delivery.uuid, number
        )
    else:
        delay = backoff_seconds(number)
        changes.update(state=State.PENDING, next_attempt_at=now + timedelta(seconds=delay))
    # Only while the claim is ours: a worker that outlived its lease records, but decides nothing.
    if WebhookDelivery.objects.filter(
        pk=delivery.pk, state=State.SENDING, attempt_count=number
    ).update(**changes):
        for name, value in changes.items():
            setattr(delivery, name, value)
        if delivery.state == State.PENDING:
            transaction.on_commit(lambda: _schedule(delivery.pk, delay))
    return delivery


def _schedule(delivery_id: int, delay: float) -> None:
    from core.webhooks.tasks import deliver_webhook

    try:
        deliver_webhook.apply_async((delivery_id,), countdown=delay)
    except Exception:  # the broker may be down: the sweep sends it when it is due
        logger.exception("Could not schedule the retry of webhook delivery %s", delivery_id)


def due_deliveries() -> list[int]:
    """Deliveries whose attempt is due, or whose worker died mid-attempt (the sweep's list)."""
    now = timezone.now()
    due = Q(state=State.PENDING, next_attempt_at__lte=now) | Q(
        state=State.SENDING, claimed_until__lt=now
    )
    return list(
        WebhookDelivery.objects.filter(due, endpoint__active=True)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )


@transaction.atomic
def resend_delivery(delivery: WebhookDelivery, *, actor: Any) -> WebhookDelivery:
    """Send the same event (same id and body, new signature) again now.

    A delivered or failed delivery gets one more attempt; a waiting one is sent now and
    keeps its remaining retries. Refused while an attempt is in flight.
    """
    _require_administrator(actor)
    from core.webhooks.tasks import deliver_webhook

    if not WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, active=True).exists():
        raise InvalidTransition(_("This endpoint is disabled: enable it before re-sending."))
    now = timezone.now()
    if not WebhookDelivery.objects.filter(
        pk=delivery.pk, state__in=[State.PENDING, State.DELIVERED, State.FAILED]
    ).update(
        state=State.PENDING,
        next_attempt_at=now,
        last_attempt=Greatest(F("last_attempt"), F("attempt_count") + 1),
        failed_at=None,
    ):
        raise InvalidTransition(_("This delivery is being sent right now. Try again shortly."))
    delivery.refresh_from_db()
    record_event(
        "webhook.delivery_resent",
        actor=actor,
        target=delivery.endpoint,
        data={"delivery": str(delivery.uuid), "event": delivery.event_type},
    )
    enqueue_on_commit(deliver_webhook, delivery.pk)
    return delivery
