"""The moderation back-office: the queue, a petition's review page, the decisions, and the
administrators' pause-signing switch.

Every decision is a POST to its own address that calls one service; the services claim the
transition with a conditional UPDATE, so when two moderators act at once the second one is
told the petition has moved on (409) instead of silently overwriting the first decision.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.roles import is_staff_member
from core.audit import events_for
from core.errors import DomainError
from core.markdown import render_markdown
from core.models import AuditEvent
from petitions.forms.moderation import HideForm, PauseSigningForm, RejectForm, RemoveForm
from petitions.models import Petition, Signature, SigningPause
from petitions.services import lifecycle, moderation
from petitions.views.creation import state_tag

MODERATE = "accounts.moderate_petitions"
ADMINISTER = "accounts.administer_site"
RECENT_LIMIT = 20
SEARCH_LIMIT = 20
PAST_PAUSES_LIMIT = 50

View = Callable[..., HttpResponse]

# The decisions each state allows, in the order the review page offers them.
ACTIONS: dict[str, tuple[str, ...]] = {
    Petition.State.DRAFT: ("remove",),
    Petition.State.COLLECTING_SUPPORTERS: ("reject", "remove"),
    Petition.State.AWAITING_MODERATION: ("approve", "reject", "remove"),
    Petition.State.OPEN: ("hide", "remove"),
    Petition.State.CLOSED: ("hide", "remove"),
    Petition.State.REJECTED: ("hide", "remove"),
    Petition.State.HIDDEN: ("restore", "remove"),
    Petition.State.REMOVED: (),
}
FORMS: dict[str, type[forms.Form]] = {"reject": RejectForm, "hide": HideForm, "remove": RemoveForm}

# History labels for the petition's audit events; other actions show their dotted name.
EVENT_LABELS: dict[str, Promise] = {
    "petition.created": gettext_lazy("Created"),
    "petition.sent_to_moderation": gettext_lazy("Sent to moderation"),
    "petition.opened": gettext_lazy("Approved and opened"),
    "petition.rejected": gettext_lazy("Rejected"),
    "petition.hidden": gettext_lazy("Hidden"),
    "petition.restored": gettext_lazy("Restored"),
    "petition.removed": gettext_lazy("Removed"),
    "petition.closed": gettext_lazy("Closed"),
}
MODERATION_EVENTS = (
    "petition.opened",
    "petition.rejected",
    "petition.hidden",
    "petition.restored",
    "petition.removed",
)
PUBLISHED_STATES = (
    Petition.State.OPEN,
    Petition.State.CLOSED,
    Petition.State.REJECTED,
    Petition.State.HIDDEN,
)


def staff_permission_required(permission: str) -> Callable[[View], View]:
    """Anonymous people log in; staff without ``permission`` (and non-staff) get a 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not (is_staff_member(request.user) and request.user.has_perm(permission)):
                raise PermissionDenied(_("This page is for staff with another role."))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


# --- The queue --------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    petition: Petition
    due: datetime | None
    overdue_days: int  # 0 while on time, at least 1 once past due


@dataclass(frozen=True)
class HistoryRow:
    event: AuditEvent
    label: str
    note: str
    petition: Petition | None = None


def _queue_row(petition: Petition, now: datetime) -> QueueRow:
    due = petition.moderation_due(settings.AGORA_MODERATION_TARGET_DAYS)
    late = (now - due) / timedelta(days=1) if due is not None else 0.0
    # Whole days late, as a person counts them; "1 day" from the first minute past due.
    return QueueRow(petition, due, max(1, math.floor(late)) if late > 0 else 0)


def _event_note(event: AuditEvent) -> str:
    """The reason a moderator gave, readable: a rejection's label or the typed details."""
    reason = event.data.get("reason")
    if event.action == "petition.rejected" and reason in Petition.RejectionReason.values:
        return str(Petition.RejectionReason(reason).label)
    return str(event.data.get("details", ""))


