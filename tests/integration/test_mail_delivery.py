"""Email leaves through the `mail` queue: a real worker delivers it to a real SMTP server."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.sites.models import Site
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import User
from core.mail import queue_message
from tests.integration.conftest import SMTPRecorder, WorkerProcess

pytestmark = [pytest.mark.worker, pytest.mark.smtp, pytest.mark.django_db(transaction=True)]

EMAIL = "camille.martin@example.org"
PASSWORD = "correct-horse-battery-77"
CONFIRM_URL = re.compile(r"https?://[^/\s]+(/accounts/confirm-email/[-:\w]+/)")


def _french(msgid: str, **values: str) -> str:
    with translation.override("fr"):
        translated = gettext(msgid) % values
    assert translated != msgid % values, f"no French translation for {msgid!r}"
    return translated


def test_signing_up_in_french_sends_a_french_verification_email_whose_link_verifies_the_account(
    client: Client, celery_worker: WorkerProcess, smtp_server: SMTPRecorder
) -> None:
    response = client.post(
        reverse("account_signup"),
        {
            "email": EMAIL,
            "display_name": "Camille Martin",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user = User.objects.get(email=EMAIL)
    assert user.preferred_language == "fr"
    assert not EmailAddress.objects.get(user=user, email=EMAIL).verified

    [mail] = smtp_server.wait_for_messages(1, timeout=30)
    assert mail.recipients == [EMAIL]
    assert mail.message["To"] == EMAIL
    assert mail.subject == settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + _french(
        "Please Confirm Your Email Address"
    )
    body = mail.text()
    match = CONFIRM_URL.search(body)
    assert match, f"no confirmation link in:\n{body}"
    activate_url = match.group(0)
    assert (
        _french("To confirm this is correct, go to %(activate_url)s", activate_url=activate_url)
        in body
    )
    site_name = Site.objects.get_current().name
    greeting = _french("Hello from %(site_name)s!", site_name=site_name)
    assert greeting in body, "the greeting must name the site (allauth's `current_site`)"

    confirm_path = match.group(1)
    page = client.get(confirm_path, HTTP_ACCEPT_LANGUAGE="fr")
    assert page.status_code == 200, page.content.decode()[:3000]
    assert EMAIL in page.content.decode()
    confirmed = client.post(confirm_path, HTTP_ACCEPT_LANGUAGE="fr")
    assert confirmed.status_code == 302
    assert EmailAddress.objects.get(user=user, email=EMAIL).verified

    client.logout()
    login = client.post(reverse("account_login"), {"login": EMAIL, "password": PASSWORD})
    assert login.status_code == 302, login.content.decode()[:3000]
    assert client.session.get("_auth_user_id") == str(user.pk)


def test_a_message_queued_in_a_rolled_back_transaction_is_never_sent(
    celery_worker: WorkerProcess, smtp_server: SMTPRecorder
) -> None:
    rolled_back = f"rolled back {uuid.uuid4().hex}"
    committed = f"committed {uuid.uuid4().hex}"
    with transaction.atomic():
        queue_message(EmailMessage(rolled_back, "Never sent.", to=["nobody@example.org"]))
        transaction.set_rollback(True)
    queue_message(EmailMessage(committed, "Sent.", to=["somebody@example.org"]))

    smtp_server.wait_for_subject(committed, timeout=30)
    time.sleep(3)  # the rolled-back message, had it been enqueued, was enqueued first
    assert [m.subject for m in smtp_server.messages if m.subject == rolled_back] == []


def test_a_committed_message_is_delivered_once_as_text_and_html_with_accents_intact(
    celery_worker: WorkerProcess, smtp_server: SMTPRecorder
) -> None:
    subject = f"Votre pétition a été publiée {uuid.uuid4().hex}"
    message = EmailMultiAlternatives(
        subject,
        "Bonjour Zoé, votre pétition « Arbres en ville » est publiée.",
        to=["zoe@example.org"],
    )
    message.attach_alternative(
        "<p>Bonjour Zoé, votre pétition <strong>« Arbres en ville »</strong> est publiée.</p>",
        "text/html",
    )
    with transaction.atomic():
        queue_message(message)

    mail = smtp_server.wait_for_subject(subject, timeout=30)
    assert mail.recipients == ["zoe@example.org"]
    assert mail.message.get_content_type() == "multipart/alternative"
    assert "votre pétition « Arbres en ville » est publiée" in mail.text()
    assert "<strong>« Arbres en ville »</strong>" in mail.html()
    time.sleep(2)
    assert len([m for m in smtp_server.messages if m.subject == subject]) == 1
