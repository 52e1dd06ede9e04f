"""We the People API v1, served at /api/wtp/v1/ so that its clients work unchanged.

Thin views: parse the WTP parameters, read through public querysets, shape the rows as
WTP did, and wrap everything (errors too) in the WTP envelope. Signatures go through the
website's own signing service and limits. See docs/wtp.md for the contract.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import F, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from accounts import partners
from accounts.models import PartnerKey, PartnerSignature
from core.errors import RateLimited
from core.ratelimits import client_ip
from petitions.api.wtp import params, serialisers
from petitions.api.wtp.envelope import (
    BAD_RESPONSE_ID,
    BAD_SIGNATURE,
    BLOCKED_DOMAIN,
    INVALID_KEY,
    NEEDS_ID,
    NO_SUCH_PETITION,
    NOT_FOUND,
    NOT_SIGNABLE,
    WtpError,
    envelope,
    error_response,
)
from petitions.identity import email_domain, normalise_email
from petitions.models import Petition, Signature
from petitions.ratelimits import signing_limited
from petitions.services.signing import NotSignable, SignatureDetails, ensure_signable, sign_petition
from responses.models import Response

READ_CACHE = {"public": True, "max_age": 60}
SIGNING_RETRY_AFTER = 60  # seconds; the site's per-address windows are minutes long
NAME_MAX = 100
POSTCODE_MAX = 12

View = Callable[..., HttpResponse]


def wtp_view(
    resource: str, *, methods: tuple[str, ...] = ("GET", "HEAD")
) -> Callable[[View], View]:
    """Check the method, and turn every WtpError into the enveloped error answer."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = error_response(
                    request, resource, WtpError(405, f"Use {' or '.join(methods)} here.")
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except WtpError as error:
                return error_response(request, resource, error)

        return wrapped

    return decorator


def _rate_limited(error: RateLimited) -> WtpError:
    return WtpError(429, str(error.message), retry_after=error.retry_after)


# --- Keys ---------------------------------------------------------------------------------


def _key(query: QueryDict, *, required: bool, sign: bool = False) -> PartnerKey | None:
    """The partner key in ``api_key``, counted and rate limited; 85 when it does not fit.

    Public reads need no key; a key given with one is counted when valid and otherwise
    ignored, so clients that always send their old WTP key keep working.
    """
    raw = query.get("api_key", "").strip()
    try:
        key = partners.authenticate_key(raw)
    except partners.InvalidKey:
        if not required:
            return None
        raise WtpError(
            403, "The api_key is missing, unknown or revoked.", code=INVALID_KEY
        ) from None
    if sign and not key.can_sign:
        raise WtpError(403, "This api_key may read but not submit signatures.", code=INVALID_KEY)
    try:
        partners.check_rate(key)
        if not sign:
            partners.record_usage(key, write=False)
    except RateLimited as error:
        raise _rate_limited(error) from None
    return key


# --- Petitions ----------------------------------------------------------------------------


def _petitions() -> QuerySet[Petition]:
    """Every petition the WTP layer may show: listed ones, and rejected ones with their text."""
    published = Response.objects.filter(state=Response.State.PUBLISHED).order_by(
        "published_at", "pk"
    )
    return (
        Petition.objects.filter(state__in=Petition.PUBLIC_STATES)
        .exclude(state=Petition.State.REJECTED, rejection_reason__in=Petition.HIDE_TEXT_REASONS)
        .prefetch_related(
            "topics", Prefetch("responses", queryset=published, to_attr="published_responses")
        )
    )


def _status_query(status: str) -> Q:
    responded = Petition.ResponseState.RESPONDED
    awaiting = Petition.ResponseState.AWAITING
    none = Petition.ResponseState.NONE
    return {
        serialisers.OPEN: Q(state=Petition.State.OPEN, response_state=none),
        serialisers.PENDING_RESPONSE: Q(response_state=awaiting),
        serialisers.RESPONDED: Q(response_state=responded),
        serialisers.CLOSED: ~Q(state=Petition.State.OPEN) & Q(response_state=none),
    }[status]


