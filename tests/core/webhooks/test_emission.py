"""From audit events to deliveries: which actions are events, once per endpoint, public data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from core.audit import record_event
from core.models import AuditEvent
from core.webhooks import services
from core.webhooks.events import EVENT_FOR_ACTION, EventType
from core.webhooks.models import WebhookDelivery
from petitions.models import Petition
from petitions.services.counting import check_thresholds
from petitions.services.lifecycle import close_expired_petitions
from petitions.services.moderation import approve_petition, hide_petition
from responses.services.drafting import approve_response, create_response, submit_response
from responses.services.publication import publish_response
from tests.core.webhooks.conftest import register
from tests.petitions.conftest import make_petition, make_signature
from tests.responses.conftest import routed_petition

pytestmark = pytest.mark.django_db

CREATE = "core.webhooks.tasks.create_webhook_deliveries"
DELIVER = "core.webhooks.tasks.deliver_webhook"


def emitted(enqueued) -> list[AuditEvent]:
    """The audit events whose deliveries were enqueued, in order."""
    return [AuditEvent.objects.get(pk=args[0]) for name, args in enqueued if name == CREATE]


def test_every_webhook_event_comes_from_at_least_one_audit_action():
    assert set(EVENT_FOR_ACTION.values()) == set(EventType.values)


def test_opening_a_petition_emits_petition_opened(endpoint, moderator, enqueued):
    petition = make_petition(
        state=Petition.State.AWAITING_MODERATION, opened_at=None, deadline=None
    )
    approve_petition(petition, actor=moderator)
    [event] = emitted(enqueued)
    assert event.action == "petition.opened"
    assert event.target_id == str(petition.pk)


def test_reaching_the_response_threshold_emits_petition_threshold_reached(endpoint, enqueued):
    petition = make_petition(response_threshold=1, consideration_threshold=None)
    make_signature(petition, "a@example.org")
    Petition.objects.filter(pk=petition.pk).update(signature_count=1)
    check_thresholds(petition.pk)
    check_thresholds(petition.pk)  # claimed once: announced once
    [event] = emitted(enqueued)
    assert event.action == "petition.response_threshold_reached"
    services.create_deliveries(event.pk)
    payload = WebhookDelivery.objects.get().payload
    assert payload["type"] == "petition.threshold_reached"
    assert payload["data"]["threshold"]["kind"] == "response"
    assert payload["data"]["threshold"]["signatures_required"] == 1
    assert payload["data"]["threshold"]["signature_count"] == 1
    assert payload["data"]["threshold"]["reached_at"].endswith("Z")


def test_closing_a_petition_emits_petition_closed(endpoint, enqueued):
    petition = make_petition(deadline=timezone.now() - timedelta(minutes=1))
    close_expired_petitions()
    [event] = emitted(enqueued)
    assert event.action == "petition.closed"
    services.create_deliveries(event.pk)
    data = WebhookDelivery.objects.get().payload["data"]
    assert data["petition"]["id"] == petition.pk
    assert data["petition"]["state"] == "closed"


def test_routing_emits_petition_routed_with_the_departments(endpoint, topic, enqueued):
    petition = routed_petition(topic)
    [event] = emitted(enqueued)
    assert event.action == "petition.routed"
    services.create_deliveries(event.pk)
    payload = WebhookDelivery.objects.get().payload
    assert payload["type"] == "petition.routed"
    routing = payload["data"]["routing"]
    assert routing["lead_department"]["slug"] == "ecology"
    assert routing["track"] == "response"
    assert routing["due_at"].endswith("Z")
    assert payload["data"]["petition"]["id"] == petition.pk
    assert "contact_email" not in str(payload)


def test_publishing_a_response_emits_response_published(
    endpoint, topic, department, officer, reviewer, publisher, enqueued
):
    petition = routed_petition(topic)
    enqueued.clear()
    response = create_response(
        actor=officer, department=department, petitions=[petition], title="Yes", body="Trees."
    )
    submit_response(response, actor=officer)
    approve_response(response, actor=reviewer)
    publish_response(response, actor=publisher)
    [event] = emitted(enqueued)
    assert event.action == "response.published"
    services.create_deliveries(event.pk)
    payload = WebhookDelivery.objects.get().payload
    assert payload["type"] == "response.published"
    assert payload["data"]["response"]["id"] == response.pk
    assert payload["data"]["response"]["url"].endswith(response.get_absolute_url())
    assert payload["data"]["response"]["department"]["slug"] == "ecology"
    assert [p["id"] for p in payload["data"]["petitions"]] == [petition.pk]


def test_other_audit_actions_emit_nothing(endpoint, petition, enqueued):
    record_event("petition.hidden", target=petition)
    record_event("petition.recounted", target=petition)
    assert enqueued == []


def test_nothing_is_emitted_without_an_active_endpoint_for_the_event(
    administrator, petition, enqueued
):
    register(administrator, [EventType.PETITION_CLOSED.value])
    record_event("petition.opened", target=petition)
    assert enqueued == []


def test_without_any_endpoint_emitting_costs_no_query_after_the_first(
    petition, django_assert_num_queries, enqueued
):
    record_event("petition.opened", target=petition)  # reads and caches the subscriptions
    with django_assert_num_queries(1):  # the audit row alone
        record_event("petition.opened", target=petition)
    assert enqueued == []


def test_deliveries_are_created_once_per_endpoint_however_often_the_task_runs(
    administrator, petition, enqueued
):
    first, second = register(administrator), register(administrator)
    event = record_event("petition.opened", target=petition)
    created = services.create_deliveries(event.pk)
    assert services.create_deliveries(event.pk) == []
    deliveries = WebhookDelivery.objects.order_by("pk")
    assert [d.pk for d in deliveries] == created
    assert {d.endpoint_id for d in deliveries} == {first.pk, second.pk}
    assert len({d.uuid for d in deliveries}) == 2
    assert [name for name, _args in enqueued].count(DELIVER) == 2


def test_a_concurrent_run_that_already_created_the_delivery_is_not_an_error(
    endpoint, petition, enqueued, monkeypatch
):
    event = record_event("petition.opened", target=petition)
    services.create_deliveries(event.pk)
    # The other run's row was not there when this one looked: the constraint decides.
    monkeypatch.setattr(
        WebhookDelivery.objects, "filter", lambda **kw: WebhookDelivery.objects.none()
    )
    assert services.create_deliveries(event.pk) == []
    monkeypatch.undo()
    assert WebhookDelivery.objects.count() == 1


def test_the_payload_is_the_public_envelope_without_personal_data(endpoint, petition, enqueued):
    make_signature(petition, "signer@example.org", name="Secret Signer")
    event = record_event("petition.opened", target=petition)
    services.create_deliveries(event.pk)
    delivery = WebhookDelivery.objects.get()
    payload = delivery.payload
    assert payload["id"] == str(delivery.uuid)
    assert payload["type"] == "petition.opened"
    assert payload["created"].endswith("Z")
    data = payload["data"]["petition"]
    assert data["id"] == petition.pk
    assert data["title"] == petition.title
    assert data["url"] == f"{settings.SITE_URL}{petition.get_absolute_url()}"
    assert data["signature_count"] == petition.signature_count
    text = str(payload)
    for private in ("@", "Camille", "Secret Signer", petition.creator.email, "supporter"):
        assert private not in text


def test_a_petition_hidden_before_the_deliveries_are_created_is_not_announced(
    endpoint, moderator, petition, enqueued
):
    event = record_event("petition.opened", target=petition)
    hide_petition(petition, actor=moderator, details="Abuse")
    assert services.create_deliveries(event.pk) == []
    assert not WebhookDelivery.objects.exists()


def test_a_disabled_endpoint_gets_no_new_deliveries(administrator, endpoint, petition, enqueued):
    services.disable_endpoint(endpoint, actor=administrator)
    event = record_event("petition.opened", target=petition)
    assert services.create_deliveries(event.pk) == []
