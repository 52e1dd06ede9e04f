"""The public data sets: their fields, what each field means, and their rows.

Each data set reads the same public querysets as the public site (public petitions,
published responses) and yields plain tuples, one per row, from ``.iterator(chunk_size=)``
or ``values_list`` queries: nothing is ever loaded whole, so the export's memory does not
grow with the data. Only aggregates and public texts are read; no signature row, email,
address or staff member is ever selected, so no personal data can reach a file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import unescape
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from core.markdown import render_markdown
from petitions.models import CountryCount, HourlyCount, Petition, RegionCount, Topic
from responses.models import Department, Response
from responses.public_selectors import department_records

Row = Sequence[Any]


@dataclass(frozen=True)
class Field:
    name: str
    description: StrOrPromise


@dataclass(frozen=True)
class Dataset:
    """One data set, written as ``<name>.csv`` and ``<name>.json``."""

    name: str
    title: StrOrPromise
    description: StrOrPromise
    fields: tuple[Field, ...]
    count: Callable[[], int]
    rows: Callable[[int], Iterator[Row]]

    @property
    def columns(self) -> list[str]:
        return [field.name for field in self.fields]

    def file_name(self, file_format: str) -> str:
        return f"{self.name}.{file_format}"


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in UTC, to the second: ``2026-12-06T04:10:00Z``."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def plain_text(markdown: str) -> str:
    """The text of a Markdown body without its markup (rendered, sanitised, tags removed)."""
    return unescape(strip_tags(render_markdown(markdown))).strip()


# --- Petitions ------------------------------------------------------------------------------


def public_petitions() -> QuerySet[Petition]:
    """The public site's queryset: open, closed and rejected petitions, nothing else."""
    return Petition.objects.public()


PETITION_FIELDS = (
    Field("id", _("Petition number, also in its address.")),
    Field("title", _("Title, in the language the petition was written in.")),
    Field(
        "summary",
        _("What the petition asks for; empty for a rejection whose text is not shown."),
    ),
    Field("language", _("Language of the text: en or fr.")),
    Field("state", _("open, closed or rejected.")),
    Field("rejection_reason", _("Standard reason code of a rejection, or empty.")),
    Field("response_state", _("none, awaiting_response or responded.")),
    Field("consideration_state", _("none, awaiting_consideration or considered.")),
    Field("topics", _("Topic codes (see topics), separated by | in CSV, a list in JSON.")),
    Field("created_at", _("When the petition was created.")),
    Field("opened_at", _("When it was published and opened for signatures.")),
    Field("closed_at", _("When it closed.")),
    Field("rejected_at", _("When it was rejected.")),
    Field("deadline", _("When signing ends (or ended).")),
    Field("signature_count", _("Confirmed signatures at the time of the export.")),
    Field("response_threshold", _("Signatures needed for a government response.")),
    Field("response_threshold_reached_at", _("When the response threshold was reached.")),
    Field("consideration_threshold", _("Signatures needed for consideration for a debate.")),
    Field(
        "consideration_threshold_reached_at",
        _("When the consideration threshold was reached."),
    ),
    Field("responded_at", _("When the first response was published.")),
    Field("url", _("Address of the petition's page.")),
)


def petition_rows(chunk_size: int) -> Iterator[Row]:
    topics = Prefetch("topics", queryset=Topic.objects.only("slug").order_by("slug"))
    petitions = (
        public_petitions()
        .only(
            "title",
            "summary",
            "language",
            "state",
            "rejection_reason",
            "response_state",
            "consideration_state",
            "created_at",
            "opened_at",
            "closed_at",
            "rejected_at",
            "deadline",
            "signature_count",
            "response_threshold",
            "response_threshold_reached_at",
            "consideration_threshold",
            "consideration_threshold_reached_at",
            "responded_at",
        )
        .prefetch_related(topics)
        .order_by("pk")
    )
    for petition in petitions.iterator(chunk_size=chunk_size):
        yield (
            petition.pk,
            petition.title,
            "" if petition.text_is_hidden else petition.summary,
            petition.language,
            petition.state,
            petition.rejection_reason,
            petition.response_state,
            petition.consideration_state,
            [topic.slug for topic in petition.topics.all()],
            timestamp(petition.created_at),
            timestamp(petition.opened_at),
            timestamp(petition.closed_at),
            timestamp(petition.rejected_at),
            timestamp(petition.deadline),
            petition.signature_count,
            petition.response_threshold,
            timestamp(petition.response_threshold_reached_at),
            petition.consideration_threshold,
            timestamp(petition.consideration_threshold_reached_at),
            timestamp(petition.responded_at),
            absolute(petition.get_absolute_url()),
        )


