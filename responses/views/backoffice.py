"""The department back-office: the inbox, a petition's workspace, the response editor, review
and publication, the comparison of versions, and the progress of the mailings.

Every page is for staff (anonymous people log in, others get a 403), and every object is
fetched through a queryset scoped to the user's departments: another department's
petition, draft, note or mailing answers 404, exactly as if it did not exist. Decisions are
POSTs to their own address that call one service; the services check the department role
and claim each transition with a conditional UPDATE, so when two people act at once the
second is told what happened (409) instead of overwriting the first.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.roles import STAFF
from core.errors import DomainError
from core.markdown import render_markdown

# Private in petitions.views.public: the public page's charts, reused as they are here.
from petitions import figures
from petitions.models import Petition
from petitions.views.creation import state_tag
from petitions.views.moderation import staff_permission_required
from responses import selectors
from responses.forms.backoffice import (
    ApproveForm,
    CompareForm,
    CorrectForm,
    DebateOutcomeForm,
    DebateScheduleForm,
    InboxFilterForm,
    MarkReadForm,
    NoteForm,
    PublishForm,
    RerouteForm,
    ResponseForm,
    SendBackForm,
)
from responses.models import (
    Department,
    Membership,
    Response,
    StaffNotification,
    Track,
)
from responses.permissions import departments_of, has_role, visible_responses
from responses.services import drafting, notes, publication, routing

PAGE_SIZE = 25
OFFICER, REVIEWER, PUBLISHER = (
    Membership.Role.OFFICER,
    Membership.Role.REVIEWER,
    Membership.Role.PUBLISHER,
)

staff_only = staff_permission_required(STAFF)


def _page_context(request: HttpRequest, queryset: Any) -> dict[str, Any]:
    """A page of ``queryset`` with the links of the other pages (filters kept)."""
    paginator = Paginator(queryset, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "page": page,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "query": query.urlencode(),
    }


# --- The inbox and the notifications -------------------------------------------------------


@staff_only
@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    """The user's departments' petitions, the soonest due first; a constant query count."""
    departments = departments_of(request.user).order_by("name_en")
    form = InboxFilterForm(request.GET or None, departments=departments)
    valid = form.is_valid() if form.is_bound else True
    data = form.cleaned_data if valid and form.is_bound else {}
    filters = selectors.InboxFilters(
        department=data.get("department"),
        track=data.get("track", ""),
        state=data.get("state", ""),
        sort=data.get("sort") or selectors.InboxSort.DUE,
    )
    context = _page_context(request, selectors.inbox(request.user, filters))
    context |= {
        "form": form,
        "filters": filters,
        "rows": selectors.inbox_rows(context["page"].object_list),
        "filtered": any([filters.department, filters.track, filters.state]),
    }
    return render(request, "staff/backoffice/inbox.html", context, status=200 if valid else 400)


@staff_only
@require_http_methods(["GET", "HEAD", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    """GET: the user's notifications, newest first. POST: mark one (or all) read."""
    user: Any = request.user  # authenticated: staff_only let the request through
    mine = StaffNotification.objects.filter(user=user)
    if request.method == "POST":
        form = MarkReadForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest(_("This notification does not exist."))
        number = form.cleaned_data["notification"]
        if number is not None:
            get_object_or_404(mine, pk=number)
        notes.mark_read(user, number)
        messages.success(
            request,
            _("The notification is marked as read.")
            if number is not None
            else _("All your notifications are marked as read."),
        )
        return redirect("backoffice:notifications")
    context = _page_context(request, mine.order_by("-created_at", "-pk"))
    context["unread"] = mine.filter(read_at__isnull=True).count()
    return render(request, "staff/backoffice/notifications.html", context)


# --- A petition's workspace ------------------------------------------------------------------


def _visible_petition(request: HttpRequest, pk: int) -> Petition:
    return get_object_or_404(
        selectors.visible_petitions(request.user).prefetch_related("topics"), pk=pk
    )


