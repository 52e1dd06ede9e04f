"""Statements PostgreSQL prepares once per connection, for the few a surge runs thousands of times.

psycopg2 sends every statement as text, so PostgreSQL parses, analyses and plans a
signature's INSERT anew each time: a quarter of what the server spends on it. A named
prepared statement is planned once per connection; each use is an ``EXECUTE`` with the
values, which psycopg2 quotes as it quotes any parameter. Prepared statements belong to the
server session: Agora's processes keep their own connections (``CONN_MAX_AGE``), and a
connection pooler between them and PostgreSQL must run in session mode (transaction mode
would hand the statement to a session that never prepared it).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_PLACEHOLDER = re.compile(r"%s")
# Per psycopg2 connection, the statements already prepared on it. A connection that closes
# (and is collected) takes its entry with it, as the server forgets its statements.
_PREPARED: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
_EXECUTE: dict[tuple[str, int], str] = {}  # the EXECUTE text per statement and value count


def execute(
    database: BaseDatabaseWrapper,
    cursor: Any,
    name: str,
    sql: str,
    params: Sequence[Any],
) -> None:
    """``cursor.execute(sql, params)``; on PostgreSQL, through the statement ``name``.

    ``sql`` must be the same statement every time ``name`` is used in a process, with
    ``%s`` placeholders only.
    """
    if database.vendor != "postgresql":
        cursor.execute(sql, params)
        return
    raw = database.connection
    prepared = _PREPARED.get(raw)
    if prepared is None:
        prepared = _PREPARED[raw] = set()
    if name not in prepared:
        if not _NAME.fullmatch(name) or "%%" in sql:
            raise ValueError(f"cannot prepare {name!r}: {sql!r}")
        numbers = iter(range(1, len(params) + 1))
        # Not undone by a rollback: a statement prepared in a transaction stays prepared.
        cursor.execute(f"PREPARE {name} AS {_PLACEHOLDER.sub(lambda _: f'${next(numbers)}', sql)}")
        prepared.add(name)
    run = _EXECUTE.get((name, len(params)))
    if run is None:
        run = _EXECUTE[name, len(params)] = f"EXECUTE {name} ({', '.join(['%s'] * len(params))})"
    cursor.execute(run, params)
