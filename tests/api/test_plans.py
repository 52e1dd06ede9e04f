"""PostgreSQL's plans for a list's total: read from indexes (migration petitions 0009), never
from the petitions table, whose rows carry their full text."""

from __future__ import annotations

import pytest
from django.db import connection

from petitions.api.filters import PetitionFilter
from petitions.api.views import PetitionList
from tests.api.data import OpenData
from tests.conftest import require

# Outside a transaction, so that VACUUM can mark the pages all-visible, as autovacuum keeps
# them in production: index-only scans are then the cheapest way to count.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def count_plan(params: dict[str, str]) -> str:
    queryset = PetitionFilter(params, queryset=PetitionList().get_queryset()).qs.order_by()
    with connection.cursor() as cursor:
        for table in ("petitions_petition", "petitions_regioncount", "petitions_petition_topics"):
            # Rebuilt first: rows an earlier test left dead would weigh on the indexes.
            cursor.execute(f"VACUUM FULL {table}")
            cursor.execute(f"VACUUM ANALYZE {table}")
        for path in ("seqscan", "bitmapscan"):  # a few rows: the planner would read them all
            cursor.execute(f"SET enable_{path} = off")
        sql, values = queryset.query.sql_with_params()
        try:
            cursor.execute(f"EXPLAIN SELECT COUNT(*) FROM ({sql}) AS page", values)  # noqa: S608
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET ALL")


@pytest.mark.parametrize(
    ("params", "indexes"),
    [
        ({}, ["petition_public_test"]),
        ({"state": "closed"}, ["petition_public_test"]),
        ({"region": "fr-departement:75"}, ["regioncount_signed_there"]),
    ],
)
def test_a_list_total_is_counted_from_indexes(data: OpenData, params, indexes):
    require(connection.vendor == "postgresql", "the indexes exist on PostgreSQL only")
    plan = count_plan(params)
    for index in indexes:
        assert f"Index Only Scan using {index}" in plan, plan
