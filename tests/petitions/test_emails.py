"""Every petition email renders in English and French, as text and HTML, with its link."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from petitions import notifications
from petitions.models import Petition, Signature
from petitions.services import signature_mail
from tests.factories import UserFactory
from tests.petitions.conftest import make_petition, make_signature

pytestmark = pytest.mark.django_db

TITLE = 'Trees & "parks" for <every> town'


def url(name: str, *args: Any) -> str:
    return f"{settings.SITE_URL}{reverse(name, args=args)}"


def _petition(language: str, **fields: Any) -> Petition:
    creator = UserFactory(preferred_language=language, display_name="Zoé")
    return make_petition(creator=creator, title=TITLE, **fields)


def _signature(petition: Petition, language: str, **fields: Any) -> Signature:
    return make_signature(petition, "signer@example.org", language=language, **fields)


# Each case: send the email, and return the address that must appear in it.
def _deliver(signature: Signature, due: str) -> None:
    """As signing does: mark the email due on the row; then run the sender."""
    Signature.objects.filter(pk=signature.pk).update(email_due=due)
    signature_mail.send_due()


def confirmation(language: str) -> str:
    signature = _signature(_petition(language), language, state=Signature.State.PENDING)
    _deliver(signature, Signature.EmailDue.CONFIRMATION)
    return url("petitions:confirm", signature.token)


def supporter_confirmation(language: str) -> str:
    petition = _petition(language, state=Petition.State.COLLECTING_SUPPORTERS)
    signature = _signature(petition, language, state=Signature.State.PENDING, is_supporter=True)
    _deliver(signature, Signature.EmailDue.CONFIRMATION)
    return url("petitions:confirm", signature.token)


def already_signed(language: str) -> str:
    signature = _signature(_petition(language), language)
    _deliver(signature, Signature.EmailDue.ALREADY_SIGNED)
    return url("petitions:withdraw", signature.token)


def created(language: str) -> str:
    petition = _petition(language, state=Petition.State.COLLECTING_SUPPORTERS)
    notifications.petition_created(petition)
    return url("petitions:support", petition.supporter_token)


def awaiting_moderation(language: str) -> str:
    petition = _petition(language, state=Petition.State.AWAITING_MODERATION)
    notifications.petition_awaiting_moderation(petition)
    return url("petitions:detail", petition.pk)


def opened(language: str) -> str:
    petition = _petition(language)
    notifications.petition_opened(petition)
    return url("petitions:detail", petition.pk)


def rejected(language: str) -> str:
    petition = _petition(
        language,
        state=Petition.State.REJECTED,
        rejection_reason=Petition.RejectionReason.DUPLICATE,
        rejection_details="See petition 12.",
    )
    notifications.petition_rejected(petition)
    return url("petitions:detail", petition.pk)


def rejected_with_hidden_text(language: str) -> str:
    petition = _petition(
        language,
        state=Petition.State.REJECTED,
        rejection_reason=Petition.RejectionReason.OFFENSIVE,
    )
    notifications.petition_rejected(petition)
    return url("petitions:create")


def closed(language: str) -> str:
    petition = _petition(language, state=Petition.State.CLOSED, signature_count=12_345)
    notifications.petition_closed(petition)
    return url("petitions:detail", petition.pk)


def response_threshold(language: str) -> str:
    petition = _petition(language, response_threshold=10_000)
    notifications.threshold_reached(petition, "response")
    return url("petitions:detail", petition.pk)


def consideration_threshold(language: str) -> str:
    petition = _petition(language, consideration_threshold=100_000)
    notifications.threshold_reached(petition, "consideration")
    return url("petitions:detail", petition.pk)


CASES: list[Callable[[str], str]] = [
    confirmation,
    supporter_confirmation,
    already_signed,
    created,
    awaiting_moderation,
    opened,
    rejected,
    rejected_with_hidden_text,
    closed,
    response_threshold,
    consideration_threshold,
]


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("send", CASES, ids=[case.__name__ for case in CASES])
def test_every_petition_email_renders_with_its_link_in_text_and_html(
    send, language, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        link = send(language)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject
    assert "\n" not in message.subject
    assert TITLE in message.subject
    assert link in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{link}"' in html
    assert f'<html lang="{language}">' in html
    assert "{%" not in message.body
    assert "{{" not in message.body
    assert "{%" not in html
    assert "{{" not in html


def test_the_plain_text_and_the_subject_are_not_html_escaped(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created("en")
    message = mail.outbox[0]
    assert TITLE in message.subject
    assert TITLE in message.body
    html = message.alternatives[0][0]
    assert "Trees &amp; &quot;parks&quot; for &lt;every&gt; town" in html
    assert "<every>" not in html


def test_the_confirmation_links_the_withdrawal_and_says_to_ignore_it_if_not_you(
    django_capture_on_commit_callbacks,
):
    petition = _petition("en")
    signature = _signature(petition, "en", state=Signature.State.PENDING)
    _deliver(signature, Signature.EmailDue.CONFIRMATION)
    body = mail.outbox[0].body
    assert url("petitions:withdraw", signature.token) in body
    assert "If you did not sign this petition" in body
    assert mail.outbox[0].to == ["signer@example.org"]


def test_the_rejection_email_gives_the_reason_and_the_details(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        rejected("en")
    body = mail.outbox[0].body
    assert str(Petition.RejectionReason.DUPLICATE.label) in body
    assert "See petition 12." in body


def test_creator_emails_go_to_the_creator_in_their_language(django_capture_on_commit_callbacks):
    petition = _petition("fr")
    with django_capture_on_commit_callbacks(execute=True):
        notifications.petition_opened(petition)
    message = mail.outbox[0]
    assert message.to == [petition.creator.email]
    assert '<html lang="fr">' in message.alternatives[0][0]


def test_creators_who_opted_out_get_no_petition_news(django_capture_on_commit_callbacks):
    petition = _petition("en")
    petition.creator.notify_petition_updates = False
    with django_capture_on_commit_callbacks(execute=True):
        notifications.petition_opened(petition)
    assert mail.outbox == []


def test_the_opened_email_gives_the_thresholds_with_grouped_digits(
    django_capture_on_commit_callbacks,
):
    petition = _petition("en", response_threshold=10_000, consideration_threshold=100_000)
    with django_capture_on_commit_callbacks(execute=True):
        notifications.petition_opened(petition)
    body = mail.outbox[0].body
    assert "10,000" in body
    assert "100,000" in body
