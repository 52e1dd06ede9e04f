"""/health/ against the real database, cache and broker, and the worker's heartbeat."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.celery import app
from core.tasks import HEARTBEAT_KEY, heartbeat
from tests.conftest import in_ci
from tests.integration.conftest import WorkerProcess

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


@pytest.mark.django_db(transaction=True)
def test_health_answers_200_when_database_cache_and_broker_answer(client: Client) -> None:
    if in_ci():
        # CI runs the production stack's services: the check must reach them, not stand-ins.
        assert settings.DATABASES["default"]["ENGINE"] == "core.db.postgresql"
        assert settings.CACHES["default"]["BACKEND"] == (
            "django.core.cache.backends.redis.RedisCache"
        )
        assert app.conf.broker_url.startswith("redis://")

    response = client.get(reverse("core:health"))

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "cache": True,
        "broker": True,
    }


@pytest.mark.django_db(transaction=True)
def test_health_answers_503_naming_the_broker_when_the_broker_is_unreachable(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Celery prefers these variables to its configuration; a developer may have set them.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    monkeypatch.setattr(app.conf, "broker_url", CLOSED_PORT_BROKER)

    response = client.get(reverse("core:health"))

    assert response.status_code == 503, response.content
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["message"] != "OK"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["cache"]["ok"] is True


@pytest.mark.worker
def test_health_shows_the_worker_heartbeat_once_the_worker_ran_the_heartbeat_task(
    client: Client, celery_worker: WorkerProcess
) -> None:
    cache.delete(HEARTBEAT_KEY)
    assert client.get(reverse("core:health")).json()["worker_heartbeat"] is None
    sent_at = timezone.now()

    heartbeat.delay()

    deadline = time.monotonic() + 30
    while cache.get(HEARTBEAT_KEY) is None:
        assert time.monotonic() < deadline, "the worker did not run core.tasks.heartbeat in 30 s"
        time.sleep(0.2)
    body = client.get(reverse("core:health")).json()
    beat = datetime.fromisoformat(body["worker_heartbeat"])
    assert beat.tzinfo is not None
    assert sent_at - timedelta(seconds=1) <= beat <= timezone.now()
