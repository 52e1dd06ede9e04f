"""Public reads of the response track: a response's page, a petition's response section,
the transparency statistics and each department's record.

Nothing here writes, and nothing personal leaves: departments are named, staff never are,
and only published responses and public petitions are shown. Every function runs a fixed
number of queries whatever the amount of data, so the pages built from them keep a
constant query count.

Times to respond are measured from the moment a petition reached its response threshold
(``response_threshold_reached_at``) to the publication of its response (``responded_at``).
Percentiles interpolate linearly between the closest ranks, as PostgreSQL's
``percentile_cont`` does, so the figures are the same on every database; they are computed
in Python over one ``values_list``, which stays small (one row per responded petition).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.core import signing
from django.db.models import Count, Min, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from core.markdown import render_markdown
from petitions.models import Petition, Signature
from responses.models import (
    Assignment,
    Debate,
    Department,
    Response,
    ResponseVersion,
    Track,
)
from responses.services.outbox import UNSUBSCRIBE_SALT

DAY_SECONDS = 86_400
RECENT_RESPONSES = 10
AWAITING_LIMIT = 200

# How long petitions waited for their response, in days (upper bounds, inclusive).
TIME_BUCKETS: list[tuple[float | None, StrOrPromise]] = [
    (7, _("Up to 7 days")),
    (30, _("8 to 30 days")),
    (60, _("31 to 60 days")),
    (90, _("61 to 90 days")),
    (None, _("More than 90 days")),
]

AWAITING = Petition.ResponseState.AWAITING
RESPONDED = Petition.ResponseState.RESPONDED


def _published() -> QuerySet[Response]:
    return Response.objects.filter(state=Response.State.PUBLISHED)


def _public_petitions() -> QuerySet[Petition]:
    return Petition.objects.filter(state__in=Petition.PUBLIC_STATES)


def _active_leads() -> QuerySet[Assignment]:
    """The department holding each routed petition's response (re-routing ends the old one)."""
    return Assignment.objects.active().filter(role=Assignment.Role.LEAD, track=Track.RESPONSE)


def days_overdue(due_at: datetime | None, now: datetime) -> int:
    """Whole days past ``due_at``; a response late by less than a day is one day late.

    0 when not overdue (or without a due date).
    """
    if due_at is None or now <= due_at:
        return 0
    return max(1, (now - due_at).days)


# --- Response times -----------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` percentile by linear interpolation (PostgreSQL ``percentile_cont``)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _one_decimal(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass(frozen=True)
class ResponseTimes:
    """How fast responses came, over the responded petitions given."""

    responded: int = 0
    measured: list[float] = field(default_factory=list)  # days, one per petition with both dates
    within_target: int = 0
    with_target: int = 0

    @property
    def median_days(self) -> float | None:
        return _one_decimal(percentile(self.measured, 0.5))

    @property
    def p90_days(self) -> float | None:
        return _one_decimal(percentile(self.measured, 0.9))

    @property
    def share_within_target(self) -> float | None:
        """Percentage of responses published by their due date (1 decimal)."""
        if not self.with_target:
            return None
        return round(100 * self.within_target / self.with_target, 1)


ResponseRow = tuple[datetime | None, datetime | None, datetime | None]


def response_times(rows: Iterable[ResponseRow]) -> ResponseTimes:
    """From (threshold reached, responded, due) rows of responded petitions."""
    measured: list[float] = []
    responded = within = with_target = 0
    for reached, responded_at, due in rows:
        if responded_at is None:
            continue
        responded += 1
        if reached is not None:
            measured.append(max((responded_at - reached).total_seconds(), 0) / DAY_SECONDS)
        if due is not None:
            with_target += 1
            within += responded_at <= due
    return ResponseTimes(responded, measured, within, with_target)


_TIME_FIELDS = ("response_threshold_reached_at", "responded_at", "response_due_at")


# --- The statistics page -----------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    key: str
    label: StrOrPromise
    count: int


@dataclass(frozen=True)
class OverdueRow:
    department: Department
    count: int
    oldest_due_at: datetime
    most_days: int


@dataclass(frozen=True)
class SiteStatistics:
    by_state: list[Tally]
    by_response_state: list[Tally]
    times: ResponseTimes
    time_buckets: list[Tally]
    overdue: list[OverdueRow]
    petitions: int
    signatures: int
    generated_at: datetime

    @property
    def overdue_total(self) -> int:
        return sum(row.count for row in self.overdue)


