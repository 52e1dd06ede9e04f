"""Registering, changing, disabling endpoints and rotating their secret."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import override_settings

from core.errors import InvalidTransition, NotAllowed
from core.models import AuditEvent
from core.webhooks import services
from core.webhooks.events import EventType
from core.webhooks.models import WebhookEndpoint
from tests.core.webhooks.conftest import URL, register

pytestmark = pytest.mark.django_db

OPENED, CLOSED = EventType.PETITION_OPENED.value, EventType.PETITION_CLOSED.value


def test_registering_stores_the_endpoint_with_a_new_secret_and_an_audit_event(administrator):
    endpoint = register(administrator, [CLOSED, OPENED], description=" Partner ")
    endpoint.refresh_from_db()
    assert endpoint.url == URL
    assert endpoint.events == sorted([OPENED, CLOSED])
    assert endpoint.description == "Partner"
    assert endpoint.active is True
    assert endpoint.secret.startswith("whsec_")
    assert len(endpoint.secret) > 40
    event = AuditEvent.objects.get(action="webhook.endpoint_registered")
    assert event.actor == administrator
    assert endpoint.secret not in str(event.data)


def test_each_endpoint_gets_its_own_secret(administrator):
    assert register(administrator).secret != register(administrator).secret


def test_only_administrators_register_endpoints(moderator):
    with pytest.raises(NotAllowed):
        register(moderator)
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    ["ftp://hooks.partner.example/", "https://user:pw@hooks.partner.example/", "https:///x"],
)
def test_addresses_other_than_plain_http_or_https_are_refused(administrator, url):
    with pytest.raises(services.InvalidEndpoint):
        register(administrator, url=url)


@override_settings(WEBHOOKS_REQUIRE_HTTPS=True)
def test_plain_http_is_refused_where_https_is_required(administrator):
    with pytest.raises(services.InvalidEndpoint, match="https://"):
        register(administrator, url="http://hooks.partner.example/")


@override_settings(WEBHOOKS_ALLOW_PRIVATE_HOSTS=False)
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/",
        "http://localhost/",
        "http://10.1.2.3/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
    ],
)
def test_private_and_loopback_addresses_are_refused_unless_allowed(administrator, url):
    with pytest.raises(services.InvalidEndpoint, match="private or local"):
        register(administrator, url=url)


@override_settings(WEBHOOKS_ALLOW_PRIVATE_HOSTS=False)
def test_a_public_address_is_accepted_with_the_guard_on(administrator):
    assert register(administrator, url="https://93.184.215.14/hook").pk


@pytest.mark.parametrize("events", [[], ["petition.signed"]])
def test_events_must_be_chosen_from_the_list(administrator, events):
    with pytest.raises(services.InvalidEndpoint):
        register(administrator, events)


def test_updating_changes_the_endpoint_and_records_what_changed(administrator, endpoint):
    services.update_endpoint(
        endpoint,
        actor=administrator,
        url="https://other.partner.example/",
        events=[OPENED],
        description="",
        active=True,
    )
    endpoint.refresh_from_db()
    assert endpoint.url == "https://other.partner.example/"
    assert endpoint.events == [OPENED]
    event = AuditEvent.objects.get(action="webhook.endpoint_updated")
    assert event.data["changed"] == ["events", "url"]


def test_disabling_twice_is_refused(administrator, endpoint):
    services.disable_endpoint(endpoint, actor=administrator)
    endpoint.refresh_from_db()
    assert endpoint.active is False
    with pytest.raises(InvalidTransition):
        services.disable_endpoint(endpoint, actor=administrator)
    assert AuditEvent.objects.filter(action="webhook.endpoint_disabled").count() == 1


def test_rotating_replaces_the_secret_without_recording_it(administrator, endpoint):
    old = endpoint.secret
    new = services.rotate_secret(endpoint, actor=administrator)
    endpoint.refresh_from_db()
    assert new != old
    assert endpoint.secret == new
    assert endpoint.secret_rotated_at is not None
    event = AuditEvent.objects.get(action="webhook.secret_rotated")
    assert new not in str(event.data)
    assert old not in str(event.data)


def test_only_administrators_change_endpoints(moderator, endpoint):
    with pytest.raises(NotAllowed):
        services.rotate_secret(endpoint, actor=moderator)
    with pytest.raises(NotAllowed):
        services.disable_endpoint(endpoint, actor=moderator)


def test_subscriptions_are_cached_and_forgotten_when_an_endpoint_changes(
    administrator, django_capture_on_commit_callbacks
):
    assert services.subscribed_events() == frozenset()
    assert cache.get(services.SUBSCRIBED_KEY) == []
    with django_capture_on_commit_callbacks(execute=True):
        endpoint = register(administrator, [OPENED])
    assert services.subscribed_events() == {OPENED}
    with django_capture_on_commit_callbacks(execute=True):
        services.disable_endpoint(endpoint, actor=administrator)
    assert services.subscribed_events() == frozenset()
