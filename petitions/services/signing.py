"""Signing, confirming and withdrawing signatures.

Signing is the surge path: it inserts or touches one signature row and enqueues one email;
it never updates the petition row (the counting task does that in batches). The answer is
the same whether or not the address had signed, so nobody can probe who signed.

Signatures are not audit events: the row's own ``created_at``, ``confirmed_at`` and
``withdrawn_at`` are their history, and an audit row per signature would double the
writes of a national surge.
"""

from __future__ import annotations

import enum
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError, InvalidTransition
from petitions.identity import normalise_email
from petitions.models import Petition, Signature, SigningPause
from petitions.places import region_id_for
from petitions.services import signature_mail


class NotSignable(DomainError):
    code = "not_signable"
    status_code = 409
    default_message = _("This petition cannot be signed.")


class Outcome(enum.Enum):
    """What happened; the public answer is the same for the first four."""

    CONFIRMATION_SENT = "confirmation_sent"
    ALREADY_SIGNED_NOTICE_SENT = "already_signed_notice_sent"
    EMAIL_LIMIT_REACHED = "email_limit_reached"
    IGNORED = "ignored"  # an invalidated signature: we say nothing more
    SIGNED = "signed"  # a signed-in person with a verified address: confirmed at once


@dataclass(frozen=True)
class SignatureDetails:
    name: str
    email: str
    country: str
    postcode: str
    language: str
    wants_updates: bool = False
    listed_publicly: bool = False
    source: str = Signature.Source.WEB
    ip_address: str | None = None


def ensure_signable(petition: Petition, *, as_supporter: bool = False) -> None:
    """Raise NotSignable with a message a citizen understands."""
    if SigningPause.in_force() is not None:
        raise NotSignable(_("Signing is paused for the moment. Please come back later."))
    if as_supporter:
        if petition.state not in (
            Petition.State.COLLECTING_SUPPORTERS,
            Petition.State.AWAITING_MODERATION,
        ):
            raise NotSignable(_("This petition is no longer collecting supporters."))
        return
    if petition.state == Petition.State.OPEN and petition.is_signable:
        return
    if petition.state in (Petition.State.OPEN, Petition.State.CLOSED):
        raise NotSignable(_("This petition is closed: it can no longer be signed."))
    if petition.state == Petition.State.REJECTED:
        raise NotSignable(_("This petition was rejected: it cannot be signed."))
    raise NotSignable(_("This petition cannot be signed."))


def sign_petition(
    petition: Petition, details: SignatureDetails, *, actor: Any = None, as_supporter: bool = False
) -> Outcome:
    """Record a pending signature and email a confirmation link (after commit).

    Idempotent per normalised address: signing again re-sends the confirmation while the
    signature is pending, or tells the address it has already signed; at most
    AGORA_MAX_CONFIRMATION_EMAILS emails per address and petition. The uniqueness
    constraint settles two requests racing with the same address.
    """
    ensure_signable(petition, as_supporter=as_supporter)
    normalised = normalise_email(details.email)
    try:
        # Insert first: the unique constraint finds repeats. Outside a transaction this is
        # one round trip; inside one (a caller's), a savepoint keeps it usable.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            _create(petition, details, normalised, as_supporter, actor)
    except IntegrityError:
        existing = Signature.objects.get(petition=petition, email_normalised=normalised)
        return _signed_again(existing, details)
    signature_mail.request_delivery()
    return Outcome.CONFIRMATION_SENT


def sign_as_user(
    petition: Petition,
    user: Any,
    *,
    country: str,
    postcode: str,
    wants_updates: bool,
    listed_publicly: bool,
    ip_address: str | None = None,
) -> Outcome:
    """One-click signing for a signed-in person whose address is verified: confirmed at once."""
    from allauth.account.models import EmailAddress

    ensure_signable(petition)
    if not EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists():
        raise NotSignable(_("Please verify your email address before signing in one click."))
    details = SignatureDetails(
        name=user.display_name,
        email=user.email,
        country=country,
        postcode=postcode,
        language=user.preferred_language,
        wants_updates=wants_updates,
        listed_publicly=listed_publicly,
        ip_address=ip_address,
    )
    normalised = normalise_email(user.email)
    existing = Signature.objects.filter(petition=petition, email_normalised=normalised).first()
    if existing is not None and existing.state == Signature.State.PENDING:
        # Signed before without confirming: the verified account confirms it now.
        confirm_signature(existing.token)
        return Outcome.SIGNED
    if existing is not None:
        return _signed_again(existing, details)
    try:
        with transaction.atomic():
            _create(
                petition,
                details,
                normalised,
                False,
                user,
                state=Signature.State.CONFIRMED,
                confirmed_at=timezone.now(),
            )
    except IntegrityError:  # a concurrent click: the first one signed
        return _signed_again(
            Signature.objects.get(petition=petition, email_normalised=normalised), details
        )
    return Outcome.SIGNED