# --- Responses ------------------------------------------------------------------------------


def published_responses() -> QuerySet[Response]:
    return Response.objects.filter(state=Response.State.PUBLISHED)


RESPONSE_FIELDS = (
    Field("id", _("Response number, also in its address.")),
    Field("title", _("Title of the response.")),
    Field("body", _("Text of the response, in Markdown.")),
    Field("body_plain", _("The same text without Markdown markup.")),
    Field("department", _("Code of the department that published it (see departments).")),
    Field("published_at", _("When it was published.")),
    Field("updated_at", _("When it was last corrected, or when it was published.")),
    Field("petitions", _("Numbers of the public petitions it answers.")),
    Field("url", _("Address of the response's page.")),
)


def response_rows(chunk_size: int) -> Iterator[Row]:
    petitions = Prefetch(
        "petitions",
        queryset=public_petitions().only("pk").order_by("pk"),
        to_attr="public_petitions",
    )
    responses = (
        published_responses()
        .select_related("department")
        .only("title", "body", "published_at", "corrected_at", "department__slug")
        .prefetch_related(petitions)
        .order_by("pk")
    )
    for response in responses.iterator(chunk_size=chunk_size):
        yield (
            response.pk,
            response.title,
            response.body,
            plain_text(response.body),
            response.department.slug,
            timestamp(response.published_at),
            timestamp(response.corrected_at or response.published_at),
            [petition.pk for petition in getattr(response, "public_petitions", [])],
            absolute(response.get_absolute_url()),
        )


# --- Departments and topics -------------------------------------------------------------------


def public_departments() -> QuerySet[Department]:
    """Active departments, and any other that published a response (its responses cite it)."""
    published = Q(responses__state=Response.State.PUBLISHED)
    return Department.objects.filter(Q(is_active=True) | published).distinct().order_by("slug")


DEPARTMENT_FIELDS = (
    Field("id", _("Department number.")),
    Field("slug", _("Department code, used in its address and in responses.")),
    Field("name_en", _("Name in English.")),
    Field("name_fr", _("Name in French.")),
    Field("acronym", _("Acronym, if any.")),
    Field("kind", _("ministry, service or committee.")),
    Field(
        "response_target_days", _("Days it has to publish a response once a petition is routed.")
    ),
    Field("petitions_routed", _("Petitions it leads the response to.")),
    Field("petitions_responded", _("Of those, petitions responded to.")),
    Field("petitions_awaiting", _("Of those, petitions awaiting a response.")),
    Field("petitions_overdue", _("Of those, petitions past their due date.")),
    Field("median_days_to_respond", _("Median days from the threshold to the response.")),
    Field("p90_days_to_respond", _("90th percentile of the same, in days.")),
    Field("percent_by_due_date", _("Share of responses published by the due date (%).")),
    Field("url", _("Address of the department's page.")),
)


def department_rows(chunk_size: int) -> Iterator[Row]:
    # Departments are a few dozen rows: their records are computed for all of them at once
    # (two queries), as on the public departments page.
    for record in department_records(list(public_departments())):
        department = record.department
        yield (
            department.pk,
            department.slug,
            department.name_en,
            department.name_fr,
            department.acronym,
            department.kind,
            department.response_target_days,
            record.routed,
            record.responded,
            record.awaiting,
            record.overdue,
            record.times.median_days,
            record.times.p90_days,
            record.times.share_within_target,
            absolute(reverse("responses:department", args=[department.slug])),
        )


TOPIC_FIELDS = (
    Field("slug", _("Topic code, used in petitions.")),
    Field("name_en", _("Name in English.")),
    Field("name_fr", _("Name in French.")),
    Field("lead_department", _("Code of the department that answers petitions on this topic.")),
)


def topics() -> QuerySet[Topic]:
    return Topic.objects.order_by("slug")


def topic_rows(chunk_size: int) -> Iterator[Row]:
    values = topics().values_list("slug", "name_en", "name_fr", "lead_department__slug")
    for slug, name_en, name_fr, lead in values.iterator(chunk_size=chunk_size):
        yield (slug, name_en, name_fr, lead or "")


