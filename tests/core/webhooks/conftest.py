"""Fixtures for the webhook tests: an endpoint, a fake network, and recorded enqueues."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from core.webhooks import services, transport
from core.webhooks.events import EventType
from tests.petitions.conftest import petition  # noqa: F401  (an open petition)
from tests.responses.conftest import (  # noqa: F401  (a department with its staff)
    department,
    officer,
    publisher,
    reviewer,
    topic,
)

URL = "https://hooks.partner.example/agora"


def register(actor, events: list[str] | None = None, **fields: Any):
    return services.register_endpoint(
        actor=actor,
        url=fields.pop("url", URL),
        events=events if events is not None else list(EventType.values),
        **fields,
    )


@pytest.fixture
def endpoint(administrator):
    return register(administrator)


@dataclass
class FakeNetwork:
    """Stands in for ``transport.post``: answers with the queued outcomes, keeps requests."""

    outcomes: list[transport.Outcome] = field(default_factory=list)
    requests: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    def answer(self, *status_codes: int | None, error: str = "") -> None:
        for code in status_codes:
            self.outcomes.append(
                transport.Outcome(code, 12, excerpt="ok" if code else "", error=error)
            )

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> transport.Outcome:
        self.requests.append((url, body, headers))
        return self.outcomes.pop(0) if self.outcomes else transport.Outcome(200, 5, "ok")


@pytest.fixture
def network(monkeypatch) -> FakeNetwork:
    fake = FakeNetwork()
    monkeypatch.setattr(transport, "post", fake.post)
    return fake


@pytest.fixture
def enqueued(monkeypatch) -> list[tuple[str, tuple[Any, ...]]]:
    """(task name, args) of every task the webhook services enqueue after commit."""
    calls: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setattr(
        services, "enqueue_on_commit", lambda task, *args: calls.append((task.name, args))
    )
    return calls