def _workspace_page(
    request: HttpRequest,
    petition: Petition,
    *,
    bound: forms.Form | None = None,
    status: int = 200,
) -> HttpResponse:
    """The petition, its figures, its routing, notes, responses and history.

    ``bound`` is a form that came back with errors (a note or a debate form).
    """
    user = request.user
    data = selectors.workspace(petition, user)
    page_forms: dict[str, forms.Form] = {"note": NoteForm()}
    debate = data.debate
    if debate is not None and has_role(user, debate.committee_id, PUBLISHER):
        page_forms["debate_date"] = DebateScheduleForm(initial={"on": debate.scheduled_for})
        page_forms["debate_outcome"] = DebateOutcomeForm(initial={"outcome": debate.outcome})
    if bound is not None:
        page_forms[(bound.prefix or "").replace("-", "_")] = bound
    can_reroute = routing.can_reroute(user, petition)
    context = {
        "petition": petition,
        "tag": state_tag(petition),
        "ws": data,
        "details_html": render_markdown(petition.details) if petition.details else "",
        "regions": figures.region_charts(petition),
        "over_time": figures.time_chart(petition),
        "drafting_department": (
            selectors.drafting_department(user, petition)
            if petition.response_state == Petition.ResponseState.AWAITING
            else None
        ),
        "reroute_tracks": (
            sorted({a.track for a in data.assignments if a.ended_at is None}) if can_reroute else []
        ),
        "forms": page_forms,
        "bound": bound,
        "user_department_ids": set(departments_of(user).values_list("pk", flat=True)),
    }
    return render(request, "staff/backoffice/workspace.html", context, status=status)


@staff_only
@require_safe
def workspace(request: HttpRequest, pk: int) -> HttpResponse:
    return _workspace_page(request, _visible_petition(request, pk))


