"""The rows every petition answer of the API reads, by SQL written once.

A petition's detail reads its topics, its published responses, its counts by region and
by country: four small queries by primary or foreign key. Built through the ORM, each cost
the web process 0.6 ms of CPU to compile against 0.05 ms to run (bench note in
docs/performance.md), most of a detail's cost when a reuser walks the long tail of
petitions nobody else reads. The statements below are plain SQL that SQLite and
PostgreSQL both run, with table names taken from the models, and they return integers and
strings only, so no conversion is needed; tests/api/test_serializers.py checks them
against the ORM.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.db import connection

from petitions.models import CountryCount, Petition, Region, RegionCount, Topic
from responses.models import Assignment, Department, Response


@dataclass(frozen=True)
class RegionRow:
    region: int
    kind: str
    code: str
    name: str
    count: int
    per_100k: float | None


@dataclass(frozen=True)
class AssignmentRow:
    department: str
    department_name_en: str
    department_name_fr: str
    role: str
    track: str
    assigned_at: datetime
    due_at: datetime


def _aware(value: Any) -> datetime:
    """SQLite hands back naive datetimes (stored in UTC); PostgreSQL aware ones."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)  # a string, on SQLite


@cache
def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "petition_topics": quote(Petition.topics.through._meta.db_table),
        "topics": quote(Topic._meta.db_table),
        "response_petitions": quote(Response.petitions.through._meta.db_table),
        "responses": quote(Response._meta.db_table),
        "region_counts": quote(RegionCount._meta.db_table),
        "regions": quote(Region._meta.db_table),
        "country_counts": quote(CountryCount._meta.db_table),
        "assignments": quote(Assignment._meta.db_table),
        "departments": quote(Department._meta.db_table),
    }


def _rows(sql: str, params: Sequence[int | str]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql.format(**_tables()), params)
        return cursor.fetchall()


def _placeholders(values: Sequence[object]) -> str:
    return ", ".join(["%s"] * len(values))


def _grouped(sql: str, params: Sequence[int | str]) -> dict[int, list[Any]]:
    """{petition id: the second column's values, in the statement's order}; rows are
    (petition id, value). A defaultdict: every petition id is present."""
    grouped: dict[int, list[Any]] = defaultdict(list)
    for petition_id, value in _rows(sql, params):
        grouped[petition_id].append(value)
    return grouped


def topic_slugs(petition_ids: Sequence[int]) -> dict[int, list[str]]:
    """{petition id: its topics' slugs, in slug order} (every id present)."""
    if not petition_ids:
        return defaultdict(list)
    sql = (
        "SELECT pt.petition_id, t.slug FROM {petition_topics} pt "  # noqa: S608 - placeholders
        "JOIN {topics} t ON t.id = pt.topic_id "
        f"WHERE pt.petition_id IN ({_placeholders(petition_ids)}) ORDER BY t.slug"
    )
    return _grouped(sql, petition_ids)


def response_ids(petition_ids: Sequence[int]) -> dict[int, list[int]]:
    """{petition id: ids of the published responses that answer it, oldest first}."""
    if not petition_ids:
        return defaultdict(list)
    sql = (
        "SELECT rp.petition_id, r.id FROM {response_petitions} rp "  # noqa: S608 - placeholders
        "JOIN {responses} r ON r.id = rp.response_id "
        f"WHERE rp.petition_id IN ({_placeholders(petition_ids)}) AND r.state = %s "
        "ORDER BY r.published_at, r.id"
    )
    return _grouped(sql, [*petition_ids, Response.State.PUBLISHED.value])


def region_counts(petition_id: int) -> list[RegionRow]:
    """Its confirmed signatures by region, most first, with per-100,000 figures."""
    sql = (
        "SELECT c.region_id, r.kind, r.code, r.name, r.population, c.count "
        "FROM {region_counts} c JOIN {regions} r ON r.id = c.region_id "
        "WHERE c.petition_id = %s AND c.count > 0 "
        "ORDER BY c.count DESC, r.kind, r.code, c.id"
    )
    return [
        RegionRow(
            region=region,
            kind=kind,
            code=code,
            name=name,
            count=count,
            per_100k=round(count * 100_000 / population, 2) if population else None,
        )
        for region, kind, code, name, population, count in _rows(sql, [petition_id])
    ]


def country_counts(petition_id: int) -> list[tuple[str, int]]:
    """(country code, confirmed signatures), most first."""
    sql = (
        "SELECT country, count FROM {country_counts} "
        "WHERE petition_id = %s AND count > 0 ORDER BY count DESC, country"
    )
    return [(code, count) for code, count in _rows(sql, [petition_id])]


def active_assignments(petition_id: int) -> list[AssignmentRow]:
    """The departments it is routed to now, by track, role and department."""
    sql = (
        "SELECT d.slug, d.name_en, d.name_fr, a.role, a.track, a.assigned_at, a.due_at "
        "FROM {assignments} a JOIN {departments} d ON d.id = a.department_id "
        "WHERE a.petition_id = %s AND a.ended_at IS NULL "
        "ORDER BY a.track, a.role, d.slug, a.id"
    )
    return [
        AssignmentRow(slug, name_en, name_fr, role, track, _aware(assigned), _aware(due))
        for slug, name_en, name_fr, role, track, assigned, due in _rows(sql, [petition_id])
    ]
