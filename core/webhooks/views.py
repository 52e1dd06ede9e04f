"""The administrators' webhook pages under /staff/webhooks/.

Every page is for the administrator role only (anonymous people log in, other staff get a
403); every change is a POST with a CSRF token that calls one service. A secret is shown
once: the service's answer is kept in the session just long enough to be displayed by the
next page, which removes it.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.errors import DomainError
from core.webhooks import services
from core.webhooks.forms import EndpointForm
from core.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from petitions.views.moderation import staff_permission_required

ADMINISTER = "accounts.administer_site"
PAGE_SIZE = 25
REVEAL_KEY = "webhooks:new-secret"

administrators_only = staff_permission_required(ADMINISTER)


def _reveal_later(request: HttpRequest, endpoint: WebhookEndpoint, secret: str) -> None:
    request.session[REVEAL_KEY] = {"endpoint": endpoint.pk, "secret": secret}


def _take_secret(request: HttpRequest, endpoint: WebhookEndpoint) -> str | None:
    kept = request.session.get(REVEAL_KEY)
    if not kept or kept.get("endpoint") != endpoint.pk:
        return None
    del request.session[REVEAL_KEY]
    return str(kept["secret"])


@administrators_only
@require_safe
def endpoint_list(request: HttpRequest) -> HttpResponse:
    """Every endpoint with its deliveries counted by state, in one query."""
    endpoints = WebhookEndpoint.objects.annotate(
        delivered=Count("deliveries", filter=Q(deliveries__state=WebhookDelivery.State.DELIVERED)),
        waiting=Count(
            "deliveries",
            filter=Q(
                deliveries__state__in=[WebhookDelivery.State.PENDING, WebhookDelivery.State.SENDING]
            ),
        ),
        failed=Count("deliveries", filter=Q(deliveries__state=WebhookDelivery.State.FAILED)),
    )
    return render(request, "staff/webhooks/list.html", {"endpoints": endpoints})


@administrators_only
@require_http_methods(["GET", "POST"])
def endpoint_create(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST) if request.method == "POST" else EndpointForm()
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.register_endpoint(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error("url", error.message)
        else:
            _reveal_later(request, endpoint, endpoint.secret)
            messages.success(request, _("The endpoint is registered."))
            return redirect("webhooks:detail", pk=endpoint.pk)
    status = 400 if form.is_bound else 200
    return render(request, "staff/webhooks/form.html", {"form": form}, status=status)


@administrators_only
@require_http_methods(["GET", "POST"])
def endpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    form = (
        EndpointForm(request.POST)
        if request.method == "POST"
        else EndpointForm.for_endpoint(endpoint)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_endpoint(endpoint, actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error("url", error.message)
        else:
            messages.success(request, _("The endpoint is saved."))
            return redirect("webhooks:detail", pk=endpoint.pk)
    status = 400 if form.is_bound else 200
    context = {"form": form, "endpoint": endpoint}
    return render(request, "staff/webhooks/form.html", context, status=status)


def _deliveries(endpoint: WebhookEndpoint) -> Any:
    """The endpoint's deliveries with their last attempt's figures, in one query per page."""
    last = WebhookAttempt.objects.filter(delivery=OuterRef("pk")).order_by("-number")
    return endpoint.deliveries.annotate(
        last_duration_ms=Subquery(last.values("duration_ms")[:1]),
        last_excerpt=Subquery(last.values("response_excerpt")[:1]),
        last_error=Subquery(last.values("error")[:1]),
    ).order_by("-created_at", "-pk")


@administrators_only
@require_safe
@never_cache
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The endpoint, its secret the once it was just created or rotated, its delivery log."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    state = request.GET.get("state", "")
    deliveries = _deliveries(endpoint)
    if state in WebhookDelivery.State.values:
        deliveries = deliveries.filter(state=state)
    paginator = Paginator(deliveries, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "endpoint": endpoint,
        "secret": _take_secret(request, endpoint),
        "page": page,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "query": f"state={state}" if state else "",
        "state": state,
        "states": WebhookDelivery.State.choices,
    }
    return render(request, "staff/webhooks/detail.html", context)


@administrators_only
@require_POST
def endpoint_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    secret = services.rotate_secret(endpoint, actor=request.user)
    _reveal_later(request, endpoint, secret)
    messages.success(
        request, _("The secret is replaced. Deliveries are now signed with the new one.")
    )
    return redirect("webhooks:detail", pk=endpoint.pk)


@administrators_only
@require_POST
def endpoint_disable(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    try:
        services.disable_endpoint(endpoint, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("The endpoint is disabled. It receives nothing until enabled again.")
        )
    return redirect("webhooks:detail", pk=endpoint.pk)


@administrators_only
@require_safe
def delivery_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("endpoint"), uuid=uuid)
    context = {
        "delivery": delivery,
        "endpoint": delivery.endpoint,
        "attempts": delivery.attempts.order_by("-number"),
        "payload": json.dumps(delivery.payload, indent=2, ensure_ascii=False),
    }
    return render(request, "staff/webhooks/delivery.html", context)


@administrators_only
@require_POST
def delivery_resend(request: HttpRequest, uuid: str) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery, uuid=uuid)
    try:
        services.resend_delivery(delivery, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The delivery is being sent again."))
    return redirect("webhooks:delivery", uuid=delivery.uuid)