def _history_row(event: AuditEvent, petition: Petition | None = None) -> HistoryRow:
    label = EVENT_LABELS.get(event.action)
    return HistoryRow(event, str(label) if label else event.action, _event_note(event), petition)


def _recently_moderated() -> list[HistoryRow]:
    """The last decisions, from the audit trail (who decided, and when). Three queries."""
    events = list(
        AuditEvent.objects.filter(
            target_type=ContentType.objects.get_for_model(Petition),
            action__in=MODERATION_EVENTS,
        )
        .select_related("actor")
        .order_by("-created_at", "-id")[:RECENT_LIMIT]
    )
    petitions = Petition.objects.in_bulk([int(event.target_id) for event in events])
    return [_history_row(event, petitions.get(int(event.target_id))) for event in events]


def _published(query: str) -> list[Petition]:
    """Published petitions by number or words of the title, the most recently opened first."""
    petitions = Petition.objects.filter(state__in=PUBLISHED_STATES)
    number = query.removeprefix("#")
    if number.isdigit():
        petitions = petitions.filter(pk=int(number))
    elif query:
        petitions = petitions.filter(title__icontains=query)
    return list(petitions.order_by("-opened_at", "-pk")[:SEARCH_LIMIT])


@staff_permission_required(MODERATE)
@require_safe
def queue(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    waiting = Petition.objects.filter(state=Petition.State.AWAITING_MODERATION).order_by(
        "moderation_requested_at", "pk"
    )
    rows = [_queue_row(petition, now) for petition in waiting]
    query = request.GET.get("q", "").strip()
    context = {
        "rows": rows,
        "overdue": sum(1 for row in rows if row.overdue_days),
        "target_days": settings.AGORA_MODERATION_TARGET_DAYS,
        "recent": _recently_moderated(),
        "query": query,
        "published": [(petition, state_tag(petition)) for petition in _published(query)],
    }
    return render(request, "staff/moderation/queue.html", context)


# --- Reviewing one petition ---------------------------------------------------------------


def _review_page(
    request: HttpRequest,
    petition: Petition,
    *,
    bound: forms.Form | None = None,
    status: int = 200,
) -> HttpResponse:
    """The petition, its history and the decision forms its state allows.

    ``bound`` is a decision form that came back with errors; it replaces the blank one.
    """
    actions = ACTIONS.get(petition.state, ())
    decision_forms = {name: FORMS[name]() for name in actions if name in FORMS}
    if bound is not None and bound.prefix in decision_forms:
        decision_forms[bound.prefix] = bound
    supporters = Signature.objects.filter(
        petition=petition, is_supporter=True, state=Signature.State.CONFIRMED
    ).count()
    context = {
        "petition": petition,
        "details_html": render_markdown(petition.details) if petition.details else "",
        "topics": list(petition.topics.all()),
        "supporters": supporters,
        "history": [_history_row(event) for event in events_for(petition)],
        "actions": actions,
        "forms": decision_forms,
        "bound": bound,
        "tag": state_tag(petition),
        "due": petition.moderation_due(settings.AGORA_MODERATION_TARGET_DAYS),
    }
    return render(request, "staff/moderation/review.html", context, status=status)


def _petition(pk: int) -> Petition:
    return get_object_or_404(Petition.objects.select_related("creator"), pk=pk)


def _refused(request: HttpRequest, petition: Petition, error: DomainError) -> HttpResponse:
    """A service said no (another moderator got there first...): say so, show the page."""
    messages.error(request, error.message)
    petition.refresh_from_db()
    return _review_page(request, petition, status=error.status_code)


@staff_permission_required(MODERATE)
@require_safe
def review(request: HttpRequest, pk: int) -> HttpResponse:
    return _review_page(request, _petition(pk))


@require_POST
@staff_permission_required(MODERATE)
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    petition = _petition(pk)
    try:
        moderation.approve_petition(petition, actor=request.user)
    except DomainError as error:
        return _refused(request, petition, error)
    messages.success(
        request, _("“%(title)s” is now open for signatures.") % {"title": petition.title}
    )
    return redirect("moderation:queue")


@require_POST
@staff_permission_required(MODERATE)
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    petition = _petition(pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _review_page(request, petition, bound=form, status=400)
    try:
        moderation.reject_petition(
            petition,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            details=form.cleaned_data["details"],
        )
    except DomainError as error:
        return _refused(request, petition, error)
    messages.success(request, _("“%(title)s” has been rejected.") % {"title": petition.title})
    return redirect("moderation:queue")


@require_POST
@staff_permission_required(MODERATE)
def hide(request: HttpRequest, pk: int) -> HttpResponse:
    petition = _petition(pk)
    form = HideForm(request.POST)
    if not form.is_valid():
        return _review_page(request, petition, bound=form, status=400)
    try:
        moderation.hide_petition(petition, actor=request.user, details=form.cleaned_data["details"])
    except DomainError as error:
        return _refused(request, petition, error)
    messages.success(request, _("“%(title)s” has been hidden.") % {"title": petition.title})
    return redirect("moderation:review", pk=petition.pk)


@require_POST
@staff_permission_required(MODERATE)
def restore(request: HttpRequest, pk: int) -> HttpResponse:
    petition = _petition(pk)
    try:
        moderation.restore_petition(petition, actor=request.user)
    except DomainError as error:
        return _refused(request, petition, error)
    messages.success(
        request,
        _("“%(title)s” has been restored. Its state is now: %(state)s.")
        % {"title": petition.title, "state": petition.get_state_display()},
    )
    return redirect("moderation:review", pk=petition.pk)


@require_POST
@staff_permission_required(MODERATE)
def remove(request: HttpRequest, pk: int) -> HttpResponse:
    petition = _petition(pk)
    form = RemoveForm(request.POST)
    if not form.is_valid():
        return _review_page(request, petition, bound=form, status=400)
    try:
        moderation.remove_petition(
            petition, actor=request.user, details=form.cleaned_data["details"]
        )
    except DomainError as error:
        return _refused(request, petition, error)
    messages.success(request, _("“%(title)s” has been removed.") % {"title": petition.title})
    return redirect("moderation:review", pk=petition.pk)


# --- Pausing signing --------------------------------------------------------------------


def _signing_page(
    request: HttpRequest, *, form: PauseSigningForm | None = None, status: int = 200
) -> HttpResponse:
    pause = SigningPause.running()
    past = SigningPause.objects.filter(ended_at__isnull=False).select_related(
        "started_by", "ended_by"
    )[:PAST_PAUSES_LIMIT]
    context = {
        "pause": pause,
        "form": form or PauseSigningForm(),
        "past": list(past),
        "open_petitions": Petition.objects.filter(state=Petition.State.OPEN).count(),
    }
    return render(request, "staff/moderation/signing.html", context, status=status)


def _pause(request: HttpRequest) -> HttpResponse:
    form = PauseSigningForm(request.POST)
    if not form.is_valid():
        return _signing_page(request, form=form, status=400)
    try:
        lifecycle.pause_signing(actor=request.user, reason=form.cleaned_data["reason"])
    except DomainError as error:
        messages.error(request, error.message)
        return _signing_page(request, status=error.status_code)
    messages.success(request, _("Signing is paused. Nobody can sign until you resume it."))
    return redirect("moderation:signing")


def _resume(request: HttpRequest) -> HttpResponse:
    try:
        lifecycle.resume_signing(actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return _signing_page(request, status=error.status_code)
    messages.success(
        request,
        _("Signing has resumed. The deadlines of open petitions moved by the pause's length."),
    )
    return redirect("moderation:signing")


@staff_permission_required(ADMINISTER)
@require_http_methods(["GET", "POST"])
def signing_switch(request: HttpRequest) -> HttpResponse:
    """GET: the switch. POST ``action=pause`` (with a reason) or ``action=resume``."""
    if request.method == "GET":
        return _signing_page(request)
    action = request.POST.get("action")
    if action == "pause":
        return _pause(request)
    if action == "resume":
        return _resume(request)
    return HttpResponseBadRequest(_("Choose to pause or to resume signing."))
