"""Email: messages are built in the request, serialised to JSON, and sent by the `mail` queue.

No email is ever sent inside a request or a transaction: ``queue_email`` enqueues the
``core.tasks.send_email`` task after commit, and a worker delivers it.
"""

from __future__ import annotations

import re
import smtplib
from email.utils import parseaddr
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


_LEADING_DOT = re.compile(rb"(?m)^\.")


def envelope_sender(sender: str) -> str:
    """The MAIL FROM address of ``sender`` ("Name <address>" or an address), in angle
    brackets, as smtplib quotes it."""
    return f"<{parseaddr(sender)[1] or sender}>"


def pipelined_sendmail(
    connection: smtplib.SMTP, envelope: str, recipient: str, data: bytes
) -> None:
    """Send one message to one recipient as ``connection.sendmail`` does, in two round
    trips instead of four when the server offers PIPELINING (RFC 2920, as Postfix and
    Exim do): MAIL, RCPT and DATA go in one write and their three replies are read
    together, then the content and its final dot. Without PIPELINING, smtplib's own
    ``sendmail``.

    ``envelope`` is the sender as ``envelope_sender`` quotes it; ``recipient`` a plain
    address; ``data`` the whole message with CRLF line endings. Refusals raise smtplib's
    exceptions, as ``sendmail`` does, after an RSET.
    """
    connection.ehlo_or_helo_if_needed()
    if not connection.has_extn("pipelining"):
        connection.sendmail(envelope[1:-1], [recipient], data)
        return
    options = f" SIZE={len(data)}" if connection.has_extn("size") else ""
    connection.send(f"MAIL FROM:{envelope}{options}\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode())
    mail, rcpt, start = connection.getreply(), connection.getreply(), connection.getreply()
    if start[0] == 354 and (mail[0] != 250 or rcpt[0] not in (250, 251)):
        connection.send(b".\r\n")  # a server that took DATA without a recipient: end it
        connection.getreply()
    if mail[0] != 250 or rcpt[0] not in (250, 251) or start[0] != 354:
        connection.rset()
        if mail[0] != 250:
            raise smtplib.SMTPSenderRefused(mail[0], mail[1], envelope[1:-1])
        if rcpt[0] not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({recipient: rcpt})
        raise smtplib.SMTPDataError(*start)
    body = _LEADING_DOT.sub(b"..", data)
    connection.send(body + (b".\r\n" if body.endswith(b"\r\n") else b"\r\n.\r\n"))
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