# --- Counts -----------------------------------------------------------------------------------


def region_counts() -> QuerySet[RegionCount]:
    return RegionCount.objects.filter(
        petition__state__in=Petition.PUBLIC_STATES, count__gt=0
    ).order_by("petition_id", "region__kind", "region__code")


REGION_FIELDS = (
    Field("petition_id", _("Petition number.")),
    Field("region_kind", _("Kind of region: fr-region, fr-departement, us-state...")),
    Field("region_code", _("Official code of the region (INSEE code, state code...).")),
    Field("region_name", _("Name of the region.")),
    Field("region_population", _("Population of the region, when known.")),
    Field("count", _("Confirmed signatures from the region.")),
)


def region_rows(chunk_size: int) -> Iterator[Row]:
    values = region_counts().values_list(
        "petition_id", "region__kind", "region__code", "region__name", "region__population", "count"
    )
    yield from values.iterator(chunk_size=chunk_size)


def country_counts() -> QuerySet[CountryCount]:
    return CountryCount.objects.filter(
        petition__state__in=Petition.PUBLIC_STATES, count__gt=0
    ).order_by("petition_id", "country")


COUNTRY_FIELDS = (
    Field("petition_id", _("Petition number.")),
    Field("country", _("ISO 3166-1 country code.")),
    Field("count", _("Confirmed signatures from the country.")),
)


def country_rows(chunk_size: int) -> Iterator[Row]:
    values = country_counts().values_list("petition_id", "country", "count")
    yield from values.iterator(chunk_size=chunk_size)


def daily_counts() -> QuerySet[HourlyCount, tuple[int, date, int]]:
    """Hourly counts summed by calendar day in the site's time zone, as the petition page."""
    return (
        HourlyCount.objects.filter(petition__state__in=Petition.PUBLIC_STATES)
        .annotate(day=TruncDate("hour", tzinfo=timezone.get_default_timezone()))
        .order_by()
        .values("petition_id", "day")
        .annotate(n=Sum("count"))
        .filter(n__gt=0)
        .order_by("petition_id", "day")
        .values_list("petition_id", "day", "n")
    )


DAY_FIELDS = (
    Field("petition_id", _("Petition number.")),
    Field("date", _("Calendar day in the site's time zone (YYYY-MM-DD).")),
    Field("count", _("Signatures confirmed that day.")),
)


def day_rows(chunk_size: int) -> Iterator[Row]:
    for petition_id, when, count in daily_counts().iterator(chunk_size=chunk_size):
        yield (petition_id, day(when), count)


# --- The registry -----------------------------------------------------------------------------

DATASETS: tuple[Dataset, ...] = (
    Dataset(
        "petitions",
        _("Petitions"),
        _("Every public petition (open, closed or rejected) with its dates and count."),
        PETITION_FIELDS,
        lambda: public_petitions().count(),
        petition_rows,
    ),
    Dataset(
        "responses",
        _("Responses"),
        _("Every published government response and the petitions it answers."),
        RESPONSE_FIELDS,
        lambda: published_responses().count(),
        response_rows,
    ),
    Dataset(
        "departments",
        _("Departments"),
        _("The departments that answer petitions, with their response record."),
        DEPARTMENT_FIELDS,
        lambda: public_departments().count(),
        department_rows,
    ),
    Dataset(
        "topics",
        _("Topics"),
        _("The topics petitions are filed under, and the department leading each."),
        TOPIC_FIELDS,
        lambda: topics().count(),
        topic_rows,
    ),
    Dataset(
        "signatures-by-region",
        _("Signatures by region"),
        _("Confirmed signatures of each public petition per region (counts only)."),
        REGION_FIELDS,
        lambda: region_counts().count(),
        region_rows,
    ),
    Dataset(
        "signatures-by-country",
        _("Signatures by country"),
        _("Confirmed signatures of each public petition per country (counts only)."),
        COUNTRY_FIELDS,
        lambda: country_counts().count(),
        country_rows,
    ),
    Dataset(
        "signatures-by-day",
        _("Signatures by day"),
        _("Signatures confirmed each day for each public petition (counts only)."),
        DAY_FIELDS,
        lambda: daily_counts().count(),
        day_rows,
    ),
)