def _range(
    queryset: QuerySet[Petition], query: QueryDict, name: str, field: str
) -> QuerySet[Petition]:
    ceiling = params.integer(query, f"{name}Ceiling")
    floor = params.integer(query, f"{name}Floor")
    if ceiling is not None:
        queryset = queryset.filter(**{f"{field}__lte": ceiling})
    if floor is not None:
        queryset = queryset.filter(**{f"{field}__gte": floor})
    return queryset


def _filter_petitions(query: QueryDict) -> QuerySet[Petition]:  # noqa: C901 - one branch a parameter
    queryset = _petitions()
    if params.boolean(query, "isPublic") is False:
        raise WtpError(
            400, "Petitions that are not public can only be read by their id.", code=NEEDS_ID
        )
    queryset = queryset.filter(state__in=serialisers.LISTED_STATES)
    if title := query.get("title", "").strip():
        queryset = queryset.filter(title__icontains=title)
    if body := query.get("body", "").strip():
        queryset = queryset.filter(Q(summary__icontains=body) | Q(details__icontains=body))
    signable = params.boolean(query, "isSignable")
    signable_query = Q(state=Petition.State.OPEN, deadline__gt=timezone.now())
    if signable is True:
        queryset = queryset.filter(signable_query)
    elif signable is False:
        queryset = queryset.exclude(signable_query)
    queryset = _range(queryset, query, "signatureThreshold", "response_threshold")
    queryset = _range(queryset, query, "signatureCount", "signature_count")
    if status := params.choice(query, "status", serialisers.STATUSES):
        queryset = queryset.filter(_status_query(status))
    if url := query.get("url", "").strip():
        queryset = queryset.filter(pk=params.petition_id_from_url(url))
    if "responseID" in query:
        try:
            response_id = int(query.get("responseID", ""))
        except ValueError:
            response_id = 0
        if response_id < 1:
            raise WtpError(
                400, "The responseID parameter is not a response id.", code=BAD_RESPONSE_ID
            )
        queryset = queryset.filter(
            responses__pk=response_id, responses__state=Response.State.PUBLISHED
        )
    if (before := params.timestamp(query, "createdBefore")) is not None:
        queryset = queryset.filter(created_at__lt=before)
    if (after := params.timestamp(query, "createdAfter")) is not None:
        queryset = queryset.filter(created_at__gt=after)
    return _sort(queryset, query)


def _sort(queryset: QuerySet[Petition], query: QueryDict) -> QuerySet[Petition]:
    sort_by = params.choice(query, "sortBy", ("signature_count", "date_reached_public"))
    descending = params.choice(query, "sortOrder", ("asc", "desc")) != "asc"
    if sort_by is None:
        # Newest first; the id breaks ties so pages never repeat or skip a petition.
        return queryset.order_by("-created_at", "-pk")
    field = F("signature_count" if sort_by == "signature_count" else "opened_at")
    order = field.desc(nulls_last=True) if descending else field.asc(nulls_first=True)
    return queryset.order_by(order, "-pk" if descending else "pk")


def _petition_or_404(raw_id: str) -> Petition:
    petition = _petitions().filter(pk=int(raw_id)).first() if raw_id.isdigit() else None
    if petition is None:
        raise WtpError(404, "No petition has this id.", code=NOT_FOUND)
    return petition


def _cached(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, **READ_CACHE)
    return response


@wtp_view("petitions")
def petitions(request: HttpRequest) -> HttpResponse:
    _key(request.GET, required=False)
    page = params.page(request.GET)
    queryset = _filter_petitions(request.GET)
    count = queryset.count()
    rows = [serialisers.petition(item) for item in page.slice(queryset)]
    return _cached(
        envelope(request, "petitions", rows, count=count, limit=page.limit, offset=page.offset)
    )


@wtp_view("petitions")
def petition(request: HttpRequest, petition_id: str) -> HttpResponse:
    _key(request.GET, required=False)
    item = _petition_or_404(petition_id)
    return _cached(
        envelope(request, "petitions", [serialisers.petition(item)], count=1, limit=1, offset=0)
    )


