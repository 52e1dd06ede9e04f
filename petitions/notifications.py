"""Emails about petitions and signatures, in the recipient's language, via the `mail` queue.

Each function renders its message now and enqueues it after the surrounding commit.
Templates live in templates/emails/petitions/<name>{_subject.txt,.txt,.html}.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from core.mail import queue_message, render_email
from petitions.models import Petition


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _send(name: str, to: str, language: str, **context: Any) -> None:
    message = render_email(f"emails/petitions/{name}", context, to=[to], language=language)
    queue_message(message)


def _petition_context(petition: Petition) -> dict[str, Any]:
    return {"petition": petition, "petition_url": absolute(petition.get_absolute_url())}


def _to_creator(name: str, petition: Petition, **context: Any) -> None:
    creator = petition.creator
    if creator is None or not creator.notify_petition_updates:
        return
    _send(
        name,
        creator.email,
        creator.preferred_language,
        creator=creator,
        **_petition_context(petition),
        **context,
    )


def petition_created(petition: Petition) -> None:
    _to_creator(
        "petition_created",
        petition,
        supporter_url=absolute(reverse("petitions:support", args=[petition.supporter_token])),
    )


def petition_awaiting_moderation(petition: Petition) -> None:
    _to_creator(
        "petition_awaiting_moderation",
        petition,
        target_days=settings.AGORA_MODERATION_TARGET_DAYS,
    )


def petition_opened(petition: Petition) -> None:
    _to_creator("petition_opened", petition)


def petition_rejected(petition: Petition) -> None:
    _to_creator("petition_rejected", petition)


def petition_closed(petition: Petition) -> None:
    _to_creator("petition_closed", petition)


def threshold_reached(petition: Petition, threshold: str) -> None:
    _to_creator("threshold_reached", petition, threshold=threshold)
