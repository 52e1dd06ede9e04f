import smtplib

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from core.mail import message_from_dict, message_to_dict, queue_message
from core.tasks import send_email


def _message():
    message = EmailMultiAlternatives(
        subject="Réponse officielle",
        body="Texte",
        from_email="Agora <noreply@example.org>",
        to=["a@example.org"],
        headers={"List-Unsubscribe": "<https://example.org/u/1>"},
    )
    message.attach_alternative("<p>Texte</p>", "text/html")
    return message


def test_a_message_survives_the_round_trip_through_json():
    import json

    data = json.loads(json.dumps(message_to_dict(_message())))
    again = message_from_dict(data)
    assert again.subject == "Réponse officielle"
    assert again.to == ["a@example.org"]
    assert again.alternatives[0][1] == "text/html"
    assert again.extra_headers["List-Unsubscribe"] == "<https://example.org/u/1>"


@pytest.mark.django_db
def test_queued_messages_are_sent_only_after_the_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queue_message(_message())
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert [m.subject for m in mail.outbox] == ["Réponse officielle"]


def test_a_refused_recipient_is_dropped_without_retrying(monkeypatch):
    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPRecipientsRefused({"a@example.org": (550, b"no such user")})

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    result = send_email.apply(args=[message_to_dict(_message())])
    assert result.successful()  # no exception, no retry


def test_a_disconnected_server_is_retried_later(monkeypatch):
    calls = []

    def disconnect(self, *args, **kwargs):
        calls.append(1)
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(EmailMultiAlternatives, "send", disconnect)
    with pytest.raises(Retry):  # in eager mode the retry surfaces instead of being scheduled
        send_email.apply(args=[message_to_dict(_message())], throw=True)
    assert len(calls) == 1
