"""Signature emails serialised once per batch: each copy is the message Django would build."""

from __future__ import annotations

import email
import socket
from email.message import Message

import pytest
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend

from petitions.models import Signature
from petitions.services import signature_mail
from tests.messages import decoded, parts
from tests.petitions.conftest import make_petition, make_signature

pytestmark = pytest.mark.django_db

DUE = Signature.EmailDue


class Connection:
    """Stands for smtplib.SMTP to a server without PIPELINING: answers each step and keeps
    each message as ``sendmail`` would have been given it (tests/core/test_smtp.py talks to
    a real server)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[str], bytes]] = []
        self.sender = ""
        self.replies: list[tuple[int, bytes]] = []

    def ehlo_or_helo_if_needed(self) -> None:
        pass

    def has_extn(self, name: str) -> bool:
        return False

    def mail(self, sender: str, options: list[str]) -> tuple[int, bytes]:
        self.sender = sender
        return 250, b"OK"

    def rcpt(self, recipient: str) -> tuple[int, bytes]:
        self.recipient = recipient
        return 250, b"OK"

    def putcmd(self, command: str) -> None:
        self.replies.append((354, b"go ahead"))

    def send(self, data: bytes) -> None:
        assert data.endswith(b"\r\n.\r\n")  # the content and its final dot, in one write
        content = b"\r\n" + data[: -len(b".\r\n")]
        self.sent.append((self.sender, [self.recipient], content.replace(b"\r\n..", b"\r\n.")[2:]))
        self.replies.append((250, b"OK"))

    def getreply(self) -> tuple[int, bytes]:
        return self.replies.pop(0)


def smtp_backend() -> SMTPBackend:
    backend = SMTPBackend(host="127.0.0.1", port=9)
    backend.connection = Connection()  # type: ignore[assignment]
    return backend


def signature(language="fr", title="Des arbres « partout » & des bancs", **fields):
    petition = make_petition(title=title, language=language)
    fields.setdefault("email", "ada@example.org")
    return make_signature(
        petition,
        fields.pop("email"),
        language=language,
        state=Signature.State.PENDING,
        email_due=fields.pop("due", DUE.CONFIRMATION),
        **fields,
    )


def moulded(row: Signature) -> tuple[signature_mail.Rendered, SMTPBackend, signature_mail.Mould]:
    """The row's rendered email, a backend recording what it sends, and their mould."""
    rendered = signature_mail._rendered(row, row.petition)
    backend = smtp_backend()
    mould = signature_mail.Mould.make(rendered, backend)
    assert mould is not None
    return rendered, backend, mould


def copies(row: Signature) -> tuple[tuple[str, list[str], bytes], Message]:
    """The copy sent through the mould, and the message Django builds for the same row."""
    rendered, backend, mould = moulded(row)
    assert mould.send(row, backend) is True
    (sent,) = backend.connection.sent  # type: ignore[union-attr]
    built = signature_mail._message(row, rendered, backend).message()
    return sent, email.message_from_bytes(built.as_bytes(linesep="\r\n"))


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("due", [DUE.CONFIRMATION, DUE.ALREADY_SIGNED])
@pytest.mark.parametrize(
    "name",
    ["Ada Lovelace", "Zoé Ünal-Ørsted", 'Tom & "Jerry" <b>', "AGORAHTMLNAMEPLACEHOLDER x"],
)
def test_a_copy_is_the_message_django_builds(language, due, name):
    row = signature(language, name=name, due=due)
    (sender, recipients, data), usual = copies(row)
    fast = email.message_from_bytes(data)
    assert sender == usual["From"]
    assert recipients == ["ada@example.org"]
    for header in ("Subject", "From", "To", "MIME-Version", "Content-Type"):
        assert decoded(fast[header]).split(";")[0] == decoded(usual[header]).split(";")[0]
    assert fast["Message-ID"] != usual["Message-ID"]
    assert fast["Date"]
    assert parts(fast) == parts(usual)
    assert [part["Content-Transfer-Encoding"] for part in fast.walk()] == [
        part["Content-Transfer-Encoding"] for part in usual.walk()
    ]