@wtp_view("signatures")
def petition_signatures(request: HttpRequest, petition_id: str) -> HttpResponse:
    """Confirmed signatures of signers who chose to be listed, newest first."""
    _key(request.GET, required=False)
    page = params.page(request.GET)
    item = _petition_or_404(petition_id)
    queryset = (
        Signature.objects.filter(
            petition=item, state=Signature.State.CONFIRMED, listed_publicly=True
        )
        .select_related("region")
        .only("id", "petition_id", "name", "created_at", "region__name")
        .order_by("-created_at", "-pk")
    )
    count = queryset.count()
    rows = [serialisers.signature(signature) for signature in page.slice(queryset)]
    return _cached(
        envelope(request, "signatures", rows, count=count, limit=page.limit, offset=page.offset)
    )


# --- Responses ----------------------------------------------------------------------------


def _responses() -> QuerySet[Response]:
    listed = (
        _petitions()
        .filter(state__in=serialisers.LISTED_STATES)
        .prefetch_related("topics")
        .order_by("pk")
    )
    return (
        Response.objects.filter(state=Response.State.PUBLISHED)
        .select_related("department")
        .prefetch_related(Prefetch("petitions", queryset=listed, to_attr="public_petitions"))
        .order_by("-published_at", "-pk")
    )


@wtp_view("responses")
def responses(request: HttpRequest) -> HttpResponse:
    _key(request.GET, required=False)
    page = params.page(request.GET)
    queryset = _responses()
    count = queryset.count()
    rows = [serialisers.response(item) for item in page.slice(queryset)]
    return _cached(
        envelope(request, "responses", rows, count=count, limit=page.limit, offset=page.offset)
    )


@wtp_view("responses")
def response(request: HttpRequest, response_id: str) -> HttpResponse:
    _key(request.GET, required=False)
    item = _responses().filter(pk=int(response_id)).first() if response_id.isdigit() else None
    if item is None:
        raise WtpError(404, "No published response has this id.", code=NOT_FOUND)
    return _cached(
        envelope(request, "responses", [serialisers.response(item)], count=1, limit=1, offset=0)
    )


# --- Signing ------------------------------------------------------------------------------


def _body(request: HttpRequest) -> dict[str, Any]:
    """The JSON object WTP clients send; a form-encoded body is accepted too."""
    if request.content_type == "application/x-www-form-urlencoded":
        return request.POST.dict()
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise WtpError(400, "The body is not valid JSON.", code=BAD_SIGNATURE) from None
    if not isinstance(data, dict):
        raise WtpError(400, "The body must be a JSON object.", code=BAD_SIGNATURE)
    return data


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str | int):
        raise WtpError(400, f"The field {name} must be a string.", code=BAD_SIGNATURE)
    return str(value).strip()


def _wants_updates(data: dict[str, Any]) -> bool:
    value = data.get("signup", False)
    if isinstance(value, str):
        return value.strip().lower() in params.TRUE
    return bool(value)


def _domain_blocked(email: str) -> bool:
    domain = email_domain(email)
    blocked: list[str] = settings.AGORA_SIGNING_BLOCKED_DOMAINS
    return any(domain == item or domain.endswith(f".{item}") for item in blocked)


def _signature_details(request: HttpRequest, key: PartnerKey) -> tuple[int, SignatureDetails]:
    """The petition id and the details to sign with; 75 for a missing field or a bad email."""
    data = _body(request)
    values = {
        name: _text(data, name)
        for name in ("petition_id", "email", "first_name", "last_name", "zip")
    }
    missing = [
        name for name in ("petition_id", "email", "first_name", "last_name") if not values[name]
    ]
    if missing:
        raise WtpError(
            400, "Missing required fields: " + ", ".join(missing) + ".", code=BAD_SIGNATURE
        )
    try:
        validate_email(values["email"])
    except ValidationError:
        raise WtpError(400, "The email is not a valid address.", code=BAD_SIGNATURE) from None
    name = f"{values['first_name']} {values['last_name']}"
    if len(name) > NAME_MAX or len(values["zip"]) > POSTCODE_MAX:
        raise WtpError(400, "The name or the zip is too long.", code=BAD_SIGNATURE)
    if _domain_blocked(values["email"]):
        raise WtpError(
            403, "Signatures from this email domain are not accepted.", code=BLOCKED_DOMAIN
        )
    petition_id = int(values["petition_id"]) if values["petition_id"].isdigit() else 0
    details = SignatureDetails(
        name=name,
        email=values["email"],
        country=key.country,
        postcode=values["zip"],
        language=get_language() or settings.LANGUAGE_CODE,
        wants_updates=_wants_updates(data),
        listed_publicly=False,  # a partner's form never asked the signer to be listed
        source=Signature.Source.API,
        ip_address=client_ip(request),
    )
    return petition_id, details


