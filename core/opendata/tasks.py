"""The nightly open-data export (beat: ``export-open-data`` in CELERY_BEAT_SCHEDULE).

Registered through ``CELERY_IMPORTS`` in config/settings/base.py: Celery's autodiscovery
only imports ``core.tasks``, not this module.
"""

from __future__ import annotations

import logging

from celery import shared_task

from core.opendata import services

logger = logging.getLogger(__name__)


@shared_task(
    name="core.opendata.tasks.export_open_data",
    ignore_result=True,
    # The global limits (60 s / 90 s) suit short tasks; a full export may take minutes.
    soft_time_limit=3 * 3600,
    time_limit=3 * 3600 + 300,
)
def export_open_data() -> str | None:
    """Write and publish a new set of bulk files; the name of the set, or None if busy.

    Idempotent enough to run twice: a second run publishes a fresh set (the same data), and
    a run that finds another export under way does nothing.
    """
    try:
        manifest = services.export_open_data()
    except services.ExportRunning:
        logger.info("Open data: an export is already running; this run did nothing.")
        return None
    return manifest.set
