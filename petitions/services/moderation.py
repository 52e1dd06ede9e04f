"""Moderation: approve (open), reject with a reason, hide, restore, remove.

Each transition is a conditional UPDATE from the states it allows, so two moderators
acting at once cannot both succeed; the loser gets InvalidTransition.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import record_event
from core.errors import InvalidTransition, NotAllowed
from petitions import notifications
from petitions.models import Petition, ThresholdPolicy

MODERATE = "accounts.moderate_petitions"


def _require_moderator(actor: Any) -> None:
    if not (getattr(actor, "is_authenticated", False) and actor.has_perm(MODERATE)):
        raise NotAllowed(_("Only moderators can do this."))


def _transition(petition: Petition, allowed: tuple[str, ...], **changes: Any) -> None:
    """Move ``petition`` from one of ``allowed`` to ``changes``, or raise."""
    if not Petition.objects.filter(pk=petition.pk, state__in=allowed).update(**changes):
        raise InvalidTransition(_("This petition is no longer in a state that allows this action."))
    for name, value in changes.items():
        setattr(petition, name, value)


@transaction.atomic
def approve_petition(petition: Petition, *, actor: Any) -> Petition:
    """Open the petition: deadline from the signing window, thresholds snapshotted."""
    _require_moderator(actor)
    policy = ThresholdPolicy.current()
    now = timezone.now()
    response, consideration = policy.response(), policy.consideration()
    _transition(
        petition,
        (Petition.State.AWAITING_MODERATION,),
        state=Petition.State.OPEN,
        opened_at=now,
        deadline=now + policy.signing_window,
        response_threshold=response.signatures,
        response_territory=response.territory.to_json() if response.territory else None,
        consideration_threshold=consideration.signatures if consideration else None,
        consideration_territory=(
            consideration.territory.to_json() if consideration and consideration.territory else None
        ),
    )
    record_event(
        "petition.opened",
        actor=actor,
        target=petition,
        data={
            "deadline": petition.deadline.isoformat() if petition.deadline else None,
            "response_threshold": petition.response_threshold,
            "consideration_threshold": petition.consideration_threshold,
        },
    )
    notifications.petition_opened(petition)
    return petition


@transaction.atomic
def reject_petition(petition: Petition, *, actor: Any, reason: str, details: str = "") -> Petition:
    if reason not in Petition.RejectionReason.values:
        raise InvalidTransition(_("Choose a reason for the rejection."))
    _require_moderator(actor)
    _transition(
        petition,
        (Petition.State.AWAITING_MODERATION, Petition.State.COLLECTING_SUPPORTERS),
        state=Petition.State.REJECTED,
        rejected_at=timezone.now(),
        rejection_reason=reason,
        rejection_details=details.strip(),
    )
    record_event("petition.rejected", actor=actor, target=petition, data={"reason": reason})
    notifications.petition_rejected(petition)
    return petition


@transaction.atomic
def hide_petition(petition: Petition, *, actor: Any, details: str) -> Petition:
    """Take a published petition down; its page says it was hidden, without its text."""
    _require_moderator(actor)
    _transition(
        petition,
        (Petition.State.OPEN, Petition.State.CLOSED, Petition.State.REJECTED),
        state=Petition.State.HIDDEN,
        hidden_at=timezone.now(),
    )
    record_event("petition.hidden", actor=actor, target=petition, data={"details": details})
    return petition


@transaction.atomic
def restore_petition(petition: Petition, *, actor: Any) -> Petition:
    """Bring a hidden petition back: open if its deadline is ahead, closed otherwise."""
    _require_moderator(actor)
    now = timezone.now()
    if petition.rejected_at is not None:
        changes: dict[str, Any] = {"state": Petition.State.REJECTED}
    elif petition.deadline is not None and petition.deadline > now:
        changes = {"state": Petition.State.OPEN}
    else:
        changes = {"state": Petition.State.CLOSED, "closed_at": petition.closed_at or now}
    _transition(petition, (Petition.State.HIDDEN,), hidden_at=None, **changes)
    record_event(
        "petition.restored", actor=actor, target=petition, data={"state": changes["state"]}
    )
    return petition


@transaction.atomic
def remove_petition(petition: Petition, *, actor: Any, details: str) -> Petition:
    """Remove for good (its address answers 410 Gone); for legal take-downs."""
    _require_moderator(actor)
    _transition(
        petition,
        tuple(state for state in Petition.State.values if state != Petition.State.REMOVED),
        state=Petition.State.REMOVED,
        removed_at=timezone.now(),
    )
    record_event("petition.removed", actor=actor, target=petition, data={"details": details})
    return petition
