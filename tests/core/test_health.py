import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_health_reports_database_cache_and_broker_as_json(client):
    response = client.get(reverse("core:health"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert all(check["ok"] for check in body["checks"].values())
    assert response["Cache-Control"].startswith("max-age=0")


def test_health_answers_503_when_the_database_is_down(client, monkeypatch):
    from health_check.checks import Database
    from health_check.exceptions import ServiceUnavailable

    def down(self):
        raise ServiceUnavailable("Database down")

    monkeypatch.setattr(Database, "run", down)
    response = client.get(reverse("core:health"))
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {
        "ok": False,
        "message": "Unavailable: Database down",
        "seconds": response.json()["checks"]["database"]["seconds"],
    }
