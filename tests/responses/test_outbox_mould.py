"""A mailing's messages serialised once per language: the same message as built one by one."""

from __future__ import annotations

import email
from email.header import decode_header, make_header
from email.message import Message

import pytest
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend

from responses.models import Mailing, OutboxMessage
from responses.services import outbox
from tests.petitions.conftest import make_petition, make_signature

pytestmark = pytest.mark.django_db


class Recorder:
    """Stands for smtplib.SMTP: keeps what sendmail was given."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[str], bytes]] = []

    def sendmail(self, sender: str, recipients: list[str], data: bytes) -> dict[str, str]:
        self.sent.append((sender, recipients, data))
        return {}


@pytest.fixture
def mailing():
    petition = make_petition(title="Des arbres « partout » & des bancs")
    make_signature(petition, "ada@example.org", wants_updates=True, language="fr")
    make_signature(petition, "ünïcode@exämple.org", wants_updates=True, language="fr")
    mailing = Mailing.objects.create(kind=Mailing.Kind.DEBATE_OUTCOME, petition=petition)
    outbox.fan_out(mailing.pk)
    return mailing


def smtp_backend() -> SMTPBackend:
    backend = SMTPBackend(host="127.0.0.1", port=9)
    backend.connection = Recorder()  # type: ignore[assignment]
    return backend


def decoded(value: object) -> str:
    return " ".join(str(make_header(decode_header(str(value)))).split())


def parts(message: Message) -> dict[str, str]:
    found = {}
    for part in message.walk():
        if not part.is_multipart():
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found[part.get_content_type()] = payload.decode()
    return found


def test_a_copy_from_the_mould_is_the_message_built_one_by_one(mailing):
    row = OutboxMessage.objects.get(email="ada@example.org")
    rendered = outbox.render(mailing, "fr")
    backend = smtp_backend()
    mould = outbox.Mould.make(mailing, rendered, backend)
    assert mould is not None
    assert mould.send(mailing, row, backend) is True
    ((sender, recipients, data),) = backend.connection.sent
    assert recipients == ["ada@example.org"]
    fast = email.message_from_bytes(data)
    built = outbox._message(mailing, row, rendered, backend).message()
    usual = email.message_from_bytes(built.as_bytes(linesep="\r\n"))  # as Django sends it
    assert sender == usual["From"]
    for header in ("Subject", "From", "To", "List-Unsubscribe", "List-Unsubscribe-Post"):
        assert decoded(fast[header]) == decoded(usual[header]), header
    assert fast["X-Agora-Outbox"] == f"{mailing.pk}:{row.pk}"
    assert fast["Message-ID"] != usual["Message-ID"]  # each copy has its own
    assert parts(fast) == parts(usual)
    url = outbox.unsubscribe_url(row.signature_id)
    assert url in parts(fast)["text/plain"]
    assert url in parts(fast)["text/html"]


def test_two_copies_differ_only_by_their_signer(mailing):
    rows = list(OutboxMessage.objects.filter(email__endswith=".org").order_by("pk"))
    backend = smtp_backend()
    mould = outbox.Mould.make(mailing, outbox.render(mailing, "fr"), backend)
    assert mould is not None
    mould.send(mailing, rows[0], backend)
    ids = [email.message_from_bytes(data)["Message-ID"] for _s, _r, data in backend.connection.sent]
    assert len(set(ids)) == len(ids)


def test_a_non_ascii_address_is_built_the_usual_way(mailing):
    row = OutboxMessage.objects.get(email="ünïcode@exämple.org")
    backend = smtp_backend()
    mould = outbox.Mould.make(mailing, outbox.render(mailing, "fr"), backend)
    assert mould is not None
    assert mould.send(mailing, row, backend) is False
    assert backend.connection.sent == []


def test_other_mail_backends_build_each_message(mailing):
    assert outbox.Mould.make(mailing, outbox.render(mailing, "fr"), LocmemBackend()) is None


def test_a_placeholder_cut_by_quoted_printable_falls_back_to_the_usual_way(mailing):
    rendered = outbox.render(mailing, "fr")
    # A line over 998 bytes makes the part quoted-printable, whose soft line breaks (every
    # 76 characters) fall inside the placeholder here.
    long_line = "x" * 1230 + outbox.PLACEHOLDER + "x" * 200
    rendered = outbox.Rendered(rendered.subject, rendered.text + long_line, rendered.html)
    assert outbox.Mould.make(mailing, rendered, smtp_backend()) is None
