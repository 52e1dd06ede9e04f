"""Routing a petition to the departments that must answer it, with a due date."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import record_event
from core.errors import InvalidTransition, NotAllowed
from petitions.models import Petition, RegionCount
from responses.models import Assignment, Debate, Department, Membership, RoutingRule, Track
from responses.permissions import has_role, is_administrator
from responses.services import notify

logger = logging.getLogger(__name__)


def lead_department(petition: Petition) -> Department | None:
    """The lead department of the petition's first topic that has one, else the fallback."""
    for topic in petition.topics.select_related("lead_department").order_by("slug"):
        if topic.lead_department is not None and topic.lead_department.is_active:
            return topic.lead_department
    return Department.objects.filter(is_fallback=True, is_active=True).first()


def contributing_departments(petition: Petition, lead: Department) -> list[Department]:
    """Departments added by the routing rules: topic, keyword, or a region's share."""
    text = f"{petition.title} {petition.summary}".casefold()
    shares = {
        region_id: count
        for region_id, count in RegionCount.objects.filter(petition=petition).values_list(
            "region_id", "count"
        )
    }
    topics = set(petition.topics.values_list("pk", flat=True))
    found: dict[int, Department] = {}
    rules = RoutingRule.objects.filter(is_active=True, department__is_active=True).exclude(
        department=lead
    )
    for rule in rules.select_related("department"):
        if (
            (rule.kind == RoutingRule.Kind.TOPIC and rule.topic_id in topics)
            or (rule.kind == RoutingRule.Kind.KEYWORD and rule.keyword.casefold() in text)
            or (
                rule.kind == RoutingRule.Kind.REGION
                and petition.signature_count
                and shares.get(rule.region_id or 0, 0) * 100
                >= rule.region_share * petition.signature_count
            )
        ):
            found[rule.department_id] = rule.department
    return sorted(found.values(), key=lambda department: department.name_en)


def committee_for(petition: Petition) -> Department | None:
    return (
        Department.objects.filter(kind=Department.Kind.COMMITTEE, is_active=True)
        .order_by("pk")
        .first()
    )


@transaction.atomic
def route_petition(petition_id: int, track: str) -> list[Assignment]:
    """Assign a petition that crossed a threshold: one lead, contributors, a due date.

    Claimed by a conditional UPDATE of ``<track>_routed_at``: running it twice, or from two
    workers, routes once. Members are told by inbox item and email after commit. Without
    any department to route to, the claim is released and administrators are told, so
    routing can run again once a department exists.
    """
    track = Track(track)
    claimed_field = f"{track.value}_routed_at"
    now = timezone.now()
    if not Petition.objects.filter(pk=petition_id, **{f"{claimed_field}__isnull": True}).update(
        **{claimed_field: now}
    ):
        return []
    petition = Petition.objects.get(pk=petition_id)
    if track == Track.RESPONSE:
        lead = lead_department(petition)
        contributors = contributing_departments(petition, lead) if lead else []
    else:
        lead, contributors = committee_for(petition), []
    if lead is None:
        Petition.objects.filter(pk=petition_id).update(**{claimed_field: None})
        record_event("petition.routing_failed", target=petition, data={"track": track.value})
        notify.staff(
            notify.administrators(),
            template="routing_failed",
            message=_("No department could be found for petition %(id)s."),
            values={"id": petition.pk},
            url=reverse("admin:responses_department_changelist"),
            petition=petition,
        )
        return []
    due = now + timedelta(days=lead.response_target_days)
    assignments = [
        Assignment.objects.create(
            petition=petition,
            department=lead,
            role=Assignment.Role.LEAD,
            track=track,
            assigned_at=now,
            due_at=due,
        ),
        *(
            Assignment.objects.create(
                petition=petition,
                department=department,
                role=Assignment.Role.CONTRIBUTOR,
                track=track,
                assigned_at=now,
                due_at=due,
            )
            for department in contributors
        ),
    ]
    if track == Track.RESPONSE:
        Petition.objects.filter(pk=petition_id).update(response_due_at=due)
    else:
        Debate.objects.get_or_create(petition=petition, defaults={"committee": lead})
    record_event(
        "petition.routed",
        target=petition,
        data={
            "track": track.value,
            "lead": lead.slug,
            "contributors": [department.slug for department in contributors],
            "due_at": due.isoformat(),
        },
    )
    _tell_members(petition, assignments)
    return assignments


def _tell_members(petition: Petition, assignments: list[Assignment]) -> None:
    notify.staff(
        notify.members(
            [assignment.department_id for assignment in assignments], Membership.Role.values
        ),
        template="petition_routed",
        message=_("Petition %(id)s was routed to your department: “%(title)s”."),
        values={"id": petition.pk, "title": petition.title},
        url=reverse("backoffice:workspace", args=[petition.pk]),
        petition=petition,
        due_at=assignments[0].due_at,
    )


def can_reroute(user: Any, petition: Petition) -> bool:
    if is_administrator(user):
        return True
    leads = Assignment.objects.active().filter(petition=petition, role=Assignment.Role.LEAD)
    return any(
        has_role(user, lead.department_id, role)
        for lead in leads
        for role in (Membership.Role.REVIEWER, Membership.Role.PUBLISHER)
    )


@transaction.atomic
def reroute_petition(
    petition: Petition,
    *,
    actor: Any,
    track: str,
    lead: Department,
    contributors: list[Department],
    reason: str,
) -> list[Assignment]:
    """Move a routed petition to other departments; the due date stays as it was.

    Needs a reason, and an administrator or a reviewer/publisher of the current lead.
    The old assignments end rather than disappear, so the history stays whole.
    """
    if not reason.strip():
        raise InvalidTransition(_("Give a reason for re-routing."))
    if not can_reroute(actor, petition):
        raise NotAllowed(
            _("Only the lead department's reviewers or an administrator can re-route.")
        )
    current = list(
        Assignment.objects.select_for_update().active().filter(petition=petition, track=track)
    )
    if not current:
        raise InvalidTransition(_("This petition has not been routed yet."))
    due = min(assignment.due_at for assignment in current)
    now = timezone.now()
    Assignment.objects.filter(pk__in=[a.pk for a in current]).update(ended_at=now)
    new = [
        Assignment.objects.create(
            petition=petition,
            department=lead,
            role=Assignment.Role.LEAD,
            track=track,
            due_at=due,
            reason=reason.strip(),
        ),
        *(
            Assignment.objects.create(
                petition=petition,
                department=department,
                role=Assignment.Role.CONTRIBUTOR,
                track=track,
                due_at=due,
                reason=reason.strip(),
            )
            for department in contributors
            if department.pk != lead.pk
        ),
    ]
    record_event(
        "petition.rerouted",
        actor=actor,
        target=petition,
        data={
            "track": track,
            "from": sorted(a.department.slug for a in current),
            "lead": lead.slug,
            "contributors": [d.slug for d in contributors if d.pk != lead.pk],
            "reason": reason.strip(),
        },
    )
    _tell_members(petition, new)
    return new


def active_lead(petition: Petition, track: str = Track.RESPONSE) -> Assignment | None:
    return (
        Assignment.objects.active()
        .filter(petition=petition, track=track, role=Assignment.Role.LEAD)
        .select_related("department")
        .first()
    )
