"""Where the files live, and the manifest that says which set is current.

Layout under ``OPEN_DATA_ROOT``::

    manifest.json                      the current set: its name, time and files
    sets/20261206T021000123456Z/       one complete set: every file, and its manifest
    sets/.building-<set>/              a set being written (never served)

A set is written in full in its ``.building-`` folder, renamed to its final name, and only
then published by replacing the top-level ``manifest.json`` with ``os.replace``, which is
atomic: a reader follows either the previous manifest to the previous (complete) set, or
the new one to the new set. The previous sets are kept a while, so a download that began
just before a switch finishes from the set it started on.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.dateparse import parse_datetime

from core.opendata.writers import CSV, JSON

MANIFEST = "manifest.json"
SETS = "sets"
BUILDING_PREFIX = ".building-"
# Set names are UTC timestamps, so their order is their age.
SET_NAME = re.compile(r"^\d{8}T\d{12}Z$")
KEEP_PREVIOUS_SETS = 2

LICENCE = {
    "name": "Licence Ouverte / Open Licence 2.0",
    "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
}
MEDIA_TYPES = {CSV: "text/csv; charset=utf-8", JSON: "application/json"}


def default_root() -> Path:
    return Path(settings.OPEN_DATA_ROOT)


def set_name(when: datetime) -> str:
    return when.strftime("%Y%m%dT%H%M%S%fZ")


@dataclass(frozen=True)
class ManifestFile:
    name: str
    dataset: str
    format: str
    rows: int
    bytes: int
    sha256: str
    description: str
    url: str = ""

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]


@dataclass(frozen=True)
class Manifest:
    set: str
    generated_at: datetime
    files: tuple[ManifestFile, ...]
    time_zone: str = ""
    licence: dict[str, str] = field(default_factory=lambda: dict(LICENCE))

    def file(self, name: str) -> ManifestFile | None:
        """The listed file called ``name``; nothing else can ever be served."""
        return next((listed for listed in self.files if listed.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "set": self.set,
            "time_zone": self.time_zone,
            "licence": self.licence,
            "files": [
                {
                    "name": listed.name,
                    "dataset": listed.dataset,
                    "format": listed.format,
                    "media_type": listed.media_type,
                    "rows": listed.rows,
                    "bytes": listed.bytes,
                    "sha256": listed.sha256,
                    "description": listed.description,
                    "url": listed.url,
                }
                for listed in self.files
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        generated_at = parse_datetime(str(data["generated_at"]))
        if generated_at is None or not SET_NAME.match(str(data["set"])):
            raise ValueError("Not an open-data manifest.")
        return cls(
            set=str(data["set"]),
            generated_at=generated_at,
            time_zone=str(data.get("time_zone", "")),
            licence=dict(data.get("licence") or LICENCE),
            files=tuple(
                ManifestFile(
                    name=str(item["name"]),
                    dataset=str(item["dataset"]),
                    format=str(item["format"]),
                    rows=int(item["rows"]),
                    bytes=int(item["bytes"]),
                    sha256=str(item["sha256"]),
                    description=str(item.get("description", "")),
                    url=str(item.get("url", "")),
                )
                for item in data["files"]
                if item.get("format") in MEDIA_TYPES
            ),
        )


def manifest_path(root: Path) -> Path:
    return root / MANIFEST


def set_folder(root: Path, name: str) -> Path:
    return root / SETS / name


def file_path(root: Path, manifest: Manifest, listed: ManifestFile) -> Path:
    # Only names taken from the manifest reach here, and a listed name is a bare file name.
    return set_folder(root, manifest.set) / Path(listed.name).name


# The parsed manifest, kept while the file on disk is the same one (same inode and time):
# every request under /data/ needs it, and it changes once a night.
_cache: dict[Path, tuple[tuple[int, int, int], Manifest]] = {}


def read_manifest(root: Path | None = None) -> Manifest | None:
    """The current manifest, or None before the first export (or if it is unreadable)."""
    path = manifest_path(root or default_root())
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(path)
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        manifest = Manifest.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    _cache[path] = (key, manifest)
    return manifest


def write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    """Write to a partial file, flush it to disk, then ``os.replace`` it over ``path``."""
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, indent=2)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)


def publish(root: Path, manifest: Manifest) -> None:
    """Make ``manifest``'s set the current one: the single atomic step of an export."""
    write_json_atomically(manifest_path(root), manifest.to_json())


def remove_unfinished(root: Path) -> None:
    """Delete ``.building-`` folders left by an export that died (the caller holds the lock)."""
    sets = root / SETS
    if not sets.is_dir():
        return
    for folder in sets.iterdir():
        if folder.name.startswith(BUILDING_PREFIX):
            shutil.rmtree(folder, ignore_errors=True)


def prune(root: Path, current: str, keep_previous: int = KEEP_PREVIOUS_SETS) -> list[str]:
    """Delete complete sets older than the current one and the ``keep_previous`` before it."""
    sets = root / SETS
    names = sorted(
        (folder.name for folder in sets.iterdir() if SET_NAME.match(folder.name)),
        reverse=True,
    )
    older = [name for name in names if name < current]
    removed = older[keep_previous:]
    for name in removed:
        shutil.rmtree(sets / name, ignore_errors=True)
    return removed
