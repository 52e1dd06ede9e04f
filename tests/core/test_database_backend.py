"""The PostgreSQL backend's health check: a poll of the socket, a SELECT 1 only when needed."""

from __future__ import annotations

import select
from collections.abc import Iterator
from typing import Any

import psycopg2  # type: ignore[import-untyped]  # no stubs installed
import pytest
from django.db import connection

from tests.conftest import require

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres() -> Iterator[None]:
    require(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://...)")
    yield
    connection.close()  # some tests end the server side; the next test connects anew


@pytest.fixture
def other() -> Iterator[Any]:
    """A second connection to the same database, beside Django's."""
    raw = psycopg2.connect(**connection.get_connection_params())
    raw.autocommit = True
    yield raw
    raw.close()


def backend() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def last_query(other: Any, pid: int) -> str:
    with other.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        return str(cursor.fetchone()[0])


def wait_readable(timeout: float = 5.0) -> None:
    poller = select.poll()
    poller.register(connection.connection.fileno(), select.POLLIN)
    assert poller.poll(timeout * 1000), "the server sent nothing"


def test_an_idle_connection_with_nothing_to_read_is_usable_without_a_round_trip(
    other: Any,
) -> None:
    pid = backend()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 42")

    assert connection.is_usable()
    assert last_query(other, pid) == "SELECT 42"  # no SELECT 1 reached the server


def test_a_connection_the_server_ended_is_unusable_and_the_next_request_reconnects(
    other: Any,
) -> None:
    pid = backend()
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    wait_readable()

    assert not connection.is_usable()

    connection.close_if_unusable_or_obsolete()  # as at the start of a request
    replacement = backend()  # the health check closed the old one; no error reached us
    assert replacement != pid


def test_something_waiting_on_a_live_connection_is_read_by_a_select_1(other: Any) -> None:
    pid = backend()
    with connection.cursor() as cursor:
        cursor.execute("LISTEN agora_health_check_test")
    with other.cursor() as cursor:
        cursor.execute("NOTIFY agora_health_check_test")
    wait_readable()

    assert connection.is_usable()
    assert last_query(other, pid) == "SELECT 1"


def test_a_connection_inside_a_transaction_is_asked(other: Any) -> None:
    pid = backend()
    connection.set_autocommit(False)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 42")

        assert connection.is_usable()  # a transaction's state is the server's to tell
        assert last_query(other, pid) == "SELECT 1"
    finally:
        connection.rollback()
        connection.set_autocommit(True)


def test_a_closed_connection_is_not_usable() -> None:
    backend()
    connection.connection.close()

    assert not connection.is_usable()
