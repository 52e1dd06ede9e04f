"""Webhooks against a real HTTP server on loopback: signatures, retries, backoff, a worker.

The receiver is ``http.server`` in a thread. Most tests run the tasks in-process (Celery's
eager mode) with the backoff shortened by a setting; the last one goes through a real
``celery worker`` process and the broker, as production does.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.roles import Role
from core.webhooks import services, signing, transport
from core.webhooks.events import EventType
from core.webhooks.models import WebhookDelivery, WebhookEndpoint
from core.webhooks.tasks import retry_webhook_deliveries
from petitions.models import Petition
from petitions.services.lifecycle import close_expired_petitions
from petitions.services.moderation import approve_petition
from tests.conftest import require
from tests.factories import PASSWORD, staff_user
from tests.integration.conftest import WorkerProcess, assert_accessible
from tests.petitions.conftest import make_petition

pytestmark = pytest.mark.django_db(transaction=True)

State = WebhookDelivery.State


@dataclass(frozen=True)
class Received:
    at: float  # time.monotonic()
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    """What the server answers (status codes in turn, then 200) and everything it got."""

    port: int = 0
    scheme: str = "http"
    host: str = "127.0.0.1"
    cafile: Path | None = None
    answers: list[int] = field(default_factory=list)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    condition: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}/hooks/agora"

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.condition:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} request(s), got {len(self.received)}")
                self.condition.wait(remaining)
            return list(self.received)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.condition:
                status = receiver.answers.pop(0) if receiver.answers else 200
                receiver.received.append(
                    Received(time.monotonic(), self.path, dict(self.headers.items()), body)
                )
                receiver.condition.notify_all()
            if receiver.delay:
                time.sleep(receiver.delay)
            self.send_response(status)
            if status in (301, 302):
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            payload = b'{"received": true}' if status < 300 else b"Upstream database is down"
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client gave up (the timeout test)
                self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def _serve(state: Receiver, server: ThreadingHTTPServer) -> Iterator[Receiver]:
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    yield from _serve(state, ThreadingHTTPServer(("127.0.0.1", 0), _handler(state)))


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[Receiver]:
    """The receiver over TLS as ``https://localhost:<port>``, with a self-signed certificate."""
    require(shutil.which("openssl") is not None, "openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    state = Receiver(scheme="https", host="localhost", cafile=cert)
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    yield from _serve(state, server)


def register(actor: Any, receiver: Receiver) -> WebhookEndpoint:
    return services.register_endpoint(
        actor=actor, url=receiver.url, events=list(EventType.values), description="Test"
    )


def close_one_petition() -> Petition:
    petition = make_petition(deadline=timezone.now() - timedelta(minutes=1))
    assert close_expired_petitions() == [petition.pk]
    return petition


def test_an_opened_petition_reaches_the_server_signed_with_the_endpoints_secret(
    receiver: Receiver, administrator: Any, moderator: Any
) -> None:
    endpoint = register(administrator, receiver)
    petition = make_petition(
        state=Petition.State.AWAITING_MODERATION, opened_at=None, deadline=None
    )
    approve_petition(petition, actor=moderator)

    [request] = receiver.wait_for(1)
    assert request.path == "/hooks/agora"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Agora-Event"] == "petition.opened"
    assert signing.verify(endpoint.secret, request.body, request.headers["Agora-Signature"])
    assert not signing.verify(
        endpoint.secret, request.body + b" ", request.headers["Agora-Signature"]
    )
    payload = request.json()
    delivery = WebhookDelivery.objects.get()
    assert payload["id"] == str(delivery.uuid) == request.headers["Agora-Delivery"]
    assert payload["type"] == "petition.opened"
    assert payload["data"]["petition"]["id"] == petition.pk
    assert payload["data"]["petition"]["state"] == "open"
    assert delivery.state == State.DELIVERED
    attempt = delivery.attempts.get()
    assert attempt.status_code == 200
    assert attempt.response_excerpt == '{"received": true}'


@override_settings(WEBHOOKS_BACKOFF_SECONDS=1.5)
def test_a_server_error_is_retried_after_the_backoff_and_ends_delivered(
    receiver: Receiver, administrator: Any
) -> None:
    endpoint = register(administrator, receiver)
    receiver.answers = [500]
    close_one_petition()

    [first] = receiver.wait_for(1)
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == State.PENDING
    assert delivery.last_status_code == 500
    # The sweep (beat's every minute, here as fast as it can) sends nothing before it is due.
    deadline = time.monotonic() + 30
    while delivery.state == State.PENDING:
        assert time.monotonic() < deadline, "the retry never came"
        retry_webhook_deliveries.delay()
        time.sleep(0.05)
        delivery.refresh_from_db()
    second = receiver.wait_for(2)[1]
    assert second.at - first.at >= 1.5
    assert delivery.state == State.DELIVERED
    assert second.body == first.body  # the same event, the same id
    assert signing.verify(endpoint.secret, second.body, second.headers["Agora-Signature"])
    attempts = list(delivery.attempts.order_by("number").values_list("number", "status_code"))
    assert attempts == [(1, 500), (2, 200)]
    assert "Upstream database is down" in delivery.attempts.get(number=1).response_excerpt


@override_settings(WEBHOOKS_MAX_ATTEMPTS=3, WEBHOOKS_BACKOFF_SECONDS=0.01)
def test_a_server_that_keeps_failing_gets_every_attempt_then_the_delivery_fails(
    receiver: Receiver, administrator: Any
) -> None:
    register(administrator, receiver)
    receiver.answers = [500, 503, 502, 200]
    close_one_petition()
    assert len(receiver.wait_for(3)) == 3
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == State.FAILED
    assert list(delivery.attempts.values_list("status_code", flat=True)) == [502, 503, 500]
    time.sleep(0.3)
    assert len(receiver.received) == 3  # nothing after the last attempt


@override_settings(WEBHOOKS_MAX_ATTEMPTS=1, WEBHOOKS_TIMEOUT_SECONDS=0.5)
def test_a_server_slower_than_the_timeout_is_a_failed_attempt(
    receiver: Receiver, administrator: Any
) -> None:
    register(administrator, receiver)
    receiver.delay = 3.0
    started = time.monotonic()
    close_one_petition()
    assert time.monotonic() - started < 2.5
    attempt = WebhookDelivery.objects.get().attempts.get()
    assert attempt.status_code is None
    assert "timed out" in attempt.error


@override_settings(WEBHOOKS_MAX_ATTEMPTS=1)
def test_a_redirect_is_not_followed(receiver: Receiver, administrator: Any) -> None:
    register(administrator, receiver)
    receiver.answers = [302]
    close_one_petition()
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == State.FAILED
    assert delivery.last_status_code == 302
    assert len(receiver.received) == 1


@override_settings(WEBHOOKS_MAX_ATTEMPTS=1)
def test_https_to_a_certificate_nobody_vouches_for_is_refused(
    tls_receiver: Receiver, administrator: Any
) -> None:
    register(administrator, tls_receiver)
    close_one_petition()
    attempt = WebhookDelivery.objects.get().attempts.get()
    assert attempt.status_code is None
    assert "CERTIFICATE_VERIFY_FAILED" in attempt.error
    assert tls_receiver.received == []


def test_https_is_checked_against_the_host_name_while_connecting_to_the_checked_address(
    tls_receiver: Receiver, administrator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request goes to the address resolved for ``localhost``, and TLS still checks
    the certificate against ``localhost`` (the name, not the address)."""
    monkeypatch.setattr(
        transport, "tls_context", lambda: ssl.create_default_context(cafile=tls_receiver.cafile)
    )
    endpoint = register(administrator, tls_receiver)
    close_one_petition()
    [request] = tls_receiver.wait_for(1)
    assert request.headers["Host"] == f"localhost:{tls_receiver.port}"
    assert signing.verify(endpoint.secret, request.body, request.headers["Agora-Signature"])
    assert WebhookDelivery.objects.get().state == State.DELIVERED


@pytest.mark.worker
def test_a_real_worker_delivers_retries_after_a_failure_and_the_resend_arrives(
    receiver: Receiver, administrator: Any, celery_worker: WorkerProcess
) -> None:
    endpoint = register(administrator, receiver)
    receiver.answers = [500]
    petition = close_one_petition()

    first = receiver.wait_for(1, timeout=60)[0]
    assert first.json()["data"]["petition"]["id"] == petition.pk
    deadline = time.monotonic() + 30
    delivery = WebhookDelivery.objects.get()
    while delivery.attempt_count < 1 or delivery.state != State.PENDING:
        assert time.monotonic() < deadline, "the worker did not record the failed attempt"
        time.sleep(0.1)
        delivery.refresh_from_db()
    # The worker's backoff is the production 30 s: bring the retry forward, as time would,
    # and let the sweep (beat's task) hand it to the worker.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    retry_webhook_deliveries.delay()
    second = receiver.wait_for(2, timeout=60)[1]
    assert second.headers["Agora-Delivery"] == first.headers["Agora-Delivery"]
    for request in (first, second):
        assert signing.verify(endpoint.secret, request.body, request.headers["Agora-Signature"])
    while delivery.state != State.DELIVERED:
        assert time.monotonic() < deadline + 30, "the worker did not record the delivery"
        time.sleep(0.1)
        delivery.refresh_from_db()

    services.resend_delivery(delivery, actor=administrator)
    third = receiver.wait_for(3, timeout=60)[2]
    assert third.body == first.body
    assert signing.verify(endpoint.secret, third.body, third.headers["Agora-Signature"])


@pytest.mark.browser
def test_an_administrator_registers_an_endpoint_follows_its_log_and_resends_in_a_browser(
    page: Page, receiver: Receiver, console_errors: list[str]
) -> None:
    """The back-office in Chromium: the form, the secret shown once, the log, the button."""
    administrator = staff_user(Role.ADMINISTRATOR)
    response = page.goto("/accounts/login/")
    assert response is not None
    page.locator("main input[type=email]").fill(administrator.email)
    page.locator("main input[type=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    expect(page.get_by_role("button", name="Sign Out")).to_be_visible()

    page.goto("/staff/")
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")
    assert_accessible(page)
    page.get_by_role("link", name="Register an endpoint").click()
    page.get_by_label("Address").fill(receiver.url)
    page.get_by_label("A petition closed").check()
    page.get_by_label("Description").fill("The newspaper's tracker")
    assert_accessible(page)
    page.get_by_role("button", name="Register").click()

    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["petition.closed"]
    expect(page.locator("#webhook-secret")).to_have_text(endpoint.secret)
    assert_accessible(page)
    page.reload()
    expect(page.locator("#webhook-secret")).to_have_count(0)

    close_one_petition()
    receiver.wait_for(1)
    page.reload()
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("Delivered")
    expect(row).to_contain_text("200")
    row.get_by_role("button", name="Re-send").click()
    expect(page.locator("body")).to_contain_text("The delivery is being sent again.")
    second = receiver.wait_for(2)[1]
    assert signing.verify(endpoint.secret, second.body, second.headers["Agora-Signature"])
    assert_accessible(page)
    assert console_errors == []
