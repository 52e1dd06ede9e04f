"""Drafting and reviewing a response: the drafter submits; someone else approves or sends back.

Every text saved is a new ResponseVersion; each transition is a conditional UPDATE from the
states it allows, so two people acting at once cannot both succeed.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import record_event
from core.errors import InvalidTransition, NotAllowed
from petitions.models import Petition
from responses.models import Assignment, Department, Membership, Response, ResponseVersion, Review
from responses.permissions import require_role
from responses.services import notify

OFFICER, REVIEWER, PUBLISHER = (
    Membership.Role.OFFICER,
    Membership.Role.REVIEWER,
    Membership.Role.PUBLISHER,
)


def _transition(response: Response, allowed: tuple[str, ...], **changes: Any) -> None:
    if not Response.objects.filter(pk=response.pk, state__in=allowed).update(**changes):
        raise InvalidTransition(_("This response is no longer in a state that allows this."))
    for name, value in changes.items():
        setattr(response, name, value)


def _answerable(department: Department, petitions: list[Petition]) -> None:
    """Each petition must be routed to the department and still await its response."""
    if not petitions:
        raise InvalidTransition(_("Choose at least one petition to answer."))
    routed = set(
        Assignment.objects.active()
        .filter(petition__in=petitions, department=department)
        .values_list("petition_id", flat=True)
    )
    for petition in petitions:
        if petition.pk not in routed:
            raise NotAllowed(
                _("Petition %(id)s is not routed to this department.") % {"id": petition.pk}
            )
        if petition.response_state == Petition.ResponseState.RESPONDED:
            raise InvalidTransition(
                _("Petition %(id)s already has a response.") % {"id": petition.pk}
            )


def _clean(title: str, body: str) -> tuple[str, str]:
    title, body = " ".join(title.split()), body.strip()
    if not title or not body:
        raise InvalidTransition(_("A response needs a title and a text."))
    return title, body


@transaction.atomic
def create_response(
    *, actor: Any, department: Department, petitions: list[Petition], title: str, body: str
) -> Response:
    """A new draft by an officer of ``department``, answering one or more of its petitions."""
    require_role(actor, department, OFFICER)
    _answerable(department, petitions)
    title, body = _clean(title, body)
    response = Response.objects.create(
        department=department, title=title, body=body, drafter=actor, version=1
    )
    response.petitions.set(petitions)
    ResponseVersion.objects.create(
        response=response, number=1, title=title, body=body, author=actor
    )
    record_event(
        "response.drafted",
        actor=actor,
        target=response,
        data={"petitions": [petition.pk for petition in petitions]},
    )
    return response


@transaction.atomic
def update_response(
    response: Response,
    *,
    actor: Any,
    title: str,
    body: str,
    petitions: list[Petition] | None = None,
) -> Response:
    """Save a new version of a draft (or of a draft sent back). Unchanged text adds nothing."""
    require_role(actor, response.department_id, OFFICER)
    response = Response.objects.select_for_update().get(pk=response.pk)
    if response.state not in Response.EDITABLE_STATES:
        raise InvalidTransition(_("Only a draft can be edited; this response is in review."))
    title, body = _clean(title, body)
    if petitions is not None:
        _answerable(response.department, petitions)
        response.petitions.set(petitions)
    if (title, body) == (response.title, response.body):
        return response
    response.version += 1
    response.title, response.body = title, body
    response.save(update_fields=["title", "body", "version"])
    ResponseVersion.objects.create(
        response=response, number=response.version, title=title, body=body, author=actor
    )
    record_event(
        "response.edited", actor=actor, target=response, data={"version": response.version}
    )
    return response


def authors(response: Response) -> set[int]:
    """Everyone who wrote a version: none of them may review it."""
    ids = set(response.versions.exclude(author=None).values_list("author_id", flat=True))
    if response.drafter_id:
        ids.add(response.drafter_id)
    return ids


@transaction.atomic
def submit_response(response: Response, *, actor: Any) -> Response:
    response.refresh_from_db()  # the caller's copy may predate the last edit
    require_role(actor, response.department_id, OFFICER)
    _transition(
        response,
        Response.EDITABLE_STATES,
        state=Response.State.IN_REVIEW,
        submitted_at=timezone.now(),
    )
    record_event(
        "response.submitted", actor=actor, target=response, data={"version": response.version}
    )
    notify.staff(
        [
            u
            for u in notify.members([response.department_id], [REVIEWER])
            if u.pk not in authors(response)
        ],
        template="review_requested",
        message=_("A response is waiting for your review: “%(title)s”."),
        values={"title": response.title},
        url=reverse("backoffice:response", args=[response.pk]),
        response=response,
    )
    return response


def _require_independent_reviewer(response: Response, actor: Any) -> None:
    require_role(actor, response.department_id, REVIEWER)
    if actor.pk in authors(response):
        raise NotAllowed(_("Someone who wrote this response cannot review it."))


@transaction.atomic
def send_back_response(response: Response, *, actor: Any, comment: str) -> Response:
    """Return a response to its drafter with a comment saying what to change."""
    response.refresh_from_db()  # the caller's copy may predate the last edit
    _require_independent_reviewer(response, actor)
    if not comment.strip():
        raise InvalidTransition(_("Say what should change before sending the response back."))
    _transition(response, (Response.State.IN_REVIEW,), state=Response.State.CHANGES_REQUESTED)
    Review.objects.create(
        response=response,
        version=response.version,
        reviewer=actor,
        decision=Review.Decision.SENT_BACK,
        comment=comment.strip(),
    )
    record_event(
        "response.sent_back", actor=actor, target=response, data={"version": response.version}
    )
    drafter = [response.drafter] if response.drafter else []
    notify.staff(
        drafter,
        template="response_sent_back",
        message=_("Your response “%(title)s” was sent back with a comment."),
        values={"title": response.title},
        url=reverse("backoffice:response", args=[response.pk]),
        response=response,
        comment=comment.strip(),
    )
    return response


@transaction.atomic
def approve_response(response: Response, *, actor: Any, comment: str = "") -> Response:
    response.refresh_from_db()  # the caller's copy may predate the last edit
    _require_independent_reviewer(response, actor)
    _transition(
        response,
        (Response.State.IN_REVIEW,),
        state=Response.State.APPROVED,
        reviewer=actor,
        approved_at=timezone.now(),
    )
    Review.objects.create(
        response=response,
        version=response.version,
        reviewer=actor,
        decision=Review.Decision.APPROVED,
        comment=comment.strip(),
    )
    record_event(
        "response.approved", actor=actor, target=response, data={"version": response.version}
    )
    notify.staff(
        notify.members([response.department_id], [PUBLISHER]),
        template="publication_requested",
        message=_("A response is approved and ready to publish: “%(title)s”."),
        values={"title": response.title},
        url=reverse("backoffice:response", args=[response.pk]),
        response=response,
    )
    return response