def _buckets(days: Iterable[float]) -> list[Tally]:
    counts = [0] * len(TIME_BUCKETS)
    for value in days:
        for index, (upper, _label) in enumerate(TIME_BUCKETS):
            if upper is None or value <= upper:
                counts[index] += 1
                break
    return [
        Tally(str(upper or "more"), label, counts[index])
        for index, (upper, label) in enumerate(TIME_BUCKETS)
    ]


def overdue_by_department(now: datetime) -> list[OverdueRow]:
    """Petitions awaiting a response past their due date, by the lead department now."""
    late = (
        _active_leads()
        .filter(petition__response_state=AWAITING, due_at__lt=now)
        .values("department_id")
        .order_by()
        .annotate(n=Count("petition_id", distinct=True), oldest=Min("due_at"))
    )
    rows = list(late)
    departments = Department.objects.in_bulk([row["department_id"] for row in rows])
    result = [
        OverdueRow(
            departments[row["department_id"]],
            row["n"],
            row["oldest"],
            days_overdue(row["oldest"], now),
        )
        for row in rows
    ]
    return sorted(result, key=lambda row: (-row.count, row.department.name))


def site_statistics(now: datetime | None = None) -> SiteStatistics:
    """Everything the /stats/ page shows, in four queries at most."""
    now = now or timezone.now()
    states: dict[str, int] = defaultdict(int)
    response_states: dict[str, int] = defaultdict(int)
    signatures = 0
    grouped = (
        Petition.objects.values_list("state", "response_state")
        .order_by()
        .annotate(n=Count("id"), total=Sum("signature_count"))
    )
    for state, response_state, n, total in grouped:
        states[state] += n
        response_states[response_state] += n
        signatures += total or 0
    times = response_times(
        Petition.objects.filter(response_state=RESPONDED).values_list(*_TIME_FIELDS)
    )
    return SiteStatistics(
        by_state=[Tally(value, label, states[value]) for value, label in Petition.State.choices],
        by_response_state=[
            Tally(value, label, response_states[value])
            for value, label in Petition.ResponseState.choices
        ],
        times=times,
        time_buckets=_buckets(times.measured),
        overdue=overdue_by_department(now),
        petitions=sum(states.values()),
        signatures=signatures,
        generated_at=now,
    )


# --- Department records --------------------------------------------------------------------


@dataclass(frozen=True)
class DepartmentRecord:
    department: Department
    routed: int = 0
    responded: int = 0
    awaiting: int = 0
    overdue: int = 0
    times: ResponseTimes = field(default_factory=ResponseTimes)


def active_departments() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True).order_by("name_en")


def department_records(
    departments: Sequence[Department], now: datetime | None = None
) -> list[DepartmentRecord]:
    """Each department's record over the petitions it leads now: two queries in all."""
    now = now or timezone.now()
    ids = [department.pk for department in departments]
    leads = _active_leads().filter(department_id__in=ids)
    counts = {
        row["department_id"]: row
        for row in leads.values("department_id")
        .order_by()
        .annotate(
            routed=Count("petition_id", distinct=True),
            responded=Count(
                "petition_id", distinct=True, filter=Q(petition__response_state=RESPONDED)
            ),
            awaiting=Count(
                "petition_id", distinct=True, filter=Q(petition__response_state=AWAITING)
            ),
            overdue=Count(
                "petition_id",
                distinct=True,
                filter=Q(petition__response_state=AWAITING, due_at__lt=now),
            ),
        )
    }
    rows: dict[int, list[ResponseRow]] = defaultdict(list)
    for department_id, *times in leads.filter(petition__response_state=RESPONDED).values_list(
        "department_id", *(f"petition__{name}" for name in _TIME_FIELDS)
    ):
        rows[department_id].append((times[0], times[1], times[2]))
    records = []
    for department in departments:
        row = counts.get(department.pk, {})
        records.append(
            DepartmentRecord(
                department=department,
                routed=row.get("routed", 0),
                responded=row.get("responded", 0),
                awaiting=row.get("awaiting", 0),
                overdue=row.get("overdue", 0),
                times=response_times(rows[department.pk]),
            )
        )
    return records


@dataclass(frozen=True)
class AwaitingRow:
    petition: Petition
    due_at: datetime
    days_overdue: int


