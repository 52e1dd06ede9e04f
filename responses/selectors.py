"""Read-only composites for the department back-office: the inbox, a petition's workspace,
a response's page, the comparison of two versions and a mailing's progress.

Every queryset here starts from what the user may see (``departments_of``): a department's
petitions, drafts and notes never reach another department's staff. Nothing here writes,
and list functions run a fixed number of queries whatever the number of rows.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.audit import events_for
from core.models import AuditEvent
from petitions.models import Petition
from petitions.selectors import PUBLIC_EVENTS
from responses.models import (
    Assignment,
    Debate,
    Department,
    InternalNote,
    Mailing,
    Membership,
    Response,
    ResponseVersion,
    Review,
    Track,
)
from responses.permissions import departments_of, has_role, visible_responses
from responses.services import outbox

# --- Scopes -------------------------------------------------------------------------------


def visible_assignments(user: Any) -> QuerySet[Assignment]:
    """The active assignments of the user's departments (every one for administrators)."""
    return Assignment.objects.active().filter(department__in=departments_of(user))


def visible_petitions(user: Any) -> QuerySet[Petition]:
    """Petitions currently routed to one of the user's departments, as lead or contributor."""
    return Petition.objects.filter(pk__in=visible_assignments(user).values("petition_id"))


def visible_mailings(user: Any) -> QuerySet[Mailing]:
    """A response's mailings go with the response; a debate's with the petition."""
    return Mailing.objects.filter(
        Q(response__in=visible_responses(user))
        | Q(response__isnull=True, petition__in=visible_petitions(user))
    )


# --- The inbox ----------------------------------------------------------------------------


class InboxSort:
    DUE = "due"
    DUE_DESC = "-due"


class InboxState:
    AWAITING = "awaiting"
    RESPONDED = "responded"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class InboxFilters:
    department: int | None = None
    track: str = ""
    state: str = ""
    sort: str = InboxSort.DUE


def _awaiting() -> Q:
    return Q(track=Track.RESPONSE, petition__response_state=Petition.ResponseState.AWAITING) | Q(
        track=Track.CONSIDERATION,
        petition__consideration_state=Petition.ConsiderationState.AWAITING,
    )


def _answered() -> Q:
    return Q(track=Track.RESPONSE, petition__response_state=Petition.ResponseState.RESPONDED) | Q(
        track=Track.CONSIDERATION,
        petition__consideration_state=Petition.ConsiderationState.CONSIDERED,
    )


def inbox(user: Any, filters: InboxFilters, now: datetime | None = None) -> QuerySet[Assignment]:
    """The user's departments' active assignments, filtered and sorted by due date.

    Three queries for a page, whatever its length: the count, the rows (with petition and
    department), and the responses the user may see for those petitions.
    """
    now = now or timezone.now()
    queryset = visible_assignments(user).select_related("petition", "department")
    if filters.department is not None:
        queryset = queryset.filter(department_id=filters.department)
    if filters.track:
        queryset = queryset.filter(track=filters.track)
    if filters.state == InboxState.AWAITING:
        queryset = queryset.filter(_awaiting())
    elif filters.state == InboxState.OVERDUE:
        queryset = queryset.filter(_awaiting(), due_at__lt=now)
    elif filters.state == InboxState.RESPONDED:
        queryset = queryset.filter(_answered())
    order = ("-due_at", "-pk") if filters.sort == InboxSort.DUE_DESC else ("due_at", "pk")
    return queryset.order_by(*order).prefetch_related(
        Prefetch(
            "petition__responses",
            queryset=visible_responses(user).order_by("-created_at", "-pk"),
            to_attr="visible_responses",
        )
    )


@dataclass(frozen=True)
class InboxRow:
    assignment: Assignment
    petition: Petition
    answered: bool
    days_left: int  # whole days before the due date; 0 on the day and once overdue
    days_overdue: int  # whole days past it, at least 1 from the first minute late
    response: Response | None  # the latest response the user may see, if any


def inbox_rows(assignments: Iterable[Assignment], now: datetime | None = None) -> list[InboxRow]:
    """Rows for a page of ``inbox`` (no query: everything was fetched with it)."""
    now = now or timezone.now()
    rows = []
    for assignment in assignments:
        petition = assignment.petition
        responses: list[Response] = getattr(petition, "visible_responses", [])
        own = [r for r in responses if r.department_id == assignment.department_id]
        answered = (
            petition.response_state == Petition.ResponseState.RESPONDED
            if assignment.track == Track.RESPONSE
            else petition.consideration_state == Petition.ConsiderationState.CONSIDERED
        )
        late = now > assignment.due_at and not answered
        rows.append(
            InboxRow(
                assignment=assignment,
                petition=petition,
                answered=answered,
                days_left=0 if late else max((assignment.due_at - now).days, 0),
                days_overdue=max(assignment.days_overdue(now), 1) if late else 0,
                response=next(iter(own or responses), None),
            )
        )
    return rows


