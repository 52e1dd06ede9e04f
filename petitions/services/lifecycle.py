"""Closing petitions at their deadline, and the pause-signing switch."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import record_event
from core.errors import InvalidTransition, NotAllowed
from petitions import notifications
from petitions.models import Petition, SigningPause

ADMINISTER = "accounts.administer_site"


def close_expired_petitions() -> list[int]:
    """Close every open petition past its deadline; returns the ids closed.

    Nothing closes while signing is paused: the deadlines move when the pause ends. Each
    close is claimed by a conditional UPDATE, so two runs close a petition once.
    """
    if SigningPause.running() is not None:
        return []
    closed = []
    now = timezone.now()
    due = Petition.objects.filter(state=Petition.State.OPEN, deadline__lte=now)
    for petition in due.iterator():
        with transaction.atomic():
            if not Petition.objects.filter(
                pk=petition.pk, state=Petition.State.OPEN, deadline__lte=now
            ).update(state=Petition.State.CLOSED, closed_at=now):
                continue
            petition.state, petition.closed_at = Petition.State.CLOSED, now
            record_event(
                "petition.closed", target=petition, data={"deadline": str(petition.deadline)}
            )
            notifications.petition_closed(petition)
            closed.append(petition.pk)
    return closed


def _require_administrator(actor: Any) -> None:
    if not (getattr(actor, "is_authenticated", False) and actor.has_perm(ADMINISTER)):
        raise NotAllowed(_("Only administrators can do this."))


@transaction.atomic
def pause_signing(*, actor: Any, reason: str = "") -> SigningPause:
    """Refuse every signature from now on, with a banner, until ``resume_signing``."""
    _require_administrator(actor)
    try:
        with transaction.atomic():
            pause = SigningPause.objects.create(started_by=actor, reason=reason.strip())
    except IntegrityError:
        raise InvalidTransition(_("Signing is already paused.")) from None
    record_event("signing.paused", actor=actor, target=pause, data={"reason": pause.reason})
    transaction.on_commit(SigningPause.forget)
    return pause


@transaction.atomic
def resume_signing(*, actor: Any) -> SigningPause:
    """End the pause and extend open deadlines by the time each petition was paused."""
    _require_administrator(actor)
    pause = SigningPause.objects.select_for_update().filter(ended_at__isnull=True).first()
    if pause is None:
        raise InvalidTransition(_("Signing is not paused."))
    now = timezone.now()
    pause.ended_at, pause.ended_by = now, actor
    pause.save(update_fields=["ended_at", "ended_by"])
    open_petitions = Petition.objects.filter(state=Petition.State.OPEN)
    extended = open_petitions.filter(opened_at__lte=pause.started_at).update(
        deadline=F("deadline") + (now - pause.started_at)
    )
    # Opened during the pause: extended by the part of the pause they lived through.
    for petition in open_petitions.filter(opened_at__gt=pause.started_at):
        if petition.deadline is None or petition.opened_at is None:
            continue  # an open petition always has both; nothing to extend otherwise
        Petition.objects.filter(pk=petition.pk).update(
            deadline=petition.deadline + (now - petition.opened_at)
        )
        extended += 1
    record_event(
        "signing.resumed",
        actor=actor,
        target=pause,
        data={
            "paused_seconds": int((now - pause.started_at).total_seconds()),
            "extended": extended,
        },
    )
    transaction.on_commit(SigningPause.forget)
    return pause
