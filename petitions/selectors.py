"""Read-only composites for the public site: the list and its filters, the home page
sections, and a petition's signatures by region, over time and its public history.

Nothing here writes. Every function runs a fixed number of queries whatever the size of
the result, so pages built from them keep a constant query count.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from core.audit import events_for
from core.memo import ProcessMemo
from petitions.models import (
    Country,
    HourlyCount,
    Petition,
    Region,
    RegionCount,
    Signature,
    SigningPause,
    Topic,
)
from petitions.regions import FR_DEPARTEMENT, FR_REGION, US_STATE

PAGE_SIZE = 20
HOME_SECTION_SIZE = 6
TRENDING_WINDOW = timedelta(hours=24)

# --- Sorting and filtering the list -----------------------------------------------------


class Sort:
    RELEVANCE = "relevance"
    POPULAR = "popular"
    TRENDING = "trending"
    NEWEST = "newest"
    CLOSING = "closing"


SORT_LABELS: dict[str, Promise] = {
    Sort.RELEVANCE: _("Best match"),
    Sort.POPULAR: _("Most signatures"),
    Sort.TRENDING: _("Trending (last 24 hours)"),
    Sort.NEWEST: _("Newest"),
    Sort.CLOSING: _("Closing soon"),
}

# The list's "state" filter mixes the signing state and the response track.
STATE_FILTERS: dict[str, Promise] = {
    "open": _("Open"),
    "closed": _("Closed"),
    "rejected": _("Rejected"),
    "awaiting_response": _("Awaiting a government response"),
    "responded": _("Government responded"),
}
_STATE_QUERIES: dict[str, Q] = {
    "open": Q(state=Petition.State.OPEN),
    "closed": Q(state=Petition.State.CLOSED),
    "rejected": Q(state=Petition.State.REJECTED),
    "awaiting_response": Q(response_state=Petition.ResponseState.AWAITING),
    "responded": Q(response_state=Petition.ResponseState.RESPONDED),
}

# Region kinds the public pages show, in display order.
REGION_KINDS: dict[str, Promise] = {
    FR_REGION: _("French regions"),
    FR_DEPARTEMENT: _("French départements"),
    US_STATE: _("US states"),
}
REGION_KIND_SINGULAR: dict[str, Promise] = {
    FR_REGION: _("Region"),
    FR_DEPARTEMENT: _("Département"),
    US_STATE: _("State"),
}

# Search configurations: a petition is indexed in the language it is written in.
FRENCH, ENGLISH = "french", "english"


@dataclass(frozen=True)
class PetitionFilters:
    """What the reader asked the list for; every value already validated."""

    q: str = ""
    state: str = ""
    topic: str = ""
    region: Region | None = None
    sort: str = ""

    @property
    def effective_sort(self) -> str:
        if self.sort:
            return self.sort
        return Sort.RELEVANCE if self.q else Sort.POPULAR


def recent_signatures(since: datetime) -> Coalesce:
    """Signatures confirmed since ``since`` (from the hourly counts), as an annotation."""
    per_petition = (
        HourlyCount.objects.filter(petition=OuterRef("pk"), hour__gte=since)
        .order_by()
        .values("petition")
        .annotate(total=Sum("count"))
        .values("total")
    )
    return Coalesce(Subquery(per_petition, output_field=IntegerField()), Value(0))


def with_recent_signatures(queryset: QuerySet[Petition]) -> QuerySet[Petition]:
    return queryset.annotate(recent_signatures=recent_signatures(timezone.now() - TRENDING_WINDOW))


# Migration 0009 stores each petition's weighted document (title A, summary B, details C) in
# its own language's configuration, French for French petitions and English otherwise, as a
# generated column with a GIN index. The column is PostgreSQL's alone: the model does not
# declare it, so Django never writes it.
SEARCH_DOCUMENT = RawSQL('"petitions_petition"."search_document"', [], SearchVectorField())
# Matches are ranked on the title and summary alone (migration 0009): reading each match's
# whole document cost more than the rest of a search.
SEARCH_HEADING = RawSQL('"petitions_petition"."search_heading"', [], SearchVectorField())


def search(queryset: QuerySet[Petition], q: str) -> QuerySet[Petition]:
    """Petitions matching ``q``, annotated with ``rank`` (full text on PostgreSQL).

    Each petition is matched in its own language's configuration, against the words of
    ``q`` stemmed the French and the English way (we do not know the reader's intent).
    Elsewhere (SQLite, for development) a plain substring match on title and summary.
    """
    if connection.vendor != "postgresql":
        return queryset.filter(Q(title__icontains=q) | Q(summary__icontains=q)).annotate(
            rank=Value(1.0)
        )
    query = SearchQuery(q, config=FRENCH, search_type="websearch") | SearchQuery(
        q, config=ENGLISH, search_type="websearch"
    )
    return (
        queryset.alias(document=SEARCH_DOCUMENT)
        .filter(document=query)
        .annotate(rank=SearchRank(SEARCH_HEADING, query))
    )


def public_petitions(filters: PetitionFilters) -> QuerySet[Petition]:
    """The public list: filtered, searched, sorted, with topics prefetched."""
    queryset = (
        with_recent_signatures(Petition.objects.public())
        .defer("details")  # up to 5,000 characters a row that a list never shows
        .prefetch_related("topics")
    )
    if filters.state:
        queryset = queryset.filter(_STATE_QUERIES[filters.state])
    if filters.topic:
        queryset = queryset.filter(topics__slug=filters.topic)
    if filters.region is not None:
        queryset = queryset.filter(region_counts__region=filters.region, region_counts__count__gt=0)
    if filters.q:
        queryset = search(queryset, filters.q)
    sort = filters.effective_sort
    if sort == Sort.RELEVANCE and filters.q:
        return queryset.order_by("-rank", "-signature_count", "-pk")
    if sort == Sort.TRENDING:
        return queryset.order_by("-recent_signatures", "-signature_count", "-pk")
    if sort == Sort.NEWEST:
        return queryset.order_by(F("opened_at").desc(nulls_last=True), "-pk")
    if sort == Sort.CLOSING:
        return queryset.filter(state=Petition.State.OPEN, deadline__gt=timezone.now()).order_by(
            "deadline", "pk"
        )
    return queryset.order_by("-signature_count", "-pk")


def topic_choices() -> list[tuple[str, str]]:
    """(slug, name) of every topic, by name in the current language."""
    topics = list(Topic.objects.all())
    return sorted(((t.slug, t.name) for t in topics), key=lambda choice: collation_key(choice[1]))


def region_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Grouped choices for the region filter: [(kind label, [(value, name)])].

    The value is ``kind:code`` (codes repeat across kinds: région 01 is not département 01).
    """
    rows = Region.objects.filter(kind__in=REGION_KINDS).values_list("kind", "code", "name")
    grouped: dict[str, list[tuple[str, str]]] = {kind: [] for kind in REGION_KINDS}
    for kind, code, name in rows:
        grouped[kind].append((f"{kind}:{code}", name))
    return [
        (str(REGION_KINDS[kind]), sorted(choices, key=lambda choice: collation_key(choice[1])))
        for kind, choices in grouped.items()
        if choices
    ]


def find_region(value: str) -> Region | None:
    """A region of a public kind from ``kind:code``, a bare code, or its id."""
    regions = Region.objects.filter(kind__in=REGION_KINDS)
    kind, sep, code = value.partition(":")
    if sep:
        return regions.filter(kind=kind, code=code).first()
    if value.isdigit():
        by_id = regions.filter(pk=int(value)).first()
        if by_id is not None:
            return by_id
    # A bare code: départements first (the finest French level), then states, then régions.
    matches = {region.kind: region for region in regions.filter(code=value)}
    for kind in (FR_DEPARTEMENT, US_STATE, FR_REGION):
        if kind in matches:
            return matches[kind]
    return None


def collation_key(text: str) -> str:
    """Sort key that puts "Égypte" among the E (a good-enough collation, no ICU needed)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


COUNTRY_CHOICES_KEY = "agora:country-choices:{language}"


def country_choices() -> list[tuple[str, str]]:
    """(code, name) of every country, by name in the current language.

    Cached for an hour, in the shared cache and in each process: every signing form needs
    the list, and it changes only when ``load_regions`` runs (which forgets it).
    """
    language = "fr" if get_language() == "fr" else "en"

    def build() -> list[tuple[str, str]]:
        rows = Country.objects.values_list("code", f"name_{language}")
        return sorted(rows, key=lambda row: collation_key(row[1]))

    def shared() -> list[tuple[str, str]]:
        choices = cache.get_or_set(COUNTRY_CHOICES_KEY.format(language=language), build, 3600)
        return choices if choices is not None else build()

    return _COUNTRY_CHOICES.get(language, shared)


class CountryChoices(BaseChoiceIterator):
    """A country select's choices, blank first, in the shape Django keeps choices in.

    Handing a ChoiceField a plain list makes it re-normalise all ~250 pairs for every
    form; an iterator is kept as it is. ``codes`` lets validation look a code up at once.
    """

    def __init__(self, blank: str, pairs: list[tuple[str, str]]) -> None:
        self.pairs = [("", blank), *pairs]
        self.codes = frozenset(code for code, _name in pairs)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.pairs)


def country_field_choices(blank: StrOrPromise) -> CountryChoices:
    """The choices of a country select in the current language (memoised per process)."""
    language = "fr" if get_language() == "fr" else "en"
    return _COUNTRY_FIELD_CHOICES.get(
        language, lambda: CountryChoices(str(blank), country_choices())
    )


def forget_country_choices() -> None:
    cache.delete_many([COUNTRY_CHOICES_KEY.format(language=code) for code in ("en", "fr")])
    _COUNTRY_CHOICES.forget()
    _COUNTRY_FIELD_CHOICES.forget()


_COUNTRY_CHOICES: ProcessMemo[list[tuple[str, str]]] = ProcessMemo(seconds=3600)
_COUNTRY_FIELD_CHOICES: ProcessMemo[CountryChoices] = ProcessMemo(seconds=3600)


def running_pause() -> SigningPause | None:
    return SigningPause.in_force()


# --- Home page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HomeSection:
    key: str
    title: Promise
    sort: str
    petitions: list[Petition]
    filters: dict[str, str] = field(default_factory=dict)

    @property
    def list_query(self) -> str:
        """The list's query string showing the whole of this section."""
        params = {**self.filters, **({"sort": self.sort} if self.sort else {})}
        return urlencode(params)


def home_sections(size: int = HOME_SECTION_SIZE) -> list[HomeSection]:
    """The home page's lists, empty ones left out: four queries."""
    now = timezone.now()
    signable = with_recent_signatures(Petition.objects.signable()).defer("details")
    sections = [
        HomeSection(
            "popular",
            _("Popular petitions"),
            Sort.POPULAR,
            list(signable.order_by("-signature_count", "-pk")[:size]),
            {"state": "open"},
        ),
        HomeSection(
            "trending",
            _("Trending"),
            Sort.TRENDING,
            list(
                signable.filter(Q(recent_signatures__gt=0)).order_by(
                    "-recent_signatures", "-signature_count", "-pk"
                )[:size]
            ),
            {"state": "open"},
        ),
        HomeSection(
            "responded",
            _("Recently responded"),
            "",
            list(
                Petition.objects.public()
                .defer("details")
                .filter(response_state=Petition.ResponseState.RESPONDED)
                .order_by(F("responded_at").desc(nulls_last=True), "-pk")[:size]
            ),
            {"state": "responded"},
        ),
        HomeSection(
            "closing",
            _("Closing soon"),
            Sort.CLOSING,
            list(signable.filter(deadline__gt=now).order_by("deadline", "pk")[:size]),
        ),
    ]
    return [section for section in sections if section.petitions]


# --- One petition -----------------------------------------------------------------------


@dataclass(frozen=True)
class RegionRow:
    name: str
    code: str
    count: int
    per_100k: float | None


@dataclass(frozen=True)
class RegionTable:
    kind: str
    label: Promise
    column: Promise
    rows: list[RegionRow]

    def top_by_count(self, n: int = 15) -> list[RegionRow]:
        return self.rows[:n]

    def top_per_100k(self, n: int = 15) -> list[RegionRow]:
        rated = [row for row in self.rows if row.per_100k is not None]
        return sorted(rated, key=lambda row: (-(row.per_100k or 0), row.name))[:n]


def signatures_by_region(petition: Petition) -> list[RegionTable]:
    """Confirmed signatures per region, for each public region kind signed from (1 query)."""
    counts = (
        RegionCount.objects.filter(petition=petition, count__gt=0, region__kind__in=REGION_KINDS)
        .select_related("region")
        .order_by("-count", "region__name")
    )
    rows: dict[str, list[RegionRow]] = {kind: [] for kind in REGION_KINDS}
    for region_count in counts:
        region = region_count.region
        per_100k = region_count.count * 100_000 / region.population if region.population else None
        rows[region.kind].append(RegionRow(region.name, region.code, region_count.count, per_100k))
    return [
        RegionTable(kind, REGION_KINDS[kind], REGION_KIND_SINGULAR[kind], kind_rows)
        for kind, kind_rows in rows.items()
        if kind_rows
    ]


@dataclass(frozen=True)
class DayCount:
    day: date
    count: int
    total: int


def signatures_per_day(petition: Petition) -> list[DayCount]:
    """Signatures confirmed each day (in the site's time zone), with the running total.

    On PostgreSQL one statement written once: the petition page and the API's detail ask
    for it on every view, and Django's compilation of the ORM's aggregate cost ten times
    its execution. Elsewhere ``signatures_per_day_by_orm``, which gives the same days.
    """
    if connection.vendor != "postgresql":
        return signatures_per_day_by_orm(petition)
    table = connection.ops.quote_name(HourlyCount._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(  # a table name in the text; the values are parameters
            f"SELECT (hour AT TIME ZONE %s)::date, SUM(count) FROM {table} "  # noqa: S608
            "WHERE petition_id = %s GROUP BY 1 ORDER BY 1",
            [timezone.get_current_timezone_name(), petition.pk],
        )
        return _running_totals(cursor.fetchall())


def signatures_per_day_by_orm(petition: Petition) -> list[DayCount]:
    per_day = (
        HourlyCount.objects.filter(petition=petition)
        .annotate(day=TruncDate("hour", tzinfo=timezone.get_current_timezone()))
        .order_by()
        .values("day")
        .annotate(n=Sum("count"))
        .order_by("day")
        .values_list("day", "n")
    )
    return _running_totals(per_day)


def _running_totals(per_day: Iterable[tuple[date, int | None]]) -> list[DayCount]:
    """Days with signatures (a day whose hours add up to nothing is left out)."""
    days: list[DayCount] = []
    total = 0
    for day, n in per_day:
        if not n:
            continue
        total += n
        days.append(DayCount(day, n, total))
    return days


PUBLIC_EVENTS: dict[str, Promise] = {
    "petition.opened": _("Published and open for signatures"),
    "petition.response_threshold_reached": _("Reached the threshold for a government response"),
    "petition.consideration_threshold_reached": _(
        "Reached the threshold for consideration for a debate"
    ),
    "petition.closed": _("Closed"),
    "petition.rejected": _("Rejected"),
    "petition.hidden": _("Hidden by the moderators"),
    "petition.restored": _("Restored by the moderators"),
}


@dataclass(frozen=True)
class HistoryEntry:
    action: str
    label: Promise
    at: datetime


def public_history(petition: Petition) -> list[HistoryEntry]:
    """The public events of a petition, oldest first; no actors, no details."""
    events = (
        events_for(petition)
        .filter(action__in=PUBLIC_EVENTS)
        .order_by("created_at", "id")
        .values_list("action", "created_at")
    )
    return [HistoryEntry(action, PUBLIC_EVENTS[action], at) for action, at in events]


def confirmed_supporters(petition: Petition) -> int:
    return Signature.objects.filter(
        petition=petition, is_supporter=True, state=Signature.State.CONFIRMED
    ).count()


def latest_signature_place(user: Any) -> tuple[str, str] | None:
    """(country, postcode) of the person's latest signature, to prefill one-click signing."""
    row = (
        Signature.objects.filter(user=user)
        .exclude(country="")
        .order_by("-created_at")
        .values_list("country", "postcode")
        .first()
    )
    return (row[0], row[1]) if row else None


def can_sign_in_one_click(user: Any) -> bool:
    """A signed-in person whose account address is verified (allauth)."""
    if not getattr(user, "is_authenticated", False):
        return False
    from allauth.account.models import EmailAddress

    return bool(
        EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()
    )


def count_payload(pk: int) -> dict[str, Any] | None:
    """The live count of a public petition, in one query on its row."""
    row = (
        Petition.objects.public()
        .filter(pk=pk)
        .values(
            "id",
            "signature_count",
            "counted_at",
            "response_threshold",
            "consideration_threshold",
        )
        .first()
    )
    return dict(row) if row is not None else None
