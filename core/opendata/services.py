"""The export: write every public data set as CSV and JSON, then publish the set at once.

Called by the nightly task (``core.opendata.tasks``) and by ``manage.py export_open_data``.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from core.audit import record_event
from core.errors import DomainError
from core.locks import exclusive
from core.opendata import store
from core.opendata.datasets import DATASETS, Dataset
from core.opendata.writers import CSV, JSON, WRITERS, StreamWriter, WrittenFile

logger = logging.getLogger(__name__)

FORMATS = (CSV, JSON)
# Rows fetched per query: large enough for few round trips, small enough that memory stays
# a few megabytes whatever the size of the tables.
CHUNK_SIZE = 2000
PROGRESS_EVERY = 500  # rows between two progress reports
LOCK_NAME = "open-data-export"
LOCK_SECONDS = 4 * 3600  # without PostgreSQL, a crashed export frees the lock after this


class ExportRunning(DomainError):
    """Another export holds the lock; this one did nothing."""

    code = "export_running"
    status_code = 409
    default_message = _("An export of the open data is already running.")


class Progress(Protocol):
    """Told about each data set as it is written (the command draws a bar from it)."""

    def start(self, dataset: str, total: int) -> None: ...

    def advance(self, rows: int) -> None: ...

    def finish(self, rows: int) -> None: ...


@contextmanager
def snapshot() -> Iterator[None]:
    """On PostgreSQL, read every data set from one snapshot, so the files agree.

    A read-only REPEATABLE READ transaction sees the database as it was at its first query:
    a petition published during the export is in none of the files rather than in some.
    Inside a caller's transaction (tests), the caller's isolation applies.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def write_dataset(
    dataset: Dataset,
    folder: Path,
    *,
    chunk_size: int = CHUNK_SIZE,
    progress: Progress | None = None,
) -> list[WrittenFile]:
    """Write ``dataset`` in every format in one pass over its rows."""
    if progress is not None:
        progress.start(dataset.name, dataset.count())
    writers: list[StreamWriter] = []
    try:
        for file_format in FORMATS:
            writers.append(
                WRITERS[file_format](folder, dataset.file_name(file_format), dataset.columns)
            )
        rows = 0
        for row in dataset.rows(chunk_size):
            for writer in writers:
                writer.write_row(row)
            rows += 1
            if progress is not None and rows % PROGRESS_EVERY == 0:
                progress.advance(rows)
        written = [writer.close() for writer in writers]
    except BaseException:
        for writer in writers:
            writer.abort()
        raise
    if progress is not None:
        progress.finish(rows)
    return written


def _describe(dataset: Dataset, written: WrittenFile) -> store.ManifestFile:
    with translation.override("en"):  # the manifest is for machines: one language
        description = str(dataset.description)
    return store.ManifestFile(
        name=written.name,
        dataset=dataset.name,
        format=written.format,
        rows=written.rows,
        bytes=written.bytes,
        sha256=written.sha256,
        description=description,
        url=settings.SITE_URL + reverse("opendata:file", args=[written.name]),
    )


def export_open_data(
    *,
    root: Path | None = None,
    datasets: Sequence[Dataset] = DATASETS,
    chunk_size: int = CHUNK_SIZE,
    progress: Progress | None = None,
) -> store.Manifest:
    """Write a new set of open-data files under ``root`` and make it the current one.

    Lock: one export at a time (``core.locks.exclusive``); a second one raises
    ``ExportRunning`` and touches nothing. Every row is streamed from the database to the
    files, so memory stays flat. The set is built in a hidden folder, renamed, then
    published by atomically replacing ``manifest.json``: until that instant readers get
    the previous set, complete. A failure leaves the current set as it was. The two
    previous sets are kept, older ones deleted. Records ``open_data.exported``.
    Running it twice publishes two sets; the second simply replaces the first.
    """
    root = root or store.default_root()
    with exclusive(LOCK_NAME, timeout=LOCK_SECONDS) as acquired:
        if not acquired:
            raise ExportRunning
        manifest = _export(root, datasets, chunk_size, progress)
    record_event(
        "open_data.exported",
        data={
            "set": manifest.set,
            "files": {listed.name: listed.rows for listed in manifest.files},
        },
    )
    return manifest


def _export(
    root: Path, datasets: Sequence[Dataset], chunk_size: int, progress: Progress | None
) -> store.Manifest:
    now = timezone.now()
    name = store.set_name(now)
    sets = root / store.SETS
    sets.mkdir(parents=True, exist_ok=True)
    store.remove_unfinished(root)
    building = sets / f"{store.BUILDING_PREFIX}{name}"
    building.mkdir()
    try:
        files: list[store.ManifestFile] = []
        with snapshot():
            for dataset in datasets:
                written = write_dataset(dataset, building, chunk_size=chunk_size, progress=progress)
                files.extend(_describe(dataset, item) for item in written)
        manifest = store.Manifest(
            set=name, generated_at=now, files=tuple(files), time_zone=settings.TIME_ZONE
        )
        store.write_json_atomically(building / store.MANIFEST, manifest.to_json())
        os.replace(building, store.set_folder(root, name))
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    store.publish(root, manifest)
    removed = store.prune(root, current=name)
    logger.info("Open data: published set %s (removed %s)", name, ", ".join(removed) or "none")
    return manifest
