"""Django's PostgreSQL backend, whose health check polls the socket before asking the server.

With ``CONN_HEALTH_CHECKS``, Django checks a persistent connection at the start of every
request that uses it with a ``SELECT 1``: one more round trip to PostgreSQL per request,
paid by the web process and by the server, for every signature of a surge. A connection
that PostgreSQL ended (a restart, ``pg_terminate_backend``, an idle timeout) or that the
network reset has something to read while it is idle: the server's farewell message, the
end of the stream, or an error. So an idle connection with nothing to read is usable, as
one ``poll`` of its socket tells; one with something waiting gets Django's ``SELECT 1``,
which reads what came (an ended connection fails it, a stray notice does not).
"""

from __future__ import annotations

import select
from typing import Any

from django.db.backends.postgresql import base
from psycopg2.extensions import TRANSACTION_STATUS_IDLE  # type: ignore[import-untyped]


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        raw = self.connection
        if raw is None or raw.closed:
            return False
        if raw.get_transaction_status() == TRANSACTION_STATUS_IDLE and not _readable(raw):
            return True
        return bool(super().is_usable())


def _readable(raw: Any) -> bool:
    """True if the connection's socket has something to read, or an error, right now."""
    poller = select.poll()
    poller.register(raw.fileno(), select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))
