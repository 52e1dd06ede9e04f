"""Publishing a response (now or at a set time), correcting it, and the committee's debate.

Publishing marks every answered petition `responded`, records the events, and creates one
Mailing per petition; the fan-out to signers starts after commit (see ``outbox``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import record_event
from core.background import enqueue_on_commit
from core.errors import InvalidTransition
from petitions.models import Petition
from responses.models import Debate, Mailing, Membership, Response, ResponseVersion
from responses.permissions import require_role

PUBLISHER = Membership.Role.PUBLISHER


def _start_mailing(kind: str, petition: Petition, response: Response | None = None) -> None:
    """Create the mailing once (a unique constraint) and fan it out after commit."""
    from responses.tasks import fan_out_mailing

    try:
        with transaction.atomic():
            mailing = Mailing.objects.create(kind=kind, petition=petition, response=response)
    except IntegrityError:
        return  # already announced: exactly once
    enqueue_on_commit(fan_out_mailing, mailing.pk)


@transaction.atomic
def publish_response(response: Response, *, actor: Any, at: datetime | None = None) -> Response:
    """Publish an approved response now, or schedule it for ``at``.

    A scheduled response is published by the ``publish_scheduled_responses`` task, which
    calls this again with the publisher who scheduled it.
    """
    require_role(actor, response.department_id, PUBLISHER)
    now = timezone.now()
    if at is not None and at > now:
        if not Response.objects.filter(
            pk=response.pk, state__in=[Response.State.APPROVED, Response.State.SCHEDULED]
        ).update(state=Response.State.SCHEDULED, scheduled_for=at, publisher=actor):
            raise InvalidTransition(_("Only an approved response can be scheduled."))
        response.state, response.scheduled_for = Response.State.SCHEDULED, at
        record_event(
            "response.scheduled", actor=actor, target=response, data={"at": at.isoformat()}
        )
        return response
    if not Response.objects.filter(
        pk=response.pk, state__in=[Response.State.APPROVED, Response.State.SCHEDULED]
    ).update(state=Response.State.PUBLISHED, published_at=now, publisher=actor):
        raise InvalidTransition(_("Only an approved response can be published."))
    response.state, response.published_at, response.publisher = (
        Response.State.PUBLISHED,
        now,
        actor,
    )
    record_event(
        "response.published", actor=actor, target=response, data={"version": response.version}
    )
    for petition in response.petitions.all():
        Petition.objects.filter(pk=petition.pk).update(
            response_state=Petition.ResponseState.RESPONDED, responded_at=now
        )
        record_event(
            "petition.responded", actor=actor, target=petition, data={"response": response.pk}
        )
        _start_mailing(Mailing.Kind.RESPONSE_PUBLISHED, petition, response)
    return response


def publish_scheduled_responses() -> list[int]:
    """Publish every scheduled response whose time has come; returns their ids."""
    published = []
    due = Response.objects.filter(state=Response.State.SCHEDULED, scheduled_for__lte=timezone.now())
    for response in due.select_related("publisher"):
        try:
            publish_response(response, actor=response.publisher)
        except InvalidTransition:
            continue  # published meanwhile by someone else
        published.append(response.pk)
    return published


@transaction.atomic
def correct_response(
    response: Response, *, actor: Any, title: str, body: str, note: str
) -> Response:
    """Change a published response: a new version, shown with an "updated on" note.

    Signers are not emailed again; the public page shows the date and what changed.
    """
    require_role(actor, response.department_id, PUBLISHER)
    title, body, note = " ".join(title.split()), body.strip(), note.strip()
    if not (title and body and note):
        raise InvalidTransition(
            _("A correction needs a title, a text and a note saying what changed.")
        )
    response = Response.objects.select_for_update().get(pk=response.pk)
    if response.state != Response.State.PUBLISHED:
        raise InvalidTransition(_("Only a published response can be corrected."))
    response.version += 1
    response.title, response.body, response.corrected_at = title, body, timezone.now()
    response.save(update_fields=["title", "body", "version", "corrected_at"])
    ResponseVersion.objects.create(
        response=response,
        number=response.version,
        title=title,
        body=body,
        kind=ResponseVersion.Kind.CORRECTION,
        note=note,
        author=actor,
    )
    record_event("response.corrected", actor=actor, target=response, data={"note": note})
    return response


def _committee_debate(petition: Petition, actor: Any) -> Debate:
    debate = Debate.objects.select_for_update().filter(petition=petition).first()
    if debate is None:
        raise InvalidTransition(_("This petition has not been sent to a committee."))
    require_role(actor, debate.committee_id, PUBLISHER)
    return debate


@transaction.atomic
def schedule_debate(petition: Petition, *, actor: Any, on: date) -> Debate:
    """Record the debate date and tell the signers who asked to hear back (once)."""
    debate = _committee_debate(petition, actor)
    debate.scheduled_for = on
    debate.save(update_fields=["scheduled_for"])
    record_event(
        "petition.debate_scheduled", actor=actor, target=petition, data={"on": on.isoformat()}
    )
    _start_mailing(Mailing.Kind.DEBATE_SCHEDULED, petition)
    return debate


@transaction.atomic
def record_debate_outcome(petition: Petition, *, actor: Any, outcome: str) -> Debate:
    debate = _committee_debate(petition, actor)
    if not outcome.strip():
        raise InvalidTransition(_("Describe the outcome of the debate."))
    debate.outcome, debate.outcome_at = outcome.strip(), timezone.now()
    debate.save(update_fields=["outcome", "outcome_at"])
    Petition.objects.filter(pk=petition.pk).update(
        consideration_state=Petition.ConsiderationState.CONSIDERED
    )
    record_event("petition.debate_outcome", actor=actor, target=petition)
    _start_mailing(Mailing.Kind.DEBATE_OUTCOME, petition)
    return debate
