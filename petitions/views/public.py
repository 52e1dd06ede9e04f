"""The public petition site: the list, a petition's page, signing, and the emailed links.

Views fetch on a scoped queryset, validate with a form, call one service and render;
domain errors become a page with their message and their status (409 for a petition
that cannot be signed, 429 for a rate limit). The answer to a signature is the same
page whatever happened, so nobody learns whether an address had signed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from core.errors import DomainError
from core.markdown import render_markdown
from core.memo import ProcessMemo
from core.ratelimits import client_ip
from core.views import gone
from petitions import figures, selectors
from petitions.forms.search import PetitionSearchForm
from petitions.forms.signing import OneClickSignatureForm, SignatureForm
from petitions.models import Petition, Signature
from petitions.ratelimits import signing_limited
from petitions.services.moderation import MODERATE
from petitions.services.signing import (
    NotSignable,
    Outcome,
    SignatureDetails,
    confirm_signature,
    ensure_signable,
    sign_as_user,
    sign_petition,
    withdraw_signature,
)
from responses.public_selectors import petition_response_section

UNPUBLISHED = (
    Petition.State.DRAFT,
    Petition.State.COLLECTING_SUPPORTERS,
    Petition.State.AWAITING_MODERATION,
)
# Petitions whose sign URL answers (the service then says why most of them refuse).
SIGN_STATES = (*Petition.PUBLIC_STATES, Petition.State.HIDDEN)
RATE_LIMITED = gettext_lazy(
    "Too many signatures came from your connection or your email provider in a short time. "
    "Please wait a few minutes and try again."
)


def _see_other(url: str) -> HttpResponseRedirect:
    """303: after a POST, the browser fetches the next page with GET."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


# --- The list ---------------------------------------------------------------------------


@require_safe
def petition_list(request: HttpRequest) -> HttpResponse:
    form = PetitionSearchForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    filters = form.to_filters()
    paginator = Paginator(selectors.public_petitions(filters), selectors.PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "query": query.urlencode(),
        "pause": selectors.running_pause(),
        "filtered": any([filters.q, filters.state, filters.topic, filters.region]),
    }
    return render(request, "petitions/list.html", context, status=200 if valid else 400)


# --- One petition -----------------------------------------------------------------------


@dataclass(frozen=True)
class ShareLink:
    name: str
    url: str


def share_links(petition: Petition, url: str) -> list[ShareLink]:
    """Plain links to each network's own share page: no third-party script on our pages."""
    text = f"{petition.title} {url}"
    mail_body = f"{petition.summary}\n\n{url}"
    return [
        # mailto: wants %20 for a space, not "+" (RFC 6068).
        ShareLink(_("Share by email"), "mailto:?" + urlencode(
            {"subject": petition.title, "body": mail_body}, quote_via=quote)),
        ShareLink(_("Share on X (Twitter)"), "https://x.com/intent/tweet?" + urlencode(
            {"text": petition.title, "url": url})),
        ShareLink(_("Share on Facebook"), "https://www.facebook.com/sharer/sharer.php?"
                  + urlencode({"u": url})),
        ShareLink(_("Share on WhatsApp"), "https://wa.me/?" + urlencode({"text": text})),
        ShareLink(_("Share on LinkedIn"), "https://www.linkedin.com/sharing/share-offsite/?"
                  + urlencode({"url": url})),
        ShareLink(_("Share on Bluesky"), "https://bsky.app/intent/compose?"
                  + urlencode({"text": text})),
    ]  # fmt: skip


def _is_moderator(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(MODERATE))


def _is_creator(user: Any, petition: Petition) -> bool:
    return bool(getattr(user, "is_authenticated", False) and petition.creator_id == user.pk)


def _progress(petition: Petition) -> dict[str, Any] | None:
    target = petition.next_threshold()
    if target is None:
        return None
    kind = "response" if target == petition.response_threshold else "consideration"
    return {"target": target, "kind": kind}


def _signing_form(
    request: HttpRequest, petition: Petition, form: SignatureForm | OneClickSignatureForm | None
) -> SignatureForm | OneClickSignatureForm:
    """The form to show: one click for a verified account, the full form otherwise."""
    if form is not None:
        return form
    language = get_language()
    user = request.user
    if selectors.can_sign_in_one_click(user):
        initial: dict[str, Any] = {}
        place = selectors.latest_signature_place(user)
        if place is not None:
            initial["country"], initial["postcode"] = place
        return OneClickSignatureForm(initial=initial, language=language)
    initial = {}
    if getattr(user, "is_authenticated", False):
        initial = {"name": getattr(user, "display_name", ""), "email": getattr(user, "email", "")}
    return SignatureForm(initial=initial, language=language)