# --- A petition's workspace ---------------------------------------------------------------

HISTORY_LABELS: dict[str, Promise] = {
    **PUBLIC_EVENTS,
    "petition.created": _("Created"),
    "petition.sent_to_moderation": _("Sent to moderation"),
    "petition.opened": _("Approved and opened"),
    "petition.removed": _("Removed"),
    "petition.routed": _("Routed to the departments"),
    "petition.rerouted": _("Re-routed"),
    "petition.routing_failed": _("No department found to route to"),
    "petition.reminder_before": _("Reminder sent before the due date"),
    "petition.reminder_due": _("Reminder sent on the due date"),
    "petition.escalated": _("Escalated: the response is late"),
    "petition.responded": _("Response published"),
    "petition.debate_scheduled": _("Debate scheduled"),
    "petition.debate_outcome": _("Debate outcome recorded"),
    "petition.note_added": _("Internal note added"),
}


@dataclass(frozen=True)
class HistoryRow:
    event: AuditEvent
    label: str
    note: str


def _history_note(event: AuditEvent, names: dict[str, str]) -> str:
    """The routing and the reason of an event, readable (department names, not slugs)."""
    data = event.data or {}
    parts = []
    if event.action in ("petition.routed", "petition.rerouted"):
        lead = data.get("lead", "")
        parts.append(str(_("Lead: %(lead)s") % {"lead": names.get(lead, lead)}))
        if data.get("contributors"):
            listed = ", ".join(names.get(slug, slug) for slug in data["contributors"])
            parts.append(str(_("Contributors: %(list)s") % {"list": listed}))
    if data.get("department"):
        parts.append(names.get(data["department"], data["department"]))
    if data.get("days_overdue"):
        parts.append(str(_("%(days)s days overdue") % {"days": data["days_overdue"]}))
    if data.get("reason"):
        parts.append(str(data["reason"]))
    return " · ".join(parts)


def history(petition: Petition) -> list[HistoryRow]:
    """Everything recorded about the petition, newest first, with the staff who acted.

    Two queries: the events (with their actors), and the departments they name.
    """
    events = list(events_for(petition).order_by("-created_at", "-id"))
    slugs: set[str] = set()
    for event in events:
        data = event.data or {}
        slugs.update(filter(None, [data.get("lead"), data.get("department")]))
        slugs.update(data.get("contributors") or [])
    names = {d.slug: d.name for d in Department.objects.filter(slug__in=slugs)} if slugs else {}
    return [
        HistoryRow(
            event, str(HISTORY_LABELS.get(event.action, event.action)), _history_note(event, names)
        )
        for event in events
    ]


@dataclass(frozen=True)
class Workspace:
    petition: Petition
    assignments: list[Assignment]  # active ones first, then the ended ones
    notes: list[InternalNote]
    responses: list[Response]
    debate: Debate | None
    history: list[HistoryRow]


def workspace(petition: Petition, user: Any) -> Workspace:
    """What the staff of an assigned department see of a petition (a handful of queries).

    Notes are shared by every department the petition is routed to; responses are shown
    only to their own department until they are published.
    """
    assignments = list(
        Assignment.objects.filter(petition=petition)
        .select_related("department")
        .order_by("ended_at", "track", "role", "department__name_en")
    )
    assignments.sort(key=lambda a: a.ended_at is not None)
    notes = list(
        InternalNote.objects.filter(petition=petition).select_related("author", "department")
    )
    responses = list(
        petition.responses.filter(
            Q(department__in=departments_of(user)) | Q(state=Response.State.PUBLISHED)
        )
        .select_related("department")
        .order_by("-created_at")
    )
    debate = Debate.objects.filter(petition=petition).select_related("committee").first()
    return Workspace(petition, assignments, notes, responses, debate, history(petition))


def drafting_department(user: Any, petition: Petition) -> Department | None:
    """The lead department (response track) in which the user is an officer, if any."""
    lead = (
        Assignment.objects.active()
        .filter(petition=petition, track=Track.RESPONSE, role=Assignment.Role.LEAD)
        .select_related("department")
        .first()
    )
    if lead is None:
        return None
    if not has_role(user, lead.department, Membership.Role.OFFICER):
        return None
    return lead.department