@require_POST
@staff_only
def add_note(request: HttpRequest, pk: int) -> HttpResponse:
    petition = _visible_petition(request, pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _workspace_page(request, petition, bound=form, status=400)
    department = selectors.note_department(request.user, petition)
    if department is None:  # pragma: no cover - a visible petition has one of the user's
        raise Http404
    notes.add_note(
        petition, actor=request.user, department=department, body=form.cleaned_data["body"]
    )
    messages.success(request, _("Your note has been added."))
    return redirect(reverse("backoffice:workspace", args=[petition.pk]) + "#notes")


@staff_only
@require_http_methods(["GET", "HEAD", "POST"])
def reroute(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the current routing in a form. POST: re-route, with a reason."""
    petition = _visible_petition(request, pk)
    if not routing.can_reroute(request.user, petition):
        raise PermissionDenied(
            _(
                "Only the lead department's reviewers and publishers, or an administrator, "
                "can re-route a petition."
            )
        )
    track = request.POST.get("track") or request.GET.get("track") or Track.RESPONSE
    if track not in Track.values:
        return HttpResponseBadRequest(_("Unknown track."))
    initial = selectors.reroute_initial(petition, track)
    if initial is None:
        raise Http404
    if request.method != "POST":
        return _reroute_page(request, petition, RerouteForm(initial=initial))
    form = RerouteForm(request.POST)
    if not form.is_valid():
        return _reroute_page(request, petition, form, status=400)
    try:
        routing.reroute_petition(
            petition,
            actor=request.user,
            track=form.cleaned_data["track"],
            lead=form.cleaned_data["lead"],
            contributors=list(form.cleaned_data["contributors"]),
            reason=form.cleaned_data["reason"],
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _reroute_page(request, petition, form, status=error.status_code)
    messages.success(
        request,
        _("The petition is now routed to %(lead)s.") % {"lead": form.cleaned_data["lead"].name},
    )
    if selectors.visible_petitions(request.user).filter(pk=petition.pk).exists():
        return redirect("backoffice:workspace", pk=petition.pk)
    return redirect("backoffice:inbox")


def _reroute_page(
    request: HttpRequest, petition: Petition, form: RerouteForm, *, status: int = 200
) -> HttpResponse:
    context = {"petition": petition, "form": form, "track": Track(form["track"].value()).label}
    return render(request, "staff/backoffice/reroute.html", context, status=status)


@require_POST
@staff_only
def debate(request: HttpRequest, pk: int) -> HttpResponse:
    """``action=schedule`` records the debate date; ``action=outcome`` its outcome."""
    petition = _visible_petition(request, pk)
    action = request.POST.get("action")
    if action == "schedule":
        return _schedule_debate(request, petition)
    if action == "outcome":
        return _record_outcome(request, petition)
    return HttpResponseBadRequest(_("Choose to schedule the debate or to record its outcome."))


def _workspace_refused(
    request: HttpRequest, petition: Petition, error: DomainError
) -> HttpResponse:
    messages.error(request, error.message)
    petition.refresh_from_db()
    return _workspace_page(request, petition, status=error.status_code)


def _schedule_debate(request: HttpRequest, petition: Petition) -> HttpResponse:
    form = DebateScheduleForm(request.POST)
    if not form.is_valid():
        return _workspace_page(request, petition, bound=form, status=400)
    try:
        publication.schedule_debate(petition, actor=request.user, on=form.cleaned_data["on"])
    except DomainError as error:
        return _workspace_refused(request, petition, error)
    messages.success(
        request,
        _("The debate date is recorded. The signers who asked to hear back will be emailed."),
    )
    return redirect(reverse("backoffice:workspace", args=[petition.pk]) + "#debate")


def _record_outcome(request: HttpRequest, petition: Petition) -> HttpResponse:
    form = DebateOutcomeForm(request.POST)
    if not form.is_valid():
        return _workspace_page(request, petition, bound=form, status=400)
    try:
        publication.record_debate_outcome(
            petition, actor=request.user, outcome=form.cleaned_data["outcome"]
        )
    except DomainError as error:
        return _workspace_refused(request, petition, error)
    messages.success(
        request,
        _("The outcome is recorded. The signers who asked to hear back will be emailed."),
    )
    return redirect(reverse("backoffice:workspace", args=[petition.pk]) + "#debate")


# --- Drafting a response --------------------------------------------------------------------


def _preview(form: forms.Form) -> SafeString:
    return render_markdown(str(form.data.get(form.add_prefix("body"), "")))


def _editor_page(
    request: HttpRequest,
    petition: Petition,
    department: Department,
    form: ResponseForm,
    *,
    preview: SafeString | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "petition": petition,
        "department": department,
        "form": form,
        "preview": preview,
        "action": f"{reverse('backoffice:response_create')}?petition={petition.pk}",
    }
    return render(request, "staff/backoffice/response_create.html", context, status=status)


@staff_only
@require_http_methods(["GET", "HEAD", "POST"])
def response_create(request: HttpRequest) -> HttpResponse:
    """``?petition=ID``: a new draft answering it, and perhaps other petitions alike."""
    number = request.GET.get("petition", "")
    if not number.isdigit():
        return HttpResponseBadRequest(_("Choose the petition to answer from its workspace."))
    petition = _visible_petition(request, int(number))
    department = selectors.drafting_department(request.user, petition)
    if department is None:
        raise PermissionDenied(
            _("Only officers of the petition's lead department can draft its response.")
        )
    if petition.response_state != Petition.ResponseState.AWAITING:
        messages.error(request, _("This petition is not waiting for a response."))
        return _workspace_page(request, petition, status=409)
    candidates = selectors.answerable_petitions(department)
    if request.method != "POST":
        form = ResponseForm(petitions=candidates, initial={"petitions": [petition.pk]})
        return _editor_page(request, petition, department, form)
    form = ResponseForm(request.POST, petitions=candidates)
    if request.POST.get("action") == "preview":
        return _editor_page(request, petition, department, form, preview=_preview(form))
    if not form.is_valid():
        return _editor_page(request, petition, department, form, status=400)
    try:
        response = drafting.create_response(
            actor=request.user,
            department=department,
            petitions=list(form.cleaned_data["petitions"]),
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _editor_page(request, petition, department, form, status=error.status_code)
    messages.success(request, _("Your draft is saved as version 1."))
    return redirect("backoffice:response", pk=response.pk)


# --- A response's page and its decisions ----------------------------------------------------


def _visible_response(request: HttpRequest, pk: int) -> Response:
    return get_object_or_404(
        visible_responses(request.user).select_related(
            "department", "drafter", "reviewer", "publisher"
        ),
        pk=pk,
    )


def _editor(
    response: Response, data: Any = None, petitions: list[int] | None = None
) -> ResponseForm:
    answered = petitions if petitions is not None else []
    return ResponseForm(
        data,
        petitions=selectors.answerable_petitions(response.department, *answered),
        initial={"title": response.title, "body": response.body, "petitions": answered},
    )


def _decision_forms(
    response: Response, detail: selectors.ResponseDetail, roles: dict[str, bool]
) -> dict[str, forms.Form]:
    """The forms the response's state and the user's roles allow, blank."""
    state = response.state
    found: dict[str, forms.Form] = {}
    if state in Response.EDITABLE_STATES and roles["officer"]:
        found["edit"] = _editor(response, petitions=[p.pk for p in detail.petitions])
    if state == Response.State.IN_REVIEW and roles["reviewer"] and not roles["author"]:
        found["approve"] = ApproveForm()
        found["send_back"] = SendBackForm()
    if state in (Response.State.APPROVED, Response.State.SCHEDULED) and roles["publisher"]:
        found["schedule"] = PublishForm(
            initial={"action": PublishForm.SCHEDULE, "at": response.scheduled_for}
        )
    if state == Response.State.PUBLISHED and roles["publisher"]:
        found["correct"] = CorrectForm(initial={"title": response.title, "body": response.body})
    return found


def _response_page(
    request: HttpRequest,
    response: Response,
    *,
    bound: tuple[str, forms.Form] | None = None,
    preview: SafeString | None = None,
    status: int = 200,
) -> HttpResponse:
    """The response, its versions and reviews, and what the user may do with it now.

    ``bound`` is (name, form) for a form that came back with errors or for a preview.
    """
    user = request.user
    detail = selectors.response_detail(response)
    department = response.department_id
    roles = {
        "officer": has_role(user, department, OFFICER),
        "reviewer": has_role(user, department, REVIEWER),
        "publisher": has_role(user, department, PUBLISHER),
        "author": user.pk in drafting.authors(response),
    }
    page_forms = _decision_forms(response, detail, roles)
    if bound is not None and bound[0] in page_forms:
        page_forms[bound[0]] = bound[1]
    context = {
        "response": response,
        "detail": detail,
        "roles": roles,
        "forms": page_forms,
        "bound": bound[1] if bound else None,
        "preview": preview,
        "body_html": render_markdown(response.body),
        "compare_form": CompareForm(
            initial={
                "a": max(response.version - 1, 1),
                "b": response.version,
            },
            response=response,
        ),
        "visible_petitions": set(
            selectors.visible_petitions(user)
            .filter(pk__in=[p.pk for p in detail.petitions])
            .values_list("pk", flat=True)
        ),
    }
    return render(request, "staff/backoffice/response.html", context, status=status)


def _refused(request: HttpRequest, response: Response, error: DomainError) -> HttpResponse:
    """A service said no (a role missing, someone acted first): say so, show the page."""
    messages.error(request, error.message)
    response.refresh_from_db()
    return _response_page(request, response, status=error.status_code)


def _done(request: HttpRequest, response: Response, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("backoffice:response", pk=response.pk)


@staff_only
@require_safe
def response_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _response_page(request, _visible_response(request, pk))


@require_POST
@staff_only
def response_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Save a new version of a draft; ``action=preview`` shows the text rendered instead."""
    response = _visible_response(request, pk)
    answered = list(response.petitions.values_list("pk", flat=True))
    form = _editor(response, request.POST, answered)
    if request.POST.get("action") == "preview":
        return _response_page(request, response, bound=("edit", form), preview=_preview(form))
    if not form.is_valid():
        return _response_page(request, response, bound=("edit", form), status=400)
    before = response.version
    try:
        response = drafting.update_response(
            response,
            actor=request.user,
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
            petitions=list(form.cleaned_data["petitions"]),
        )
    except DomainError as error:
        return _refused(request, response, error)
    if response.version == before:
        return _done(request, response, _("Nothing had changed: no new version was saved."))
    return _done(
        request, response, _("Saved as version %(number)s.") % {"number": response.version}
    )


@require_POST
@staff_only
def response_submit(request: HttpRequest, pk: int) -> HttpResponse:
    response = _visible_response(request, pk)
    try:
        drafting.submit_response(response, actor=request.user)
    except DomainError as error:
        return _refused(request, response, error)
    return _done(
        request, response, _("The response is sent for review. The reviewers have been told.")
    )


@require_POST
@staff_only
def response_approve(request: HttpRequest, pk: int) -> HttpResponse:
    response = _visible_response(request, pk)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        return _response_page(request, response, bound=("approve", form), status=400)
    try:
        drafting.approve_response(
            response, actor=request.user, comment=form.cleaned_data["comment"]
        )
    except DomainError as error:
        return _refused(request, response, error)
    return _done(request, response, _("The response is approved. The publishers have been told."))


@require_POST
@staff_only
def response_send_back(request: HttpRequest, pk: int) -> HttpResponse:
    response = _visible_response(request, pk)
    form = SendBackForm(request.POST)
    if not form.is_valid():
        return _response_page(request, response, bound=("send_back", form), status=400)
    try:
        drafting.send_back_response(
            response, actor=request.user, comment=form.cleaned_data["comment"]
        )
    except DomainError as error:
        return _refused(request, response, error)
    return _done(
        request, response, _("The response is sent back to its drafter with your comment.")
    )


@require_POST
@staff_only
def response_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """``action=now`` publishes at once; ``action=schedule`` with ``at`` schedules it."""
    response = _visible_response(request, pk)
    form = PublishForm(request.POST)
    if not form.is_valid():
        return _response_page(request, response, bound=("schedule", form), status=400)
    at = form.cleaned_data["at"]
    try:
        publication.publish_response(response, actor=request.user, at=at)
    except DomainError as error:
        return _refused(request, response, error)
    if at is not None:
        return _done(
            request,
            response,
            _("The response will be published on %(when)s.")
            % {"when": date_format(timezone.localtime(at), "DATETIME_FORMAT")},
        )
    return _done(
        request,
        response,
        _("The response is published. The signers who asked to hear back are being emailed."),
    )


@require_POST
@staff_only
def response_correct(request: HttpRequest, pk: int) -> HttpResponse:
    response = _visible_response(request, pk)
    form = CorrectForm(request.POST)
    if not form.is_valid():
        return _response_page(request, response, bound=("correct", form), status=400)
    try:
        response = publication.correct_response(
            response,
            actor=request.user,
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
            note=form.cleaned_data["note"],
        )
    except DomainError as error:
        return _refused(request, response, error)
    return _done(
        request,
        response,
        _("The correction is published as version %(number)s.") % {"number": response.version},
    )


@staff_only
@require_safe
def response_compare(request: HttpRequest, pk: int) -> HttpResponse:
    """``?a=N&b=M``: what changed from version N to version M, word by word."""
    response = _visible_response(request, pk)
    form = CompareForm(request.GET, response=response)
    if not form.is_valid():
        context = {"response": response, "form": form, "diff": None}
        return render(request, "staff/backoffice/compare.html", context, status=400)
    diff = selectors.compare_versions(response, form.cleaned_data["a"], form.cleaned_data["b"])
    context = {"response": response, "form": form, "diff": diff}
    return render(request, "staff/backoffice/compare.html", context)


# --- Mailings ----------------------------------------------------------------------------


@staff_only
@require_safe
def mailing_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """Sent, remaining and failed; the page reloads itself every 5 seconds until done,
    when the reader asks for it (``?refresh=on``: WCAG 2.2.1, no unrequested page reloads)."""
    mailing = get_object_or_404(
        selectors.visible_mailings(request.user).select_related("petition", "response"), pk=pk
    )
    progress = selectors.mailing_progress(mailing)
    context = {
        "progress": progress,
        "auto_refresh": not progress.finished and request.GET.get("refresh") == "on",
    }
    return render(request, "staff/backoffice/mailing.html", context)