@require_safe
def petition_detail(request: HttpRequest, pk: int) -> HttpResponse:
    petition = get_object_or_404(Petition.objects.prefetch_related("topics"), pk=pk)
    if petition.state == Petition.State.REMOVED:
        return gone(request)
    if petition.state in UNPUBLISHED:
        return _unpublished(request, petition)
    if petition.state == Petition.State.HIDDEN:
        return render(request, "petitions/hidden.html", {"petition": petition})
    url = absolute(petition.get_absolute_url())
    context: dict[str, Any] = {
        "petition": petition,
        "absolute_url": url,
        "pause": selectors.running_pause(),
        "history": selectors.public_history(petition),
        "count_url": reverse("petitions:count", args=[petition.pk]),
    }
    if not petition.text_is_hidden:
        context |= {
            "details_html": render_markdown(petition.details) if petition.details else "",
            "progress": _progress(petition),
            "regions": figures.region_charts(petition),
            "over_time": figures.time_chart(petition),
            "share_links": share_links(petition, url),
            "form": _signing_form(request, petition, None) if petition.is_signable else None,
            "response_section": petition_response_section(petition),
        }
    return render(request, "petitions/detail.html", context)


def _unpublished(request: HttpRequest, petition: Petition) -> HttpResponse:
    """Only the creator and the moderators see a petition before it is published."""
    creator = _is_creator(request.user, petition)
    if not (creator or _is_moderator(request.user)):
        raise Http404
    context = {
        "petition": petition,
        "details_html": render_markdown(petition.details) if petition.details else "",
        "is_creator": creator,
        "supporter_url": absolute(reverse("petitions:support", args=[petition.supporter_token])),
        "supporters": selectors.confirmed_supporters(petition),
    }
    return render(request, "petitions/unpublished.html", context)


# --- Signing ----------------------------------------------------------------------------


def _sign_page(
    request: HttpRequest,
    petition: Petition,
    form: SignatureForm | OneClickSignatureForm | None,
    *,
    status: int,
    message: str | Promise = "",
    supporting: bool = False,
) -> HttpResponse:
    """The signing form alone, again, with its errors or the reason it was refused."""
    context = {
        "petition": petition,
        "form": form,
        "message": message,
        "supporting": supporting,
        "action": (
            reverse("petitions:support", args=[petition.supporter_token])
            if supporting
            else reverse("petitions:sign", args=[petition.pk])
        ),
        "pause": selectors.running_pause(),
        "public": petition.state in Petition.PUBLIC_STATES and not petition.text_is_hidden,
    }
    return render(request, "petitions/sign.html", context, status=status)


def _details(request: HttpRequest, data: dict[str, Any]) -> SignatureDetails:
    return SignatureDetails(
        name=data["name"],
        email=data["email"],
        country=data["country"],
        postcode=data["postcode"],
        language=get_language() or settings.LANGUAGE_CODE,
        wants_updates=data["wants_updates"],
        listed_publicly=data["listed_publicly"],
        source=Signature.Source.WEB,
        ip_address=client_ip(request),
    )


def _sign_with_form(request: HttpRequest, petition: Petition, *, supporting: bool) -> HttpResponse:
    """Validate, limit, sign, and answer with the same page whatever the outcome."""
    form = SignatureForm(request.POST, language=get_language())
    try:
        ensure_signable(petition, as_supporter=supporting)
    except NotSignable as error:
        return _sign_page(
            request, petition, None, status=error.status_code, message=error.message,
            supporting=supporting,
        )  # fmt: skip
    if not form.is_valid():
        return _sign_page(request, petition, form, status=400, supporting=supporting)
    if signing_limited(request, form.cleaned_data["email"]):
        return _sign_page(
            request, petition, form, status=429, message=RATE_LIMITED, supporting=supporting
        )
    try:
        sign_petition(
            petition,
            _details(request, form.cleaned_data),
            actor=request.user,
            as_supporter=supporting,
        )
    except NotSignable as error:
        return _sign_page(
            request, petition, None, status=error.status_code, message=error.message,
            supporting=supporting,
        )  # fmt: skip
    return _see_other(_signed_path(petition.pk))


def _signed_path(pk: int) -> str:
    """reverse("petitions:signed"), computed once per petition: every signature of a surge
    is answered with the same address."""
    return _SIGNED_PATHS.get(
        (get_script_prefix(), get_urlconf(), pk),
        lambda: reverse("petitions:signed", args=[pk]),
    )


_SIGNED_PATHS: ProcessMemo[str] = ProcessMemo(seconds=3600.0, max_entries=256)


def _sign_in_one_click(request: HttpRequest, petition: Petition) -> HttpResponse:
    form = OneClickSignatureForm(request.POST, language=get_language())
    if not form.is_valid():
        return _sign_page(request, petition, form, status=400)
    user: Any = request.user
    if signing_limited(request, user.email):
        return _sign_page(request, petition, form, status=429, message=RATE_LIMITED)
    data = form.cleaned_data
    try:
        outcome = sign_as_user(
            petition,
            user,
            country=data["country"],
            postcode=data["postcode"],
            wants_updates=data["wants_updates"],
            listed_publicly=data["listed_publicly"],
            ip_address=client_ip(request),
        )
    except NotSignable as error:
        return _sign_page(request, petition, None, status=error.status_code, message=error.message)
    if outcome is Outcome.SIGNED:
        messages.success(
            request,
            _(
                "Thank you: your signature has been counted "
                "(the count updates within a few seconds)."
            ),
        )
    else:
        messages.info(request, _("You have already signed this petition."))
    return _see_other(petition.get_absolute_url())


