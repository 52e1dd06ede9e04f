"""A mailing's messages serialised once per language: the same message as built one by one."""

from __future__ import annotations

import email
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend

from responses.models import Mailing, OutboxMessage
from responses.services import outbox
from tests.messages import decoded, parts
from tests.petitions.conftest import make_petition, make_signature

pytestmark = pytest.mark.django_db


class Recorder:
    """Stands for smtplib.SMTP: answers each step, keeps what was sent, and can refuse the
    message at its final dot with ``final`` (code, text)."""

    def __init__(self, final: tuple[int, bytes] = (250, b"OK")) -> None:
        self.sent: list[tuple[str, list[str], bytes]] = []
        self.final = final
        self.sender = ""
        self.recipients: list[str] = []
        self.buffer = b""
        self.replies: list[tuple[int, bytes]] = []
        self.pending_at_dot: list[str] = []  # the row's state seen when the dot was sent
        self.at_final_reply: list[tuple[bool, str]] = []  # (no open transaction, state)

    def ehlo_or_helo_if_needed(self) -> None:
        pass

    def has_extn(self, name: str) -> bool:
        return False  # no PIPELINING: each step answered on its own

    def mail(self, sender: str, options: list[str]) -> tuple[int, bytes]:
        self.sender = sender
        return 250, b"OK"

    def rcpt(self, recipient: str) -> tuple[int, bytes]:
        self.recipients = [recipient]
        return 250, b"OK"

    def putcmd(self, command: str) -> None:
        assert command == "data"
        self.replies.append((354, b"go ahead"))

    def send(self, data: bytes) -> None:
        if data == b".\r\n":
            self.pending_at_dot.append(OutboxMessage.objects.get(email=self.recipients[0]).state)
            self.replies.append(self.final)
            if self.final[0] == 250:
                body = self.buffer.replace(b"\r\n..", b"\r\n.")
                self.sent.append((self.sender, self.recipients, body))
            self.buffer = b""
        else:
            self.buffer += data

    def getreply(self) -> tuple[int, bytes]:
        code, text = self.replies.pop(0)
        if code != 354:  # the answer to the final dot: where the row stands while it travels
            from django.db import connection

            state = OutboxMessage.objects.get(email=self.recipients[0]).state
            self.at_final_reply.append((idle(connection), state))
        return code, text

    def rset(self) -> None:
        pass


@pytest.fixture
def mailing():
    petition = make_petition(title="Des arbres « partout » & des bancs")
    make_signature(petition, "ada@example.org", wants_updates=True, language="fr")
    make_signature(petition, "ünïcode@exämple.org", wants_updates=True, language="fr")
    mailing = Mailing.objects.create(kind=Mailing.Kind.DEBATE_OUTCOME, petition=petition)
    outbox.fan_out(mailing.pk)
    return mailing


def smtp_backend(recorder: Recorder | None = None) -> SMTPBackend:
    backend = SMTPBackend(host="127.0.0.1", port=9)
    backend.connection = recorder or Recorder()  # type: ignore[assignment]
    return backend


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
    # the row's own, whichever way it is built, and the same at every attempt
    host = urlsplit(settings.SITE_URL).hostname
    assert fast["Message-ID"] == usual["Message-ID"] == f"<outbox.{mailing.pk}.{row.pk}@{host}>"
    assert parts(fast) == parts(usual)
    url = outbox.unsubscribe_url(row.signature_id)
    assert url in parts(fast)["text/plain"]
    assert url in parts(fast)["text/html"]


def test_two_copies_differ_only_by_their_signer(mailing):
    signature = make_signature(mailing.petition, "grace@example.org", language="fr")
    OutboxMessage.objects.create(
        mailing=mailing,
        signature=signature,
        email=signature.email,
        email_normalised=signature.email_normalised,
        language="fr",
    )
    rows = [row for row in OutboxMessage.objects.order_by("pk") if row.email.isascii()]
    backend = smtp_backend()
    mould = outbox.Mould.make(mailing, outbox.render(mailing, "fr"), backend)
    assert mould is not None
    for row in rows:
        mould.send(mailing, row, backend)
    ids = [email.message_from_bytes(data)["Message-ID"] for _s, _r, data in backend.connection.sent]
    assert len(ids) == len(rows) > 1
    assert len(set(ids)) == len(ids)  # each row its own


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


def test_the_row_is_marked_sent_in_the_same_breath_as_the_server_accepts(mailing):
    row = OutboxMessage.objects.get(email="ada@example.org")
    recorder = Recorder()
    backend = smtp_backend(recorder)
    rendered = outbox.render(mailing, "fr")
    outbox._send_one(mailing, row, rendered, backend, outbox.Mould.make(mailing, rendered, backend))
    # The UPDATE was made (in the open transaction) before the final dot went out...
    assert recorder.pending_at_dot == [OutboxMessage.State.SENT]
    # ...and stands once the server said 250.
    row.refresh_from_db()
    assert row.state == OutboxMessage.State.SENT
    assert len(recorder.sent) == 1


def test_a_message_refused_at_its_final_dot_for_good_is_recorded_failed(mailing):
    row = OutboxMessage.objects.get(email="ada@example.org")
    backend = smtp_backend(Recorder(final=(554, b"rejected")))
    rendered = outbox.render(mailing, "fr")
    outbox._send_one(mailing, row, rendered, backend, outbox.Mould.make(mailing, rendered, backend))
    row.refresh_from_db()
    assert row.state == OutboxMessage.State.FAILED
    assert "554" in row.error


def test_a_message_refused_for_now_stays_pending_for_a_retry(mailing):
    row = OutboxMessage.objects.get(email="ada@example.org")
    backend = smtp_backend(Recorder(final=(451, b"try later")))
    rendered = outbox.render(mailing, "fr")
    mould = outbox.Mould.make(mailing, rendered, backend)
    with pytest.raises(outbox.TransientMailError):
        outbox._send_one(mailing, row, rendered, backend, mould)
    row.refresh_from_db()
    assert row.state == OutboxMessage.State.PENDING  # the mark was put back


def idle(connection) -> bool:
    """No transaction left open on the server (psycopg2 asked; other databases: True)."""
    raw = connection.connection
    if connection.vendor != "postgresql" or raw is None:
        return True
    return raw.get_transaction_status() == 0  # psycopg2's TRANSACTION_STATUS_IDLE


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("final", "state"), [((250, b"OK"), "sent"), ((451, b"later"), "pending")])
def test_outside_a_transaction_the_mark_is_committed_at_the_dot_and_put_back_on_a_refusal(
    mailing, final, state
):
    # Outside any transaction (as in a worker), PostgreSQL gets BEGIN with the UPDATE.
    from django.db import connection

    row = OutboxMessage.objects.get(email="ada@example.org")
    recorder = Recorder(final=final)
    backend = smtp_backend(recorder)
    rendered = outbox.render(mailing, "fr")
    mould = outbox.Mould.make(mailing, rendered, backend)
    assert not connection.in_atomic_block
    if final[0] == 250:
        outbox._send_one(mailing, row, rendered, backend, mould)
    else:
        with pytest.raises(outbox.TransientMailError):
            outbox._send_one(mailing, row, rendered, backend, mould)
    assert recorder.pending_at_dot == [OutboxMessage.State.SENT]  # marked before the dot
    # ...and committed before the server's answer was read, whatever the answer
    assert recorder.at_final_reply == [(True, OutboxMessage.State.SENT)]
    assert idle(connection)
    row.refresh_from_db()
    assert row.state == state
    assert OutboxMessage.objects.filter(state="sent").count() == (state == "sent")
