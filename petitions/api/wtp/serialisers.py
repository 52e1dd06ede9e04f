"""Agora's rows in We the People's shapes: field names, types (ids as strings, Unix seconds)."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.html import strip_tags

from core.markdown import render_markdown
from petitions.models import Petition, Signature, Topic
from responses.models import Response

# WTP statuses, from Agora's two tracks (signing state and response state).
OPEN = "open"
PENDING_RESPONSE = "pending response"
RESPONDED = "responded"
CLOSED = "closed"
STATUSES = (OPEN, PENDING_RESPONSE, RESPONDED, CLOSED)
# Listed petitions are those published for signing; a rejected petition whose text the site
# shows is readable by its id, like WTP's petitions below the public threshold.
LISTED_STATES = (Petition.State.OPEN, Petition.State.CLOSED)


def unix(moment: datetime | None) -> int:
    return int(moment.timestamp()) if moment is not None else 0


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def plain_text(markdown_text: str) -> str:
    """The text a reader sees, without markup: rendered, sanitised, then tags taken out."""
    if not markdown_text:
        return ""
    return html.unescape(strip_tags(render_markdown(markdown_text))).strip()


def status_of(petition: Petition) -> str:
    if petition.response_state == Petition.ResponseState.RESPONDED:
        return RESPONDED
    if petition.response_state == Petition.ResponseState.AWAITING:
        return PENDING_RESPONSE
    if petition.state == Petition.State.OPEN:
        return OPEN
    return CLOSED


def issues(topics: Any) -> list[dict[str, Any]]:
    return [{"id": topic.pk, "name": topic.name} for topic in topics]


def _published_response(petition: Petition) -> Response | None:
    """The earliest published response; ``published_responses`` is prefetched by the views."""
    published: list[Response] = getattr(petition, "published_responses", [])
    return published[0] if published else None


def petition(item: Petition) -> dict[str, Any]:
    threshold = item.response_threshold or 0
    response = _published_response(item)
    body_parts = [item.summary, plain_text(item.details)]
    return {
        "id": str(item.pk),
        "type": "petition",
        "title": item.title,
        "body": "\n\n".join(part for part in body_parts if part),
        "issues": issues(item.topics.all()),
        "signatureThreshold": threshold,
        "signatureCount": item.signature_count,
        "signaturesNeeded": max(0, threshold - item.signature_count),
        "url": absolute(item.get_absolute_url()),
        "deadline": unix(item.deadline),
        "status": status_of(item),
        "response": (
            {
                "id": str(response.pk),
                "url": absolute(response.get_absolute_url()),
                "associationTime": unix(response.published_at),
            }
            if response is not None
            else []
        ),
        "created": unix(item.created_at),
        "isSignable": item.is_signable,
        "isPublic": item.state in LISTED_STATES,
        "reachedPublic": unix(item.opened_at) if item.state in LISTED_STATES else 0,
    }


def initials(name: str) -> str:
    """ "Camille Dupont" -> "C. D.": the most WTP showed, and all Agora shows to anyone."""
    return " ".join(f"{word[0].upper()}." for word in name.split() if word)


def signature(item: Signature) -> dict[str, Any]:
    # No postcode and no town: with a name's initials they can single a person out. The
    # region (département, state) is the finest place Agora publishes.
    return {
        "id": str(item.pk),
        "type": "signature",
        "petitionId": str(item.petition_id),
        "name": initials(item.name),
        "city": "",
        "state": item.region.name if item.region is not None else "",
        "zip": "",
        "created": unix(item.created_at),
    }


def response(item: Response) -> dict[str, Any]:
    answered: list[Petition] = list(getattr(item, "public_petitions", []))
    topics: dict[int, Topic] = {}
    for answered_petition in answered:
        for topic in answered_petition.topics.all():
            topics.setdefault(topic.pk, topic)
    body = render_markdown(item.body)
    return {
        "id": str(item.pk),
        "title": item.title,
        "body": str(body),
        "body_plain": html.unescape(strip_tags(body)).strip(),
        "petitions": [
            {
                "id": str(answered_petition.pk),
                "url": absolute(answered_petition.get_absolute_url()),
                "short_url": absolute(answered_petition.get_absolute_url()),
                "title": answered_petition.title,
                "signature_count": answered_petition.signature_count,
                "timestamp_reached_ready": unix(answered_petition.response_threshold_reached_at),
            }
            for answered_petition in answered
        ],
        "url": absolute(item.get_absolute_url()),
        "created": unix(item.published_at),
        "agency": item.department.name,
        "issues": issues(sorted(topics.values(), key=lambda topic: topic.pk)),
    }