@dataclass(frozen=True)
class DepartmentPage:
    record: DepartmentRecord
    awaiting: list[AwaitingRow]
    recent_responses: list[Response]
    debates: list[Debate]


def department_page(department: Department, now: datetime | None = None) -> DepartmentPage:
    """A department's record, the petitions awaiting its response and its latest responses."""
    now = now or timezone.now()
    waiting = (
        _active_leads()
        .filter(
            department=department,
            petition__response_state=AWAITING,
            petition__state__in=Petition.PUBLIC_STATES,
        )
        .select_related("petition")
        .order_by("due_at", "petition_id")[:AWAITING_LIMIT]
    )
    recent = (
        _published()
        .filter(department=department)
        .prefetch_related(
            Prefetch(
                "petitions",
                queryset=_public_petitions().order_by("-signature_count"),
                to_attr="public_petitions",
            )
        )
        .order_by("-published_at")[:RECENT_RESPONSES]
    )
    debates: list[Debate] = []
    if department.kind == Department.Kind.COMMITTEE:
        debates = list(
            Debate.objects.filter(committee=department, petition__state__in=Petition.PUBLIC_STATES)
            .select_related("petition")
            .order_by("-scheduled_for", "-created_at")[:RECENT_RESPONSES]
        )
    return DepartmentPage(
        record=department_records([department], now)[0],
        awaiting=[AwaitingRow(a.petition, a.due_at, days_overdue(a.due_at, now)) for a in waiting],
        recent_responses=list(recent),
        debates=debates,
    )


# --- One response, and a petition's response section --------------------------------------


def _corrections() -> Prefetch:
    return Prefetch(
        "versions",
        queryset=ResponseVersion.objects.filter(kind=ResponseVersion.Kind.CORRECTION).order_by(
            "number"
        ),
        to_attr="corrections",
    )


@dataclass(frozen=True)
class PublishedResponse:
    response: Response
    body_html: SafeString
    corrections: list[ResponseVersion]
    petitions: list[Petition]


def published_response(pk: int) -> PublishedResponse | None:
    """A published response with its department, corrections and public petitions."""
    response = (
        _published()
        .select_related("department")
        .prefetch_related(
            _corrections(),
            Prefetch(
                "petitions",
                queryset=_public_petitions().order_by("-signature_count", "pk"),
                to_attr="public_petitions",
            ),
        )
        .filter(pk=pk)
        .first()
    )
    if response is None:
        return None
    return PublishedResponse(
        response,
        render_markdown(response.body),
        list(getattr(response, "corrections", [])),
        list(getattr(response, "public_petitions", [])),
    )


@dataclass(frozen=True)
class AwaitingResponse:
    department: Department | None
    due_at: datetime | None
    days_overdue: int


@dataclass(frozen=True)
class ResponseSection:
    """What the petition page shows of the response track."""

    responses: list[PublishedResponse]
    awaiting: AwaitingResponse | None
    debate: Debate | None

    def __bool__(self) -> bool:
        return bool(self.responses or self.awaiting or self.debate)

    @property
    def days_overdue(self) -> int:
        return self.awaiting.days_overdue if self.awaiting else 0


def petition_response_section(petition: Petition, now: datetime | None = None) -> ResponseSection:
    """The petition's published responses, who it awaits and by when, and its debate.

    At most four queries, whatever the number of responses or corrections.
    """
    now = now or timezone.now()
    responses = [
        PublishedResponse(
            response, render_markdown(response.body), list(getattr(response, "corrections", [])), []
        )
        for response in _published()
        .filter(petitions=petition)
        .select_related("department")
        .prefetch_related(_corrections())
        .order_by("-published_at")
    ]
    awaiting = None
    if petition.response_state == AWAITING:
        lead = _active_leads().filter(petition=petition).select_related("department").first()
        due_at = petition.response_due_at or (lead.due_at if lead else None)
        if lead or due_at:
            awaiting = AwaitingResponse(
                lead.department if lead else None, due_at, days_overdue(due_at, now)
            )
    debate = Debate.objects.filter(petition=petition).select_related("committee").first()
    return ResponseSection(responses, awaiting, debate)


# --- Unsubscribing ----------------------------------------------------------------------------


def unsubscribe_target(token: str) -> Signature | None:
    """The signature a (valid) unsubscribe token points at, without changing anything."""
    try:
        signature_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(signature_id, int):
        return None
    return Signature.objects.select_related("petition").filter(pk=signature_id).first()
