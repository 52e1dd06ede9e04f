"""Health checks for /health/: database, cache and broker, as JSON, 200 or 503.

Built on django-health-check's check classes and runner; Agora adds the broker check and
a JSON answer whose shape load balancers and operators can rely on.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from celery import current_app
from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from core.tasks import HEARTBEAT_KEY


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection (Redis in production, a folder locally)."""

    def run(self) -> None:
        try:
            with current_app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
        except Exception as error:  # kombu raises transport-specific errors
            raise ServiceUnavailable("Broker unreachable") from error


NAMES = {Database: "database", Cache: "cache", Broker: "broker"}


class HealthView(HealthCheckView):
    """Always JSON: ``{"status": "ok"|"error", "checks": {name: {...}}, "worker": ...}``."""

    checks = (Database, Cache, Broker)

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        import asyncio

        with self.get_executor() as executor:
            results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())
            )
        checks = {
            NAMES[type(result.check)]: {
                "ok": result.error is None,
                "message": "OK" if result.error is None else str(result.error),
                "seconds": round(result.time_taken, 4),
            }
            for result in results
        }
        healthy = all(check["ok"] for check in checks.values())
        last_beat = await cache.aget(HEARTBEAT_KEY) if checks["cache"]["ok"] else None
        return JsonResponse(
            {
                "status": "ok" if healthy else "error",
                "checks": checks,
                "worker_heartbeat": last_beat,
            },
            status=200 if healthy else 503,
        )