def _signable_petition(petition_id: int) -> Petition:
    petition = Petition.objects.filter(pk=petition_id, state__in=serialisers.LISTED_STATES).first()
    if petition is None:
        raise WtpError(404, "No petition has this petition_id.", code=NO_SUCH_PETITION)
    try:
        ensure_signable(petition)
    except NotSignable as error:
        raise WtpError(409, str(error.message), code=NOT_SIGNABLE) from None
    return petition


def _link_to_key(key: PartnerKey, petition: Petition, email: str) -> None:
    """Remember the key that created the signature, for its validations.json.

    Only a signature this API created is linked: one made on the website (or by another
    key) stays out of this key's validations, so a key cannot learn who else signed.
    """
    signature_id = (
        Signature.objects.filter(
            petition=petition,
            email_normalised=normalise_email(email),
            source=Signature.Source.API,
            partner_link__isnull=True,
        )
        .values_list("pk", flat=True)
        .first()
    )
    if signature_id is not None:
        partners.link_signature(key, signature_id)


@csrf_exempt  # a key in the address authenticates; no cookie is read
@wtp_view("signatures", methods=("POST",))
def sign(request: HttpRequest) -> HttpResponse:
    """Accept a signature; 200 means an email asks the signer to confirm.

    The answer is the same whether or not the address had signed (the website's rule), so
    a partner cannot probe who signed.
    """
    key = _key(request.GET, required=True, sign=True)
    assert key is not None  # noqa: S101 - required=True raises instead
    petition_id, details = _signature_details(request, key)
    petition = _signable_petition(petition_id)
    if signing_limited(request, details.email):
        raise WtpError(
            429,
            "Too many signatures from this address or email domain.",
            retry_after=SIGNING_RETRY_AFTER,
        )
    try:
        # Last, so the month's quota counts only the signatures handed to the service.
        partners.record_usage(key, write=True)
    except RateLimited as error:
        raise _rate_limited(error) from None
    try:
        sign_petition(petition, details)
    except NotSignable as error:
        raise WtpError(409, str(error.message), code=NOT_SIGNABLE) from None
    _link_to_key(key, petition, details.email)
    response = envelope(
        request,
        "signatures",
        [],
        count=0,
        limit=0,
        offset=0,
        user_message=_("Thank you. Please check your email to confirm your signature."),
    )
    response["Cache-Control"] = "no-store"
    return response


@wtp_view("validations")
def validations(request: HttpRequest) -> HttpResponse:
    """The signatures this key submitted whose signers confirmed them by email."""
    key = _key(request.GET, required=True)
    petition_id = params.integer(request.GET, "petition_id")
    page = params.page(request.GET)
    queryset = (
        PartnerSignature.objects.filter(key=key, signature__state=Signature.State.CONFIRMED)
        .select_related("signature")
        .only("pk", "signature__id", "signature__email", "signature__petition_id")
        .order_by("-pk")
    )
    if petition_id is not None:
        queryset = queryset.filter(signature__petition_id=petition_id)
    count = queryset.count()
    rows = [
        {
            "vid": str(link.pk),
            "email": link.signature.email,
            "signature_id": str(link.signature.pk),
            "petition_id": str(link.signature.petition_id),
        }
        for link in page.slice(queryset)
    ]
    response = envelope(
        request, "validations", rows, count=count, limit=page.limit, offset=page.offset
    )
    response["Cache-Control"] = "private, no-store"
    return response


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other address under the API: the enveloped 84, not the site's HTML page."""
    return error_response(request, rest, WtpError(404, "No such resource.", code=NOT_FOUND))