def _signing_target(pk: int) -> Petition:
    """The petition a submission signs, as this process read it less than a second ago.

    During a surge every submission names the same petition: reading it once a second per
    process spares a query per signature. A petition hidden or closed by a moderator
    refuses signatures everywhere within that second; the deadline itself is checked
    against the clock at each submission.
    """
    petition = _SIGNING_TARGETS.get(
        pk, lambda: Petition.objects.filter(state__in=SIGN_STATES, pk=pk).first()
    )
    if petition is None:
        raise Http404
    return petition


_SIGNING_TARGETS: ProcessMemo[Petition | None] = ProcessMemo(seconds=1.0, max_entries=256)


@require_POST
def sign(request: HttpRequest, pk: int) -> HttpResponse:
    petition = _signing_target(pk)
    if request.POST.get("one_click") and selectors.can_sign_in_one_click(request.user):
        return _sign_in_one_click(request, petition)
    return _sign_with_form(request, petition, supporting=False)


@require_safe
def signed(request: HttpRequest, pk: int) -> HttpResponse:
    petition = get_object_or_404(Petition.objects.exclude(state=Petition.State.REMOVED), pk=pk)
    # Reached by any id: the title is shown only when the petition is public.
    public = petition.state in Petition.PUBLIC_STATES and not petition.text_is_hidden
    return render(request, "petitions/signed.html", {"petition": petition if public else None})


@require_safe
def count_json(request: HttpRequest, pk: int) -> HttpResponse:
    """The live count, cacheable for one counting interval by browsers and proxies."""
    payload = selectors.count_payload(pk)
    if payload is None:
        response = JsonResponse({"error": "not_found"}, status=404)
    else:
        counted_at = payload["counted_at"]
        payload["counted_at"] = counted_at.isoformat() if counted_at else None
        response = JsonResponse(payload)
        seconds = math.ceil(settings.AGORA_COUNT_INTERVAL_SECONDS)
        response["Cache-Control"] = f"public, max-age={seconds}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def support(request: HttpRequest, token: str) -> HttpResponse:
    """The creator's private link: early supporters sign before moderation."""
    petition = get_object_or_404(Petition.objects.prefetch_related("topics"), supporter_token=token)
    if petition.state == Petition.State.REMOVED:
        return gone(request)
    if request.method == "POST":
        return _sign_with_form(request, petition, supporting=True)
    try:
        ensure_signable(petition, as_supporter=True)
    except NotSignable as error:
        public = petition.state in Petition.PUBLIC_STATES and not petition.text_is_hidden
        return render(
            request,
            "petitions/support_closed.html",
            {"petition": petition, "message": error.message, "public": public},
        )
    context: dict[str, Any] = {
        "petition": petition,
        "details_html": render_markdown(petition.details) if petition.details else "",
        "form": SignatureForm(language=get_language()),
    }
    return render(request, "petitions/support.html", context)


# --- The emailed links ----------------------------------------------------------------


def _link_error(request: HttpRequest, token: str, error: DomainError) -> HttpResponse:
    """A friendly page: 400 for a link that matches nothing, the error's status otherwise."""
    known = Signature.objects.filter(token=token).exists()
    return render(
        request,
        "petitions/link_error.html",
        {"message": error.message},
        status=error.status_code if known else 400,
    )


@require_GET
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Confirm by the emailed link (idempotent: a second visit shows the same page)."""
    try:
        signature = confirm_signature(token)
    except DomainError as error:
        return _link_error(request, token, error)
    petition = signature.petition
    context: dict[str, Any] = {"petition": petition, "supporter": signature.is_supporter}
    if petition.state in Petition.PUBLIC_STATES:
        url = absolute(petition.get_absolute_url())
        context |= {"absolute_url": url, "share_links": share_links(petition, url)}
    return render(request, "petitions/confirmed.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def withdraw(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks; only POST withdraws (mail scanners follow links, they do not submit forms)."""
    if request.method == "POST":
        try:
            signature = withdraw_signature(token)
        except DomainError as error:
            return _link_error(request, token, error)
        return render(request, "petitions/withdrawn.html", {"petition": signature.petition})
    signature_or_none = Signature.objects.select_related("petition").filter(token=token).first()
    if signature_or_none is None:
        return render(
            request,
            "petitions/link_error.html",
            {"message": _("This link is not valid. Please check that it is complete.")},
            status=400,
        )
    return render(
        request,
        "petitions/withdraw.html",
        {
            "petition": signature_or_none.petition,
            "already": signature_or_none.state == Signature.State.WITHDRAWN,
            "token": token,
        },
    )
