"""Statements prepared once per connection (core.db.prepared)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from core.db import prepared
from petitions.models import Petition, Signature
from tests.conftest import require
from tests.petitions.conftest import make_petition

pytestmark = pytest.mark.django_db(transaction=True)

SQL = "SELECT %s::int + %s::int, %s::text"


def statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements ORDER BY name")
        return [row[0] for row in cursor.fetchall()]


def run(
    name: str = "agora_test_sum", params: tuple[object, ...] = (2, 3, "x")
) -> tuple[object, ...]:
    with connection.cursor() as cursor:
        prepared.execute(connection, cursor, name, SQL, params)
        return tuple(cursor.fetchone())


@pytest.fixture
def postgres() -> None:
    require(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://...)")
    connection.close()  # a fresh session: nothing prepared on it yet


def test_a_statement_is_prepared_once_per_connection_and_run_with_each_call_s_values(
    postgres: None,
) -> None:
    assert run() == (5, "x")
    assert run(params=(40, 2, "it's")) == (42, "it's")  # quoted as any parameter

    assert statements() == ["agora_test_sum"]

    connection.close()
    assert run(params=(1, 1, "y")) == (2, "y")  # a new session prepares it again
    assert statements() == ["agora_test_sum"]


def test_a_statement_prepared_in_a_transaction_that_rolls_back_stays_prepared(
    postgres: None,
) -> None:
    with transaction.atomic():
        run()
        transaction.set_rollback(True)

    assert statements() == ["agora_test_sum"]
    assert run(params=(1, 2, "z")) == (3, "z")


def signer(petition: Petition) -> Signature:
    return Signature(
        petition=petition,
        name="A Signer",
        email="a@example.org",
        email_normalised="a@example.org",
        country="FR",
        language="fr",
    )


def test_a_signature_s_insert_is_prepared_and_its_constraint_still_holds(postgres: None) -> None:
    petition = make_petition()
    first = signer(petition)
    first.insert()

    with pytest.raises(IntegrityError):
        signer(petition).insert()  # one signature per address and petition

    assert "agora_signature_insert" in statements()
    assert list(Signature.objects.values_list("pk", flat=True)) == [first.pk]


def test_other_databases_run_the_statement_as_it_is() -> None:
    class SQLite:
        vendor = "sqlite"

    class Cursor:
        def __init__(self) -> None:
            self.executed: list[tuple[str, list[object]]] = []

        def execute(self, sql: str, params: list[object]) -> None:
            self.executed.append((sql, params))

    cursor = Cursor()
    prepared.execute(SQLite(), cursor, "agora_test_sum", "SELECT %s", [1])  # type: ignore[arg-type]

    assert cursor.executed == [("SELECT %s", [1])]


def test_a_name_that_is_not_a_plain_identifier_is_refused(postgres: None) -> None:
    with pytest.raises(ValueError, match="cannot prepare"):
        run(name="agora; DROP TABLE x")
