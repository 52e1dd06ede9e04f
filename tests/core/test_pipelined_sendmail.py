"""core.mail.pipelined_sendmail against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator

import pytest

from core.mail import envelope_sender, pipelined_sendmail

pytestmark = pytest.mark.smtp

MESSAGE = (
    b"From: Agora <noreply@example.org>\r\nTo: ada@example.org\r\nSubject: Hello\r\n\r\n"
    b"Line one\r\n.a line that starts with a dot\r\n.\r\nLast line\r\n"
)


class Server:
    """An aiosmtpd handler: offers PIPELINING when asked, refuses the addresses it is told
    to, and keeps each message it accepts."""

    def __init__(self, *, pipelining: bool) -> None:
        self.pipelining = pipelining
        self.refuse_senders: dict[str, str] = {}
        self.refuse_recipients: dict[str, str] = {}
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, options):  # noqa: N802
        if address in self.refuse_senders:
            return self.refuse_senders[address]
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        if address in self.refuse_recipients:
            return self.refuse_recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


class Writes:
    """Counts the writes a connection makes: one per round trip it waits on."""

    def __init__(self, connection: smtplib.SMTP) -> None:
        self.count = 0
        send = connection.send

        def counting(data: bytes | str) -> None:
            self.count += 1
            send(data)

        connection.send = counting  # type: ignore[method-assign, assignment]


def serve(handler: Server) -> Iterator[smtplib.SMTP]:
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        connection = smtplib.SMTP("127.0.0.1", port, timeout=10)
        connection.ehlo()  # now, so that the tests count only the writes of their messages
        try:
            yield connection
        finally:
            connection.quit()
    finally:
        controller.stop()


@pytest.fixture
def pipelining() -> Iterator[tuple[Server, smtplib.SMTP]]:
    handler = Server(pipelining=True)
    for connection in serve(handler):
        yield handler, connection


@pytest.fixture
def plain() -> Iterator[tuple[Server, smtplib.SMTP]]:
    handler = Server(pipelining=False)
    for connection in serve(handler):
        yield handler, connection


ENVELOPE = envelope_sender("Agora <noreply@example.org>")


def test_the_envelope_sender_is_the_bare_address_in_angle_brackets():
    assert ENVELOPE == "<noreply@example.org>"
    assert envelope_sender("noreply@example.org") == "<noreply@example.org>"


def test_with_pipelining_a_message_takes_two_writes_and_arrives_whole(pipelining):
    server, connection = pipelining
    writes = Writes(connection)
    pipelined_sendmail(connection, ENVELOPE, "ada@example.org", MESSAGE)
    pipelined_sendmail(connection, ENVELOPE, "bob@example.org", MESSAGE)
    assert writes.count == 4  # the envelope and DATA in one write, then the content
    assert [(sender, recipients) for sender, recipients, _ in server.received] == [
        ("noreply@example.org", ["ada@example.org"]),
        ("noreply@example.org", ["bob@example.org"]),
    ]
    for _sender, _recipients, content in server.received:
        assert content == MESSAGE  # dot-stuffed on the way, unstuffed by the server


def test_without_pipelining_it_is_smtplibs_sendmail(plain):
    server, connection = plain
    writes = Writes(connection)
    pipelined_sendmail(connection, ENVELOPE, "ada@example.org", MESSAGE)
    assert writes.count == 4  # MAIL, RCPT, DATA, the content: a round trip each
    assert server.received == [("noreply@example.org", ["ada@example.org"], MESSAGE)]


@pytest.mark.parametrize("reply", ["550 5.1.1 No such user", "450 4.2.1 Mailbox busy"])
def test_a_refused_recipient_raises_as_sendmail_does_and_the_next_message_goes(pipelining, reply):
    server, connection = pipelining
    server.refuse_recipients["gone@example.org"] = reply
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        pipelined_sendmail(connection, ENVELOPE, "gone@example.org", MESSAGE)
    ((code, _text),) = refused.value.recipients.values()
    assert code == int(reply[:3])
    pipelined_sendmail(connection, ENVELOPE, "ada@example.org", MESSAGE)
    assert [recipients for _s, recipients, _c in server.received] == [["ada@example.org"]]


def test_a_refused_sender_raises_as_sendmail_does_and_the_next_message_goes(pipelining):
    server, connection = pipelining
    server.refuse_senders["noreply@example.org"] = "553 5.7.1 Sender not allowed"
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        pipelined_sendmail(connection, ENVELOPE, "ada@example.org", MESSAGE)
    assert refused.value.smtp_code == 553
    assert server.received == []
    pipelined_sendmail(connection, "<other@example.org>", "ada@example.org", MESSAGE)
    assert [sender for sender, _r, _c in server.received] == ["other@example.org"]


def test_a_message_without_a_final_line_break_is_ended_properly(pipelining):
    server, connection = pipelining
    pipelined_sendmail(connection, ENVELOPE, "ada@example.org", MESSAGE.rstrip(b"\r\n"))
    ((_sender, _recipients, content),) = server.received
    assert content == MESSAGE
