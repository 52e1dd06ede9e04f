"""Email: messages are built in the request, serialised to JSON, and sent by the `mail` queue.

No email is ever sent inside a request or a transaction: ``queue_email`` enqueues the
``core.tasks.send_email`` task after commit, and a worker delivers it.
"""

from __future__ import annotations

import functools
import re
import smtplib
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from core.background import enqueue_on_commit


def temporary(refused: smtplib.SMTPRecipientsRefused) -> bool:
    """A 4xx refusal (greylisting, a mailbox full for now) is worth retrying; a 5xx is not."""
    codes = [code for code, _message in refused.recipients.values()]
    return bool(codes) and all(400 <= code < 500 for code in codes)


LEADING_DOT = re.compile(rb"(?m)^\.")  # SMTP's dot-stuffing (RFC 5321 4.5.2)
# An address that goes into SMTP and headers as it is, with nothing to quote or encode.
PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def start_data(
    connection: smtplib.SMTP, sender: str, recipient: str, size: int, *, pipelining: bool = True
) -> None:
    """Open one message to one recipient, up to the server's 354: the caller then sends
    ``dot_stuffed(data)``, the final dot, and reads the server's answer to it.

    ``sender`` as Django's SMTP backend gives it (``sanitize_address``: an address, or
    "Name <address>"); ``recipient`` an address; ``size`` the message's length. When the
    server offers PIPELINING (RFC 2920; Postfix and Exim do) and the recipient is a
    ``PLAIN_ADDRESS``, MAIL, RCPT and DATA go in one write and their three replies are read
    together: one round trip instead of three. Otherwise, or with ``pipelining=False``,
    smtplib's three steps. Refusals raise smtplib's exceptions, as ``sendmail`` does, after
    an RSET.
    """
    connection.ehlo_or_helo_if_needed()
    options = [f"SIZE={size}"] if connection.has_extn("size") else []
    if not (
        pipelining and connection.has_extn("pipelining") and PLAIN_ADDRESS.fullmatch(recipient)
    ):  # smtplib's steps quote the address and refuse line breaks
        replies = [connection.mail(sender, options)]
        if replies[0][0] == 250:
            replies.append(connection.rcpt(recipient))
            if replies[1][0] in (250, 251):
                connection.putcmd("data")
                replies.append(connection.getreply())
    else:
        mail = " ".join([f"MAIL FROM:{_quoted(sender)}", *options])
        connection.send(f"{mail}\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode())
        replies = [connection.getreply(), connection.getreply(), connection.getreply()]
        if replies[2][0] == 354 and (replies[0][0] != 250 or replies[1][0] not in (250, 251)):
            connection.send(b".\r\n")  # a server that took DATA without a recipient: end it
            connection.getreply()
    codes = [code for code, _text in replies]
    if len(codes) == 3 and codes[0] == 250 and codes[1] in (250, 251) and codes[2] == 354:
        return
    connection.rset()
    if codes[0] != 250:
        raise smtplib.SMTPSenderRefused(*replies[0], sender)
    if codes[1] not in (250, 251):
        raise smtplib.SMTPRecipientsRefused({recipient: replies[1]})
    raise smtplib.SMTPDataError(*replies[2])


@functools.lru_cache(maxsize=64)
def _quoted(sender: str) -> str:
    """ "<address>", parsed once per sender; line breaks refused as smtplib refuses them."""
    quoted = smtplib.quoteaddr(sender)
    if "\r" in quoted or "\n" in quoted:
        raise ValueError(f"a line break in the sender's address: {sender!r}")
    return quoted


def dot_stuffed(data: bytes) -> bytes:
    """A message's content as it travels after DATA, ending with a line break."""
    body = LEADING_DOT.sub(b"..", data)
    return body if body.endswith(b"\r\n") else body + b"\r\n"


def send_message(connection: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> None:
    """Send one message to one recipient as ``connection.sendmail`` does, pipelined when
    the server allows (``start_data``): two round trips instead of four. ``data`` is the
    whole message with CRLF line endings."""
    start_data(connection, sender, recipient, len(data))
    connection.send(dot_stuffed(data) + b".\r\n")
    code, reply = connection.getreply()
    if code != 250:
        connection.rset()
        raise smtplib.SMTPDataError(code, reply)


def message_to_dict(message: EmailMessage) -> dict[str, Any]:
    """The JSON form of a message, as carried by the broker."""
    alternatives = getattr(message, "alternatives", [])
    return {
        "subject": str(message.subject),
        "body": str(message.body),
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": dict(message.extra_headers),
        "alternatives": [[str(content), mimetype] for content, mimetype in alternatives],
    }


def message_from_dict(data: dict[str, Any]) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=data["subject"],
        body=data["body"],
        from_email=data.get("from_email") or settings.DEFAULT_FROM_EMAIL,
        to=data.get("to", []),
        cc=data.get("cc", []),
        bcc=data.get("bcc", []),
        reply_to=data.get("reply_to", []),
        headers=data.get("headers", {}),
    )
    for content, mimetype in data.get("alternatives", []):
        message.attach_alternative(content, mimetype)
    return message


def queue_message(message: EmailMessage) -> None:
    """Send ``message`` from the `mail` queue once the current transaction commits."""
    from core.tasks import send_email  # tasks import this module

    enqueue_on_commit(send_email, message_to_dict(message))


def render_email(
    template_prefix: str, context: dict[str, Any], *, to: list[str], language: str | None = None
) -> EmailMultiAlternatives:
    """Build a multipart message from ``<prefix>_subject.txt``, ``.txt`` and ``.html``.

    The templates are rendered in ``language`` (the recipient's), not the request's.
    """
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"{template_prefix}_subject.txt", context)
        text = render_to_string(f"{template_prefix}.txt", context)
        html = render_to_string(f"{template_prefix}.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
    )
    message.attach_alternative(html, "text/html")
    return message
