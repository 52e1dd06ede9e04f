"""Streaming file writers: rows go straight to a temporary file, hashed on the way.

A writer never holds more than one row. It counts rows and bytes and computes the SHA-256
while writing, so the manifest needs no second read of a file that may be gigabytes long.
``close`` flushes the file to disk and renames it into place with ``os.replace``, which is
atomic: a reader sees the previous file or the complete new one, never a half-written one.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

CSV = "csv"
JSON = "json"
# In CSV cells, a list (topics, petitions answered) is its items joined by this character.
LIST_SEPARATOR = "|"


@dataclass(frozen=True)
class WrittenFile:
    """What the manifest says about one finished file."""

    name: str
    format: str
    rows: int
    bytes: int
    sha256: str


class _HashingSink:
    """A text sink that encodes to UTF-8, hashes and counts what it writes to ``raw``."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.bytes = 0

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self.digest.update(data)
        self.raw.write(data)
        self.bytes += len(data)
        return len(text)


class StreamWriter:
    """Base class: opens ``.<name>.partial`` beside the target and publishes it on close."""

    format = ""

    def __init__(self, folder: Path, name: str, columns: Sequence[str]) -> None:
        self.path = folder / name
        self.partial = folder / f".{name}.partial"
        self.columns = tuple(columns)
        self.rows = 0
        self._raw = self.partial.open("wb")
        self.sink = _HashingSink(self._raw)
        self.begin()

    def begin(self) -> None:
        """Write what comes before the first row."""

    def end(self) -> None:
        """Write what comes after the last row."""

    def write_row(self, row: Sequence[Any]) -> None:
        raise NotImplementedError

    def close(self) -> WrittenFile:
        """Finish the file, make it durable, then rename it into place (atomic)."""
        self.end()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        os.replace(self.partial, self.path)
        return WrittenFile(
            self.path.name, self.format, self.rows, self.sink.bytes, self.sink.digest.hexdigest()
        )

    def abort(self) -> None:
        """Drop the partial file after a failure."""
        self._raw.close()
        self.partial.unlink(missing_ok=True)


def csv_cell(value: Any) -> Any:
    """Lists become ``a|b``, None an empty cell, booleans ``true``/``false`` (as in JSON)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(str(item) for item in value)
    return value


class CsvWriter(StreamWriter):
    """RFC 4180 CSV in UTF-8 (no byte-order mark), a header row, CRLF line ends."""

    format = CSV

    def begin(self) -> None:
        self.writer = csv.writer(self.sink, lineterminator="\r\n")
        self.writer.writerow(self.columns)

    def write_row(self, row: Sequence[Any]) -> None:
        self.writer.writerow([csv_cell(value) for value in row])
        self.rows += 1


class JsonWriter(StreamWriter):
    """One JSON array of objects, one object per line, written as the rows come.

    The file is a single valid JSON document, yet a reader can also process it line by
    line: every line but the first (``[``) and the last (``]``) holds one object.
    """

    format = JSON

    def begin(self) -> None:
        self.sink.write("[")

    def write_row(self, row: Sequence[Any]) -> None:
        record = dict(zip(self.columns, row, strict=True))
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        self.sink.write(("\n" if self.rows == 0 else ",\n") + text)
        self.rows += 1

    def end(self) -> None:
        self.sink.write("\n]\n")


WRITERS: dict[str, type[StreamWriter]] = {CSV: CsvWriter, JSON: JsonWriter}
