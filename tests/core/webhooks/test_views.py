"""The administrators' webhook pages: who may see them, the forms, the secret shown once."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from core.audit import record_event
from core.webhooks import services
from core.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.core.webhooks.conftest import URL

pytestmark = pytest.mark.django_db

State = WebhookDelivery.State


@pytest.fixture
def delivery(endpoint, petition, enqueued):
    event = record_event("petition.opened", target=petition)
    [pk] = services.create_deliveries(event.pk)
    return WebhookDelivery.objects.get(pk=pk)


@pytest.fixture
def as_administrator(client, administrator):
    client.force_login(administrator)
    return client


def pages(endpoint, delivery) -> list[tuple[str, str]]:
    return [
        ("get", reverse("webhooks:list")),
        ("get", reverse("webhooks:create")),
        ("post", reverse("webhooks:create")),
        ("get", reverse("webhooks:detail", args=[endpoint.pk])),
        ("get", reverse("webhooks:edit", args=[endpoint.pk])),
        ("post", reverse("webhooks:rotate", args=[endpoint.pk])),
        ("post", reverse("webhooks:disable", args=[endpoint.pk])),
        ("get", reverse("webhooks:delivery", args=[delivery.uuid])),
        ("post", reverse("webhooks:resend", args=[delivery.uuid])),
    ]


def test_anonymous_people_are_sent_to_log_in(client, endpoint, delivery):
    for method, url in pages(endpoint, delivery):
        answer = getattr(client, method)(url)
        assert answer.status_code == 302, url
        assert answer.url.startswith(reverse("account_login")), url


def test_staff_without_the_administrator_role_get_a_403(client, moderator, endpoint, delivery):
    client.force_login(moderator)
    secret = endpoint.secret
    for method, url in pages(endpoint, delivery):
        assert getattr(client, method)(url).status_code == 403, url
    endpoint.refresh_from_db()
    assert endpoint.secret == secret
    assert endpoint.active


def test_the_list_shows_endpoints_with_their_delivery_counts(as_administrator, delivery):
    page = as_administrator.get(reverse("webhooks:list"))
    assert page.status_code == 200
    assert URL in page.content.decode()
    assert page.context["endpoints"][0].waiting == 1


def test_wrong_methods_are_refused(as_administrator, endpoint):
    assert as_administrator.get(reverse("webhooks:rotate", args=[endpoint.pk])).status_code == 405
    assert as_administrator.post(reverse("webhooks:list")).status_code == 405


def test_registering_shows_the_secret_once(as_administrator):
    answer = as_administrator.post(
        reverse("webhooks:create"),
        {
            "url": URL,
            "events": ["petition.opened", "petition.closed"],
            "description": "Partner",
            "active": "on",
        },
    )
    endpoint = WebhookEndpoint.objects.get()
    assert answer.status_code == 302
    assert answer.url == reverse("webhooks:detail", args=[endpoint.pk])
    assert endpoint.events == ["petition.closed", "petition.opened"]
    first = as_administrator.get(answer.url)
    assert endpoint.secret in first.content.decode()
    assert first["Cache-Control"].startswith("max-age=0")
    again = as_administrator.get(answer.url)
    assert endpoint.secret not in again.content.decode()


def test_an_invalid_registration_is_a_400_that_names_the_problem(as_administrator):
    answer = as_administrator.post(
        reverse("webhooks:create"), {"url": "ftp://hooks.example/", "events": []}
    )
    assert answer.status_code == 400
    assert answer.context["form"].errors.keys() == {"url", "events"}
    assert not WebhookEndpoint.objects.exists()


def test_a_refused_address_is_shown_on_the_address_field(as_administrator, settings):
    settings.WEBHOOKS_REQUIRE_HTTPS = True
    answer = as_administrator.post(
        reverse("webhooks:create"),
        {"url": "http://hooks.example.org/", "events": ["petition.opened"]},
    )
    assert answer.status_code == 400
    assert "https://" in str(answer.context["form"].errors["url"])


def test_rotating_the_secret_shows_the_new_one_once(as_administrator, endpoint):
    old = endpoint.secret
    answer = as_administrator.post(reverse("webhooks:rotate", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    page = as_administrator.get(answer.url).content.decode()
    assert endpoint.secret in page
    assert old not in page


def test_editing_and_disabling_an_endpoint(as_administrator, endpoint):
    edit = reverse("webhooks:edit", args=[endpoint.pk])
    assert as_administrator.get(edit).status_code == 200
    answer = as_administrator.post(
        edit, {"url": "https://new.partner.example/", "events": ["petition.closed"], "active": "on"}
    )
    assert answer.status_code == 302
    as_administrator.post(reverse("webhooks:disable", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.active) == (
        "https://new.partner.example/",
        ["petition.closed"],
        False,
    )
    assert endpoint.secret not in as_administrator.get(answer.url).content.decode()


def test_the_delivery_log_shows_status_attempts_duration_and_answer(
    as_administrator, endpoint, delivery, network
):
    network.answer(500)
    network.outcomes[0] = services.transport.Outcome(500, 87, excerpt="Database is down")
    services.attempt_delivery(delivery.pk)
    page = as_administrator.get(reverse("webhooks:detail", args=[endpoint.pk]))
    text = page.content.decode()
    assert str(delivery.uuid) in text
    assert "87 ms" in text
    assert "Database is down" in text
    assert ">500<" in text
    row = page.context["page"].object_list[0]
    assert (row.attempt_count, row.last_status_code, row.last_duration_ms) == (1, 500, 87)
    detail = as_administrator.get(reverse("webhooks:delivery", args=[delivery.uuid]))
    assert detail.status_code == 200
    assert "Database is down" in detail.content.decode()


def test_the_delivery_log_filters_by_state(as_administrator, endpoint, delivery):
    url = reverse("webhooks:detail", args=[endpoint.pk])
    assert len(as_administrator.get(url, {"state": "failed"}).context["page"].object_list) == 0
    assert len(as_administrator.get(url, {"state": "pending"}).context["page"].object_list) == 1


def test_the_resend_button_sends_the_delivery_again(as_administrator, delivery, network, enqueued):
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state=State.FAILED)
    answer = as_administrator.post(reverse("webhooks:resend", args=[delivery.uuid]))
    assert answer.status_code == 302
    delivery.refresh_from_db()
    assert delivery.state == State.PENDING
    assert ("core.webhooks.tasks.deliver_webhook", (delivery.pk,)) in enqueued


def test_resending_a_delivery_in_flight_says_so(as_administrator, delivery, enqueued):
    services._claim(delivery.pk)
    answer = as_administrator.post(reverse("webhooks:resend", args=[delivery.uuid]), follow=True)
    assert "being sent right now" in answer.content.decode()


def test_every_change_needs_the_csrf_token(administrator, endpoint, delivery):
    client = Client(enforce_csrf_checks=True)
    client.force_login(administrator)
    secret = endpoint.secret
    for method, url in pages(endpoint, delivery):
        if method == "post":
            assert client.post(url).status_code == 403, url
    endpoint.refresh_from_db()
    assert endpoint.secret == secret
    assert endpoint.active
    assert WebhookEndpoint.objects.count() == 1


def test_the_staff_home_links_to_webhooks_for_administrators_only(client, administrator, moderator):
    client.force_login(administrator)
    assert reverse("webhooks:list") in client.get(reverse("staff:home")).content.decode()
    client.force_login(moderator)
    assert reverse("webhooks:list") not in client.get(reverse("staff:home")).content.decode()


def test_the_pages_work_in_french(as_administrator, endpoint, delivery):
    as_administrator.cookies["django_language"] = "fr"
    page = as_administrator.get(reverse("webhooks:detail", args=[endpoint.pk]))
    assert page.status_code == 200


def test_the_delivery_log_costs_the_same_queries_however_many_deliveries(
    as_administrator, administrator, endpoint, network, enqueued
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.petitions.conftest import make_petition

    url = reverse("webhooks:detail", args=[endpoint.pk])

    def queries_with(deliveries: int) -> int:
        while WebhookDelivery.objects.count() < deliveries:
            event = record_event("petition.opened", target=make_petition())
            [pk] = services.create_deliveries(event.pk)
            services.attempt_delivery(pk)
        with CaptureQueriesContext(connection) as queries:
            assert as_administrator.get(url).status_code == 200
        return len(queries)

    assert queries_with(2) == queries_with(6)


def test_the_endpoint_list_costs_the_same_queries_however_many_endpoints(
    as_administrator, administrator, endpoint
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.core.webhooks.conftest import register

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert as_administrator.get(reverse("webhooks:list")).status_code == 200
        return len(captured)

    one = queries()
    register(administrator)
    register(administrator)
    assert queries() == one
