"""core.mail.send_message and start_data against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from contextlib import suppress

import pytest

from core.mail import dot_stuffed, send_message, start_data

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


SENDER = "Agora <noreply@example.org>"  # as Django's backend gives it


def test_with_pipelining_a_message_takes_two_writes_and_arrives_whole(pipelining):
    server, connection = pipelining
    writes = Writes(connection)
    send_message(connection, SENDER, "ada@example.org", MESSAGE)
    send_message(connection, SENDER, "bob@example.org", MESSAGE)
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
    send_message(connection, SENDER, "ada@example.org", MESSAGE)
    assert writes.count == 4  # MAIL, RCPT, DATA, the content: a round trip each
    assert server.received == [("noreply@example.org", ["ada@example.org"], MESSAGE)]


@pytest.mark.parametrize("reply", ["550 5.1.1 No such user", "450 4.2.1 Mailbox busy"])
def test_a_refused_recipient_raises_as_sendmail_does_and_the_next_message_goes(pipelining, reply):
    server, connection = pipelining
    server.refuse_recipients["gone@example.org"] = reply
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send_message(connection, SENDER, "gone@example.org", MESSAGE)
    ((code, _text),) = refused.value.recipients.values()
    assert code == int(reply[:3])
    send_message(connection, SENDER, "ada@example.org", MESSAGE)
    assert [recipients for _s, recipients, _c in server.received] == [["ada@example.org"]]


def test_a_refused_sender_raises_as_sendmail_does_and_the_next_message_goes(pipelining):
    server, connection = pipelining
    server.refuse_senders["noreply@example.org"] = "553 5.7.1 Sender not allowed"
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        send_message(connection, SENDER, "ada@example.org", MESSAGE)
    assert refused.value.smtp_code == 553
    assert server.received == []
    send_message(connection, "other@example.org", "ada@example.org", MESSAGE)
    assert [sender for sender, _r, _c in server.received] == ["other@example.org"]


def test_a_message_without_a_final_line_break_is_ended_properly(pipelining):
    server, connection = pipelining
    send_message(connection, SENDER, "ada@example.org", MESSAGE.rstrip(b"\r\n"))
    ((_sender, _recipients, content),) = server.received
    assert content == MESSAGE


def test_without_pipelining_a_refused_recipient_raises_and_the_next_message_goes(plain):
    server, connection = plain
    server.refuse_recipients["gone@example.org"] = "550 5.1.1 No such user"
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send_message(connection, SENDER, "gone@example.org", MESSAGE)
    send_message(connection, SENDER, "ada@example.org", MESSAGE)
    assert [recipients for _s, recipients, _c in server.received] == [["ada@example.org"]]


def test_asked_not_to_pipeline_it_takes_each_step_even_when_offered(pipelining):
    server, connection = pipelining
    writes = Writes(connection)
    start_data(connection, SENDER, "ada@example.org", len(MESSAGE), pipelining=False)
    assert writes.count == 3  # MAIL, RCPT and DATA, each waiting for its reply
    connection.send(dot_stuffed(MESSAGE) + b".\r\n")
    assert connection.getreply()[0] == 250
    assert server.received == [("noreply@example.org", ["ada@example.org"], MESSAGE)]


@pytest.mark.parametrize(
    ("sender", "recipient"),
    [
        (SENDER, "ada@example.org\r\nRCPT TO:<eve@example.org>"),
        ("ada@example.org\r\nRCPT TO:<eve@example.org>", "bob@example.org"),
    ],
)
def test_an_address_with_a_line_break_cannot_add_a_command(pipelining, sender, recipient):
    server, connection = pipelining
    with suppress(ValueError):  # smtplib refuses the line break, or parses the address out
        send_message(connection, sender, recipient, MESSAGE)
    assert all("eve@example.org" not in recipients for _s, recipients, _c in server.received)


def test_an_address_that_needs_quoting_takes_smtplibs_steps(pipelining):
    server, connection = pipelining
    writes = Writes(connection)
    send_message(connection, SENDER, '"ada lovelace"@example.org', MESSAGE)
    assert writes.count == 4  # not pipelined: smtplib quotes what it sends
    assert server.received == [("noreply@example.org", ['"ada lovelace"@example.org'], MESSAGE)]
