"""The public side of responses: a response's page, stopping a petition's emails, the
transparency statistics, and each department's record.

Views fetch through ``responses.public_selectors`` and render; unsubscribing calls the
outbox service. Drafts are never public: only a published response has a page. Nothing
here shows personal data: departments are named, the staff who wrote a response are not.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from petitions.charts import Bar, bar_chart, format_number
from petitions.models import Petition
from responses import public_selectors as selectors
from responses.models import Department
from responses.services import outbox

STATS_MAX_AGE = 300  # seconds: the figures move slowly, and the page is read in bursts


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


# --- One response -------------------------------------------------------------------------


@require_safe
def response_detail(request: HttpRequest, pk: int) -> HttpResponse:
    published = selectors.published_response(pk)
    if published is None:
        raise Http404
    context = {
        "published": published,
        "response": published.response,
        "absolute_url": absolute(published.response.get_absolute_url()),
    }
    return render(request, "responses/detail.html", context)


# --- Unsubscribing ----------------------------------------------------------------------


def _bad_link(request: HttpRequest) -> HttpResponse:
    return render(request, "responses/unsubscribe_error.html", status=400)


def _shown(petition: Petition) -> bool:
    """The petition's title is shown only while the petition itself is public."""
    return petition.state in Petition.PUBLIC_STATES and not petition.text_is_hidden


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks; only POST stops the emails (mail scanners follow links, they do not post).

    Exempt from CSRF on purpose: a mail client's RFC 8058 one-click unsubscribe POSTs
    ``List-Unsubscribe=One-Click`` to this address with neither cookie nor token. The
    signed token is the authority, and the action is idempotent and harmless: it can only
    stop the emails about one petition to the signature the token names.
    """
    if request.method == "POST":
        signature = outbox.unsubscribe(token)
        if signature is None:
            return _bad_link(request)
        petition = signature.petition
        return render(
            request,
            "responses/unsubscribed.html",
            {"petition": petition, "show_petition": _shown(petition)},
        )
    target = selectors.unsubscribe_target(token)
    if target is None:
        return _bad_link(request)
    petition = target.petition
    context = {"petition": petition, "show_petition": _shown(petition), "token": token}
    return render(request, "responses/unsubscribe.html", context)


# --- Statistics ---------------------------------------------------------------------------


def _chart(
    tallies: list[selectors.Tally], chart_id: str, title: str, description: str
) -> SafeString:
    bars = [Bar(str(t.label), t.count, format_number(t.count)) for t in tallies if t.count]
    return bar_chart(bars, chart_id=chart_id, title=title, description=description)


def _stats_charts(stats: selectors.SiteStatistics) -> dict[str, SafeString]:
    overdue = [
        selectors.Tally(row.department.slug, row.department.name, row.count)
        for row in stats.overdue
    ]
    return {
        "by_state": _chart(
            stats.by_state,
            "chart-states",
            _("Petitions by state"),
            _("Bar chart of the number of petitions in each state. The table gives every figure."),
        ),
        "time_buckets": _chart(
            stats.time_buckets,
            "chart-times",
            _("Time taken to respond"),
            _(
                "Bar chart of the number of responded petitions by the time between reaching "
                "the threshold and the published response. The table gives every figure."
            ),
        ),
        "overdue": _chart(
            overdue,
            "chart-overdue",
            _("Overdue responses by department"),
            _(
                "Bar chart of the number of petitions each department has not answered by the "
                "due date. The table gives every figure."
            ),
        ),
    }


@require_safe
@cache_control(public=True, max_age=STATS_MAX_AGE)
def stats(request: HttpRequest) -> HttpResponse:
    statistics = selectors.site_statistics()
    context = {"stats": statistics, "charts": _stats_charts(statistics)}
    return render(request, "responses/stats.html", context)


# --- Departments --------------------------------------------------------------------------


@require_safe
def department_list(request: HttpRequest) -> HttpResponse:
    departments = list(selectors.active_departments())
    answering = [d for d in departments if d.kind != Department.Kind.COMMITTEE]
    committees = [d for d in departments if d.kind == Department.Kind.COMMITTEE]
    context = {"records": selectors.department_records(answering), "committees": committees}
    return render(request, "responses/departments.html", context)


@require_safe
def department_detail(request: HttpRequest, slug: str) -> HttpResponse:
    department = get_object_or_404(selectors.active_departments(), slug=slug)
    context = {"department": department, "page": selectors.department_page(department)}
    return render(request, "responses/department.html", context)
