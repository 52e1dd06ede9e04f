"""What a webhook says about an event: public fields only, as the public pages show them.

No email, no name, no address: petitions by id, title, address, state and counts;
departments by name; responses by id, title and address. A petition that is no longer
public (hidden, removed, or rejected with its text withheld) produces no payload at all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from core.models import AuditEvent
from core.webhooks.events import EVENT_FOR_ACTION, EventType
from petitions.models import Petition
from responses.models import Department, Response


def iso(value: datetime | None) -> str | None:
    """UTC, ISO 8601 with a Z: the form every client library parses."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def iso_text(value: object) -> str | None:
    """An ISO time stored in an audit event's data, in the same form as ``iso``."""
    if not isinstance(value, str):
        return None
    try:
        return iso(datetime.fromisoformat(value))
    except ValueError:
        return None


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def is_public(petition: Petition) -> bool:
    return petition.state in Petition.PUBLIC_STATES and not petition.text_is_hidden


def petition_data(petition: Petition) -> dict[str, Any]:
    return {
        "id": petition.pk,
        "title": petition.title,
        "url": absolute(petition.get_absolute_url()),
        "state": petition.state,
        "signature_count": petition.signature_count,
        "opened_at": iso(petition.opened_at),
        "deadline": iso(petition.deadline),
        "closed_at": iso(petition.closed_at),
        "response_threshold": petition.response_threshold,
        "consideration_threshold": petition.consideration_threshold,
        "response_threshold_reached_at": iso(petition.response_threshold_reached_at),
        "consideration_threshold_reached_at": iso(petition.consideration_threshold_reached_at),
        "response_state": petition.response_state,
    }


def department_data(department: Department) -> dict[str, Any]:
    return {
        "slug": department.slug,
        "name_en": department.name_en,
        "name_fr": department.name_fr,
        "acronym": department.acronym,
    }


def _petition_event(event: AuditEvent) -> dict[str, Any] | None:
    petition = Petition.objects.filter(pk=event.target_id).first()
    if petition is None or not is_public(petition):
        return None
    data: dict[str, Any] = {"petition": petition_data(petition)}
    if event.action.endswith("_threshold_reached"):
        threshold = event.action.removeprefix("petition.").removesuffix("_threshold_reached")
        data["threshold"] = {
            "kind": threshold,
            "signatures_required": (
                petition.response_threshold
                if threshold == "response"
                else petition.consideration_threshold
            ),
            "signature_count": event.data.get("signature_count"),
            "reached_at": iso_text(event.data.get("at")),
        }
    elif event.action == "petition.routed":
        slugs = [event.data.get("lead"), *event.data.get("contributors", [])]
        departments = {d.slug: d for d in Department.objects.filter(slug__in=slugs)}
        lead = departments.get(str(event.data.get("lead")))
        data["routing"] = {
            "track": event.data.get("track"),
            "lead_department": department_data(lead) if lead else None,
            "contributing_departments": [
                department_data(departments[slug])
                for slug in event.data.get("contributors", [])
                if slug in departments
            ],
            "due_at": iso_text(event.data.get("due_at")),
        }
    return data


def _response_event(event: AuditEvent) -> dict[str, Any] | None:
    response = Response.objects.select_related("department").filter(pk=event.target_id).first()
    if response is None or response.state != Response.State.PUBLISHED:
        return None
    petitions = [p for p in response.petitions.order_by("pk") if is_public(p)]
    return {
        "response": {
            "id": response.pk,
            "title": response.title,
            "url": absolute(response.get_absolute_url()),
            "published_at": iso(response.published_at),
            "version": response.version,
            "department": department_data(response.department),
        },
        "petitions": [petition_data(petition) for petition in petitions],
    }


def event_data(event: AuditEvent) -> dict[str, Any] | None:
    """The ``data`` of the webhook for ``event``, or None when it has nothing public to say."""
    event_type = EVENT_FOR_ACTION.get(event.action)
    if event_type is None:
        return None
    if event_type == EventType.RESPONSE_PUBLISHED:
        return _response_event(event)
    return _petition_event(event)


def envelope(
    delivery_id: str, event_type: str, event: AuditEvent, data: dict[str, Any]
) -> dict[str, Any]:
    return {"id": delivery_id, "type": event_type, "created": iso(event.created_at), "data": data}