def note_department(user: Any, petition: Petition) -> Department | None:
    """The department a note is written for: the user's among the petition's assignments
    (the lead first); for an administrator outside them, the lead department."""
    current = visible_assignments(user).filter(petition=petition).select_related("department")
    mine = sorted(current, key=lambda a: (a.role != Assignment.Role.LEAD, a.track, a.pk))
    return mine[0].department if mine else None


def answerable_petitions(department: Department, *also: int) -> QuerySet[Petition]:
    """Petitions a response of ``department`` can answer: routed to it and still waiting
    (plus ``also``, the ones a draft already answers, so they stay ticked)."""
    routed = Assignment.objects.active().filter(department=department).values("petition_id")
    return Petition.objects.filter(
        Q(pk__in=routed, response_state=Petition.ResponseState.AWAITING) | Q(pk__in=also)
    ).order_by("-signature_count", "pk")


def reroute_initial(petition: Petition, track: str) -> dict[str, Any] | None:
    """The current lead and contributors of a track, or None when it is not routed."""
    current = list(Assignment.objects.active().filter(petition=petition, track=track))
    if not current:
        return None
    lead = next((a.department_id for a in current if a.role == Assignment.Role.LEAD), None)
    contributors = [a.department_id for a in current if a.role == Assignment.Role.CONTRIBUTOR]
    return {"lead": lead, "contributors": contributors, "track": track}


# --- A response ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MailingProgress:
    mailing: Mailing
    total: int
    sent: int
    remaining: int
    failed: int

    @property
    def done(self) -> int:
        return self.sent + self.failed

    @property
    def percent(self) -> int:
        """Whole percent sent (100 only when every message went out)."""
        return self.sent * 100 // self.total if self.total else 0

    @property
    def finished(self) -> bool:
        return self.mailing.finished_at is not None


def mailing_progress(mailing: Mailing) -> MailingProgress:
    return MailingProgress(mailing, **outbox.progress(mailing))


@dataclass(frozen=True)
class ResponseDetail:
    response: Response
    petitions: list[Petition]
    versions: list[ResponseVersion]
    reviews: list[Review]
    mailings: list[MailingProgress]
    last_review: Review | None


def response_detail(response: Response) -> ResponseDetail:
    versions = list(response.versions.select_related("author").order_by("-number"))
    reviews = list(response.reviews.select_related("reviewer").order_by("-created_at", "-pk"))
    mailings = (
        [
            mailing_progress(m)
            for m in response.mailings.select_related("petition").order_by("petition_id")
        ]
        if response.state == Response.State.PUBLISHED
        else []
    )
    return ResponseDetail(
        response=response,
        petitions=list(response.petitions.order_by("pk")),
        versions=versions,
        reviews=reviews,
        mailings=mailings,
        last_review=reviews[0] if reviews else None,
    )


# --- Comparing two versions ---------------------------------------------------------------

_TOKENS = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass(frozen=True)
class Segment:
    kind: str  # "equal", "insert" or "delete"
    text: str


@dataclass(frozen=True)
class TextDiff:
    segments: list[Segment]
    added: int  # words
    removed: int

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def _words(tokens: list[str]) -> int:
    return sum(1 for token in tokens if not token.isspace())


def diff_text(old: str, new: str) -> TextDiff:
    """A word-level diff: the text once, with the removed words and the added words marked."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    segments: list[Segment] = []
    added = removed = 0
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            segments.append(Segment("equal", "".join(a[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            segments.append(Segment("delete", "".join(a[i1:i2])))
            removed += _words(a[i1:i2])
        if tag in ("insert", "replace"):
            segments.append(Segment("insert", "".join(b[j1:j2])))
            added += _words(b[j1:j2])
    return TextDiff(segments, added, removed)


@dataclass(frozen=True)
class VersionDiff:
    old: ResponseVersion
    new: ResponseVersion
    title: TextDiff
    body: TextDiff


def compare_versions(response: Response, a: int, b: int) -> VersionDiff:
    """Version ``a`` against version ``b`` (both must exist: the form checked)."""
    versions = {v.number: v for v in response.versions.filter(number__in=[a, b])}
    old, new = versions[a], versions[b]
    return VersionDiff(old, new, diff_text(old.title, new.title), diff_text(old.body, new.body))
