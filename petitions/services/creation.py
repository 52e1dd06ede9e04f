"""Creating a petition and gathering its first supporters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import record_event
from core.errors import NotAllowed
from petitions import notifications
from petitions.identity import normalise_email
from petitions.models import Petition, Signature
from petitions.places import region_id_for

DOUBLE_SUBMIT_WINDOW = timedelta(minutes=2)


@dataclass(frozen=True)
class PetitionText:
    title: str
    summary: str
    details: str
    language: str
    topic_ids: list[int] = field(default_factory=list)


@transaction.atomic
def create_petition(text: PetitionText, *, actor: Any, country: str, postcode: str) -> Petition:
    """Create a petition collecting supporters, with its creator's own signature.

    The creator must have a verified address (their signature is confirmed by it). The
    creator is emailed the private link to share with supporters, after commit. The same
    title from the same creator within DOUBLE_SUBMIT_WINDOW returns the earlier petition.
    """
    if not EmailAddress.objects.filter(
        user=actor, email__iexact=actor.email, verified=True
    ).exists():
        raise NotAllowed(_("Please verify your email address before creating a petition."))
    title = " ".join(text.title.split())
    recent = Petition.objects.filter(
        creator=actor, title=title, created_at__gte=timezone.now() - DOUBLE_SUBMIT_WINDOW
    ).first()
    if recent is not None:
        return recent  # a double click on "Create petition": the first one stands
    petition = Petition.objects.create(
        title=title,
        summary=text.summary.strip(),
        details=text.details.strip(),
        language=text.language,
        creator=actor,
        creator_name=actor.display_name,
        state=Petition.State.COLLECTING_SUPPORTERS,
        supporters_needed=settings.AGORA_SUPPORTERS_NEEDED,
    )
    petition.topics.set(text.topic_ids)
    Signature.objects.create(
        petition=petition,
        name=actor.display_name,
        email=actor.email,
        email_normalised=normalise_email(actor.email),
        country=country,
        postcode=postcode.strip().upper(),
        region_id=region_id_for(country, postcode),
        language=actor.preferred_language,
        user=actor,
        wants_updates=True,
        state=Signature.State.CONFIRMED,
        confirmed_at=timezone.now(),
    )
    record_event("petition.created", actor=actor, target=petition, data={"title": petition.title})
    notifications.petition_created(petition)
    if petition.supporters_needed == 0:
        request_moderation(petition)
    return petition


def request_moderation_if_supported(petition: Petition) -> None:
    """Send the petition to moderation once enough supporters have confirmed."""
    supporters = Signature.objects.filter(
        petition=petition, is_supporter=True, state=Signature.State.CONFIRMED
    ).count()
    if supporters >= petition.supporters_needed:
        request_moderation(petition)


@transaction.atomic
def request_moderation(petition: Petition) -> bool:
    """collecting_supporters → awaiting_moderation, claimed once (conditional UPDATE)."""
    now = timezone.now()
    claimed = Petition.objects.filter(
        pk=petition.pk, state=Petition.State.COLLECTING_SUPPORTERS
    ).update(state=Petition.State.AWAITING_MODERATION, moderation_requested_at=now)
    if not claimed:
        return False
    petition.state, petition.moderation_requested_at = Petition.State.AWAITING_MODERATION, now
    record_event("petition.sent_to_moderation", target=petition)
    notifications.petition_awaiting_moderation(petition)
    return True
