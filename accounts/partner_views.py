"""The administrators' back-office for partner API keys: list, issue, rotate, revoke.

Each change is a POST calling one service in ``accounts.partners``. A new secret is shown
once, on the page answering the POST (never stored, never cached, never in a redirect).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from accounts import partners
from accounts.forms import PartnerKeyForm
from accounts.models import PartnerKey, PartnerUsage
from core.errors import DomainError
from petitions.views.moderation import ADMINISTER, staff_permission_required

USAGE_MONTHS = 12


def _show_secret(
    request: HttpRequest, issued: partners.IssuedKey, *, rotated: bool
) -> HttpResponse:
    response = render(
        request,
        "staff/partners/secret.html",
        {"key": issued.key, "secret": issued.secret, "rotated": rotated},
    )
    response["Cache-Control"] = "no-store"
    return response


@staff_permission_required(ADMINISTER)
@require_safe
def partner_list(request: HttpRequest) -> HttpResponse:
    keys = list(PartnerKey.objects.all())
    usage = partners.usage_this_month(keys)
    rows = [(key, usage.get(key.pk)) for key in keys]
    return render(request, "staff/partners/list.html", {"rows": rows})


@staff_permission_required(ADMINISTER)
@require_http_methods(["GET", "POST"])
def partner_issue(request: HttpRequest) -> HttpResponse:
    form = PartnerKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        issued = partners.issue_key(actor=request.user, **form.cleaned_data)
        return _show_secret(request, issued, rotated=False)
    status = 400 if form.errors else 200
    return render(request, "staff/partners/issue.html", {"form": form}, status=status)


@staff_permission_required(ADMINISTER)
@require_safe
def partner_detail(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(PartnerKey, pk=pk)
    usage = list(PartnerUsage.objects.filter(key=key).order_by("-month")[:USAGE_MONTHS])
    return render(
        request,
        "staff/partners/detail.html",
        {"key": key, "usage": usage, "linked": key.signatures.count()},
    )


@staff_permission_required(ADMINISTER)
@require_http_methods(["GET", "POST"])
def partner_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: confirm. POST: a new secret; the old key stops working at once."""
    key = get_object_or_404(PartnerKey, pk=pk)
    if request.method == "GET":
        return render(request, "staff/partners/confirm.html", {"key": key, "action": "rotate"})
    try:
        issued = partners.rotate_key(key, actor=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("staff:partner", pk=key.pk)
    return _show_secret(request, issued, rotated=True)


@staff_permission_required(ADMINISTER)
@require_http_methods(["GET", "POST"])
def partner_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: confirm. POST: revoke for good."""
    key = get_object_or_404(PartnerKey, pk=pk)
    if request.method == "GET":
        return render(request, "staff/partners/confirm.html", {"key": key, "action": "revoke"})
    try:
        partners.revoke_key(key, actor=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The key is revoked: requests with it are refused."))
    return redirect("staff:partner", pk=key.pk)