def _create(
    petition: Petition,
    details: SignatureDetails,
    normalised: str,
    as_supporter: bool,
    user: Any,
    **extra: Any,
) -> Signature:
    signature = Signature(
        petition=petition,
        name=" ".join(details.name.split()),
        email=details.email.strip(),
        email_normalised=normalised,
        country=details.country,
        postcode=details.postcode.strip().upper(),
        region_id=region_id_for(details.country, details.postcode),
        language=details.language,
        wants_updates=details.wants_updates,
        listed_publicly=details.listed_publicly,
        source=details.source,
        ip_address=details.ip_address,
        is_supporter=as_supporter,
        user=user if getattr(user, "is_authenticated", False) else None,
        confirmation_emails_sent=1,
        email_due=Signature.EmailDue.CONFIRMATION,
        **extra,
    )
    signature.insert()
    return signature


def _claim_email(signature: Signature, due: str) -> bool:
    """Mark one more email due for this address, unless it had its share (conditional UPDATE)."""
    return bool(
        Signature.objects.filter(
            pk=signature.pk, confirmation_emails_sent__lt=settings.AGORA_MAX_CONFIRMATION_EMAILS
        ).update(confirmation_emails_sent=F("confirmation_emails_sent") + 1, email_due=due)
    )


def _signed_again(signature: Signature, details: SignatureDetails) -> Outcome:
    if signature.state == Signature.State.INVALIDATED:
        return Outcome.IGNORED
    if signature.state == Signature.State.WITHDRAWN:
        # Signing again after withdrawing: pending once more, confirmed by the same link.
        Signature.objects.filter(pk=signature.pk, state=Signature.State.WITHDRAWN).update(
            state=Signature.State.PENDING, withdrawn_at=None
        )
        signature.state = Signature.State.PENDING
    confirmed = signature.state == Signature.State.CONFIRMED
    due = Signature.EmailDue.ALREADY_SIGNED if confirmed else Signature.EmailDue.CONFIRMATION
    if not _claim_email(signature, due):
        return Outcome.EMAIL_LIMIT_REACHED
    signature_mail.request_delivery()
    return Outcome.ALREADY_SIGNED_NOTICE_SENT if confirmed else Outcome.CONFIRMATION_SENT


def signature_for_token(token: str) -> Signature:
    signature = Signature.objects.select_related("petition").filter(token=token).first()
    if signature is None:
        raise InvalidTransition(_("This link is not valid. Please check that it is complete."))
    return signature


def confirm_signature(token: str) -> Signature:
    """Confirm by the emailed link. Writes only the signature row; idempotent.

    A supporter's confirmation may send the petition to moderation once enough supporters
    have confirmed (see ``petitions.services.creation.request_moderation``).
    """
    signature = signature_for_token(token)
    if signature.state == Signature.State.CONFIRMED:
        return signature
    if signature.state != Signature.State.PENDING:
        raise InvalidTransition(_("This signature was withdrawn and cannot be confirmed."))
    ensure_signable(signature.petition, as_supporter=signature.is_supporter)
    now = timezone.now()
    Signature.objects.filter(pk=signature.pk, state=Signature.State.PENDING).update(
        state=Signature.State.CONFIRMED, confirmed_at=now
    )
    signature.state, signature.confirmed_at = Signature.State.CONFIRMED, now
    if signature.is_supporter:
        from petitions.services.creation import request_moderation_if_supported

        request_moderation_if_supported(signature.petition)
    return signature


def withdraw_signature(token: str) -> Signature:
    """Withdraw by the emailed link while the petition is open; counted off by the task."""
    signature = signature_for_token(token)
    if signature.state == Signature.State.WITHDRAWN:
        return signature
    if signature.state == Signature.State.INVALIDATED:
        raise InvalidTransition(_("This signature cannot be withdrawn."))
    if signature.petition.state not in (
        Petition.State.OPEN,
        Petition.State.COLLECTING_SUPPORTERS,
        Petition.State.AWAITING_MODERATION,
    ):
        raise InvalidTransition(_("This petition is closed: signatures can no longer change."))
    now = timezone.now()
    Signature.objects.filter(
        pk=signature.pk, state__in=[Signature.State.PENDING, Signature.State.CONFIRMED]
    ).update(state=Signature.State.WITHDRAWN, withdrawn_at=now)
    signature.state, signature.withdrawn_at = Signature.State.WITHDRAWN, now
    return signature
