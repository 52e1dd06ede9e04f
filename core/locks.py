"""A lock that lets exactly one process run a periodic job at a time.

On PostgreSQL it is a session advisory lock (released by the database if the process
dies); elsewhere (SQLite for `make run`) an atomic cache add with an expiry.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache import cache
from django.db import connection


@contextmanager
def exclusive(name: str, *, timeout: int = 300) -> Iterator[bool]:
    """Yield True if this process holds the lock ``name``, False if another one does.

    ``timeout`` only matters without PostgreSQL: the cache key expires after it, so a
    crashed holder cannot block the job for ever.
    """
    if connection.vendor == "postgresql":
        key = zlib.crc32(name.encode())
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            acquired = bool(cursor.fetchone()[0])
        try:
            yield acquired
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    cache_key = f"agora:lock:{name}"
    acquired = cache.add(cache_key, "1", timeout=timeout)
    try:
        yield acquired
    finally:
        if acquired:
            cache.delete(cache_key)
