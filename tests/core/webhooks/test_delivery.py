"""Delivering: signed requests, one claim per attempt, backoff, final failure, re-sending."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from core.audit import record_event
from core.errors import InvalidTransition, NotAllowed
from core.models import AuditEvent
from core.webhooks import services, signing
from core.webhooks.models import WebhookAttempt, WebhookDelivery
from core.webhooks.tasks import deliver_webhook, retry_webhook_deliveries

pytestmark = pytest.mark.django_db

State = WebhookDelivery.State


@pytest.fixture
def delivery(endpoint, petition, enqueued):
    event = record_event("petition.opened", target=petition)
    [pk] = services.create_deliveries(event.pk)
    return WebhookDelivery.objects.get(pk=pk)


def make_due(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_a_2xx_answer_delivers_the_signed_payload(delivery, endpoint, network):
    network.answer(204)
    assert services.attempt_delivery(delivery.pk).state == State.DELIVERED
    [(url, body, headers)] = network.requests
    assert url == endpoint.url
    assert json.loads(body) == delivery.payload
    assert headers["Content-Type"] == "application/json"
    assert headers["Agora-Event"] == "petition.opened"
    assert headers["Agora-Delivery"] == str(delivery.uuid)
    assert signing.verify(endpoint.secret, body, headers["Agora-Signature"])
    delivery.refresh_from_db()
    assert delivery.delivered_at is not None
    assert delivery.attempt_count == 1
    assert delivery.last_status_code == 204
    attempt = WebhookAttempt.objects.get()
    assert (attempt.number, attempt.status_code, attempt.succeeded) == (1, 204, True)
    assert attempt.duration_ms == 12


def test_the_signature_does_not_verify_a_changed_body_another_secret_or_an_old_time(
    delivery, endpoint, network
):
    services.attempt_delivery(delivery.pk)
    [(_url, body, headers)] = network.requests
    header = headers["Agora-Signature"]
    assert header.startswith("t=")
    assert ",v1=" in header
    assert not signing.verify(endpoint.secret, body.replace(b"opened", b"closed"), header)
    assert not signing.verify("whsec_another", body, header)
    assert not signing.verify(endpoint.secret, body, header, now=time.time() + 301)
    assert not signing.verify(endpoint.secret, body, "v1=abc")


def test_the_signature_is_hmac_sha256_of_the_timestamp_and_the_body():
    import hashlib
    import hmac

    body = b'{"id":"x"}'
    expected = hmac.new(b"whsec_k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signing.header("whsec_k", body, timestamp=1700000000) == f"t=1700000000,v1={expected}"


def test_a_failed_attempt_is_logged_and_retried_after_the_backoff(delivery, network):
    network.answer(500)
    before = timezone.now()
    services.attempt_delivery(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == State.PENDING
    assert delivery.last_status_code == 500
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 30 <= wait < 32
    assert services.attempt_delivery(delivery.pk) is None  # not due yet: nothing is sent
    assert len(network.requests) == 1
    make_due(delivery)
    assert services.attempt_delivery(delivery.pk).state == State.DELIVERED
    assert list(delivery.attempts.values_list("number", "status_code")) == [(2, 200), (1, 500)]


def test_a_network_error_is_logged_with_the_error(delivery, network):
    network.answer(None, error="TimeoutError: timed out")
    services.attempt_delivery(delivery.pk)
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None
    assert attempt.error == "TimeoutError: timed out"
    assert WebhookDelivery.objects.get().state == State.PENDING


def test_the_retry_is_scheduled_after_commit_with_the_backoff_as_countdown(
    delivery, network, monkeypatch, django_capture_on_commit_callbacks
):
    scheduled = []
    monkeypatch.setattr(
        deliver_webhook, "apply_async", lambda args, countdown: scheduled.append((args, countdown))
    )
    network.answer(503)
    with django_capture_on_commit_callbacks(execute=True):
        services.attempt_delivery(delivery.pk)
    assert scheduled == [((delivery.pk,), 30.0)]


@override_settings(WEBHOOKS_BACKOFF_SECONDS=30, WEBHOOKS_BACKOFF_MAX_SECONDS=6 * 3600)
def test_the_backoff_grows_fourfold_up_to_its_cap():
    waits = [services.backoff_seconds(n) for n in range(1, 8)]
    assert waits == [30, 120, 480, 1920, 7680, 21600, 21600]


@override_settings(WEBHOOKS_MAX_ATTEMPTS=3)
def test_the_delivery_fails_for_good_after_its_last_attempt(endpoint, petition, network, enqueued):
    event = record_event("petition.opened", target=petition)
    [pk] = services.create_deliveries(event.pk)
    network.answer(500, 502, 500, 200)
    for _ in range(3):
        WebhookDelivery.objects.filter(pk=pk).update(next_attempt_at=timezone.now())
        services.attempt_delivery(pk)
    delivery = WebhookDelivery.objects.get(pk=pk)
    assert delivery.state == State.FAILED
    assert delivery.failed_at is not None
    assert delivery.next_attempt_at is None
    WebhookDelivery.objects.filter(pk=pk).update(next_attempt_at=timezone.now())
    assert services.attempt_delivery(pk) is None  # nothing more is sent, even when "due"
    assert len(network.requests) == 3
    assert delivery.attempts.count() == 3


def test_an_attempt_is_claimed_once(delivery, network, monkeypatch):
    """Two workers run the task for the same delivery: only the first sends."""
    claimed = services._claim(delivery.pk)
    assert claimed is not None
    assert claimed.attempt_count == 1
    assert services.attempt_delivery(delivery.pk) is None
    assert network.requests == []


def test_an_attempt_abandoned_by_a_dead_worker_is_taken_over_after_the_lease(delivery, network):
    services._claim(delivery.pk)  # ... and the worker died before recording anything
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )
    assert services.due_deliveries() == [delivery.pk]
    assert services.attempt_delivery(delivery.pk).state == State.DELIVERED
    assert WebhookAttempt.objects.get().number == 2


def test_a_late_worker_records_its_attempt_but_decides_nothing(delivery, network):
    claimed = services._claim(delivery.pk)
    # Its lease ran out and another worker took the delivery over.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempt_count=2)
    services._record(claimed, timezone.now(), services.transport.Outcome(500, 3))
    delivery.refresh_from_db()
    assert delivery.state == State.SENDING
    assert delivery.last_status_code is None


def test_a_disabled_endpoint_is_sent_nothing_until_enabled_again(
    administrator, delivery, endpoint, network
):
    services.disable_endpoint(endpoint, actor=administrator)
    assert services.attempt_delivery(delivery.pk) is None
    assert services.due_deliveries() == []
    services.update_endpoint(
        endpoint, actor=administrator, url=endpoint.url, events=endpoint.events, active=True
    )
    assert services.attempt_delivery(delivery.pk).state == State.DELIVERED


def test_the_sweep_enqueues_due_and_abandoned_deliveries_only(delivery, network, monkeypatch):
    sent = []
    monkeypatch.setattr(deliver_webhook, "delay", sent.append)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=1)
    )
    assert retry_webhook_deliveries() == 0
    make_due(delivery)
    assert retry_webhook_deliveries() == 1
    assert sent == [delivery.pk]


def test_the_task_makes_the_attempt(delivery, network):
    assert deliver_webhook(delivery.pk) == "delivered"
    assert deliver_webhook(delivery.pk) is None  # running it twice sends nothing more
    assert len(network.requests) == 1


# --- Re-sending ---------------------------------------------------------------------------


def fail_for_good(delivery: WebhookDelivery, network) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(last_attempt=1)
    network.answer(500)
    services.attempt_delivery(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == State.FAILED


def test_resending_a_failed_delivery_makes_one_more_attempt_with_the_same_id(
    administrator, delivery, network, enqueued
):
    fail_for_good(delivery, network)
    services.resend_delivery(delivery, actor=administrator)
    delivery.refresh_from_db()
    assert delivery.state == State.PENDING
    assert delivery.failed_at is None
    assert delivery.last_attempt == 2
    assert ("core.webhooks.tasks.deliver_webhook", (delivery.pk,)) in enqueued
    event = AuditEvent.objects.get(action="webhook.delivery_resent")
    assert event.actor == administrator
    assert event.data["delivery"] == str(delivery.uuid)
    network.answer(200)
    assert services.attempt_delivery(delivery.pk).state == State.DELIVERED
    first, second = network.requests
    assert first[1] == second[1]  # the same body, the same event id
    assert second[2]["Agora-Delivery"] == str(delivery.uuid)


def test_a_resent_delivery_that_fails_again_is_failed_after_that_attempt(
    administrator, delivery, network, enqueued
):
    fail_for_good(delivery, network)
    services.resend_delivery(delivery, actor=administrator)
    network.answer(500)
    services.attempt_delivery(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == State.FAILED
    assert delivery.attempt_count == 2


def test_resending_a_waiting_delivery_sends_it_now_and_keeps_its_retries(
    administrator, delivery, network, enqueued
):
    network.answer(500)
    services.attempt_delivery(delivery.pk)
    services.resend_delivery(delivery, actor=administrator)
    delivery.refresh_from_db()
    assert delivery.next_attempt_at <= timezone.now()
    assert delivery.last_attempt == 8


def test_a_delivery_being_sent_cannot_be_resent(administrator, delivery, enqueued):
    services._claim(delivery.pk)
    with pytest.raises(InvalidTransition):
        services.resend_delivery(delivery, actor=administrator)


def test_resending_to_a_disabled_endpoint_is_refused(administrator, delivery, endpoint, enqueued):
    services.disable_endpoint(endpoint, actor=administrator)
    with pytest.raises(InvalidTransition):
        services.resend_delivery(delivery, actor=administrator)


def test_only_administrators_resend(moderator, delivery, enqueued):
    with pytest.raises(NotAllowed):
        services.resend_delivery(delivery, actor=moderator)