def test_each_copy_has_its_own_message_id():
    row = signature()
    _rendered, backend, mould = moulded(row)
    for _ in range(3):
        mould.send(row, backend)
    ids = {email.message_from_bytes(data)["Message-ID"] for _s, _r, data in backend.connection.sent}
    assert len(ids) == 3


@pytest.mark.parametrize(
    ("fields", "title"),
    [
        ({"email": "ünïcode@exämple.org"}, "Trees"),
        ({"email": '"quoted local"@example.org'}, "Trees"),
        ({"name": "Zoé"}, "Trees"),  # an English message in ASCII is 7bit: no room for é
        ({"name": "Tab\there"}, "Trees"),
    ],
)
def test_other_signers_get_a_message_built_the_usual_way(fields, title):
    row = signature("en", title=title, **fields)
    _rendered, backend, mould = moulded(row)
    assert mould.send(row, backend) is False
    assert backend.connection.sent == []


def test_other_mail_backends_build_each_message():
    row = signature()
    rendered = signature_mail._rendered(row, row.petition)
    assert signature_mail.Mould.make(rendered, LocmemBackend()) is None


def test_a_placeholder_cut_by_quoted_printable_means_no_mould():
    row = signature()
    rendered = signature_mail._rendered(row, row.petition)
    long_line = "x" * 1230 + signature_mail.NAME + "x" * 200
    rendered = signature_mail.Rendered(rendered.subject, rendered.text + long_line, rendered.html)
    assert signature_mail.Mould.make(rendered, smtp_backend()) is None


def test_the_sender_sends_a_batch_through_one_mould_and_releases_every_row(monkeypatch):
    rows = [signature(email=f"signer{n}@example.org", name=f"Signer {n}") for n in range(3)]
    backend = smtp_backend()
    monkeypatch.setattr(backend, "open", lambda: None)
    monkeypatch.setattr(backend, "close", lambda: None)
    monkeypatch.setattr(signature_mail, "get_connection", lambda: backend)
    assert signature_mail.send_batch() == 3
    sent = backend.connection.sent
    assert sorted(recipients[0] for _s, recipients, _d in sent) == [row.email for row in rows]
    for _sender, (address,), data in sent:
        row = next(row for row in rows if row.email == address)
        assert row.token.encode() in data
        assert row.name.encode() in data
    assert not Signature.objects.exclude(email_due="").exists()


def test_a_line_too_long_for_the_parts_encoding_is_built_the_usual_way():
    row = signature()
    _rendered, backend, mould = moulded(row)
    row.name = "x" * 1000  # Django would encode this part in quoted-printable
    assert mould.send(row, backend) is False
    assert backend.connection.sent == []


class Recorder:
    """An aiosmtpd handler that keeps each message it accepts."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook)
        self.received.append((list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


@pytest.mark.smtp
def test_a_batch_reaches_a_real_smtp_server_moulded_or_built(settings, monkeypatch):
    from aiosmtpd.controller import Controller

    moulded: list[str] = []
    send = signature_mail.Mould.send

    def recording_send(mould, row, smtp):
        if send(mould, row, smtp):
            moulded.append(row.email)
            return True
        return False

    monkeypatch.setattr(signature_mail.Mould, "send", recording_send)

    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        petition = make_petition(title="Trees", language="en")
        rows = [
            make_signature(petition, address, name=name, language="en", email_due=DUE.CONFIRMATION)
            for address, name in [("ada@example.org", "Ada"), ("zoe@example.org", "Zoé")]
        ]
        assert signature_mail.send_batch() == 2
        assert moulded == ["ada@example.org"]  # Zoé needs 8bit: her message is built
    finally:
        controller.stop()
    assert sorted(recipients for recipients, _data in recorder.received) == [
        ["ada@example.org"],
        ["zoe@example.org"],
    ]
    for row in rows:
        (data,) = [data for recipients, data in recorder.received if recipients == [row.email]]
        message = email.message_from_bytes(data)
        assert decoded(message["To"]) == row.email
        text = parts(message)["text/plain"]
        assert f"Hello {row.name}," in text
        assert row.token in text
    assert not Signature.objects.exclude(email_due="").exists()
