"""Confirmation and "already signed" emails, sent in batches from the signature rows.

Signing only marks the row ``email_due`` (no rendering, no broker message per signature):
a national surge costs the web tier one INSERT. A sender on the `mail` queue claims due
rows (token and lease, as the response outbox does), renders each kind of message once per
petition and language with placeholders, fills in each signer's name and links, and sends
the batch over one SMTP connection (pipelined when the server allows), releasing the rows
sent a group at a time. A "kick" after commit starts a sender unless one is already on its
way (a latch in the cache); beat runs one every few seconds as a safety net.
"""

from __future__ import annotations

import logging
import re
import smtplib
import time
from dataclasses import dataclass
from datetime import timedelta
from email.utils import formatdate, make_msgid
from typing import Any, ClassVar

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.core.mail.utils import DNS_NAME
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import translation
from django.utils.html import escape

from core import redis
from core.claims import CLAIMED_TABLES, ClaimedTable, claim_rows
from core.mail import PLAIN_ADDRESS, send_message, temporary
from core.memo import ProcessMemo
from petitions.models import Petition, Signature

logger = logging.getLogger(__name__)

BATCH = 200
RELEASE_EVERY = 50  # sent rows released together: at most this many sent twice after a crash
LEASE = timedelta(minutes=2)
KICK_KEY = "agora:signature-mail:kick"
KICK_DELAY = 0.5
GATHER = 0.5  # seconds a sender waits after a batch that was not full, to gather the next
SEND_BUDGET = 30.0  # seconds: a batch or two less than the tasks' soft time limit (60 s)
RENDER_SECONDS = 60.0
NAME = "AGORANAMEPLACEHOLDER"
CONFIRM = "https://agora.invalid/confirm-placeholder/"
WITHDRAW = "https://agora.invalid/withdraw-placeholder/"
TEMPLATES = {
    Signature.EmailDue.CONFIRMATION: "emails/petitions/signature_confirmation",
    Signature.EmailDue.ALREADY_SIGNED: "emails/petitions/already_signed",
}
TRANSIENT = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    ConnectionError,
    TimeoutError,
)


CLAIMED_TABLES.append(
    ClaimedTable(
        Signature.objects.all,
        token_field="email_claim_token",  # noqa: S106 - a column name
        until_field="email_claimed_until",
    )
)


class MailUnavailable(Exception):
    """The SMTP server is unavailable for now; the claimed rows are released."""


def request_delivery() -> None:
    """After the current transaction commits, start a sender unless one is on its way.

    A process that asked less than AGORA_SIGNATURE_MAIL_QUIET_SECONDS ago does not ask
    again: during a surge that spares a Redis round trip per signature. The row cannot be
    forgotten: the sender that answered that recent kick, or the one the next signature
    starts, claims every due row, and beat's periodic run (every few seconds) is the
    safety net when signatures stop at that very moment.
    """

    def kick() -> None:
        from petitions.tasks import send_signature_emails

        if _asked_recently():
            return
        if not _raise_latch():
            return  # a sender is queued and will take this row too
        try:
            # Half a second's grace lets a surge gather into batches worth a connection.
            send_signature_emails.apply_async(countdown=KICK_DELAY)
        except Exception:  # the broker may be down; beat's periodic run delivers later
            _lower_latch()
            logger.exception("Could not start the signature email sender")

    transaction.on_commit(kick)


def _asked_recently() -> bool:
    """True if this process asked for a sender less than the quiet period ago."""
    quiet: float = settings.AGORA_SIGNATURE_MAIL_QUIET_SECONDS
    now = time.monotonic()
    if quiet and now - _last_kick[0] < quiet:
        return True
    _last_kick[0] = now
    return False


_last_kick = [-1e9]  # monotonic time of this process's last request for a sender


def forget_kicks() -> None:
    _last_kick[0] = -1e9


def _raise_latch() -> bool:
    """True if no sender was on its way (this caller must start one); one round trip."""
    client = redis.client()
    if client is None:
        return bool(cache.add(KICK_KEY, "1", timeout=30))
    return bool(client.set(KICK_KEY, "1", nx=True, ex=30))


def _lower_latch() -> None:
    client = redis.client()
    if client is None:
        cache.delete(KICK_KEY)
    else:
        client.delete(KICK_KEY)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Placeholder:
    """Stands for the signature in templates rendered once for many signers."""

    is_supporter: bool
    name: str = NAME


def _render(kind: str, petition: Petition, language: str, is_supporter: bool) -> Rendered:
    context: dict[str, Any] = {
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "petition": petition,
        "petition_url": f"{settings.SITE_URL}{petition.get_absolute_url()}",
        "signature": Placeholder(is_supporter),
        "confirm_url": CONFIRM,
        "withdraw_url": WITHDRAW,
    }
    prefix = TEMPLATES[Signature.EmailDue(kind)]
    with translation.override(language):
        return Rendered(
            subject=" ".join(render_to_string(f"{prefix}_subject.txt", context).split()),
            text=render_to_string(f"{prefix}.txt", context),
            html=render_to_string(f"{prefix}.html", context),
        )


# Rendered messages, per process for a minute: a surge sends thousands of the same message
# to different people, and rendering is the costly part of sending one.
_renders: dict[tuple[str, int, str, bool], tuple[float, Rendered]] = {}


def forget_renders() -> None:
    _renders.clear()


def _rendered(row: Signature, petition: Petition) -> Rendered:
    key = (row.email_due, petition.pk, row.language, row.is_supporter)
    now = time.monotonic()
    held = _renders.get(key)
    if held is None or held[0] < now:
        if len(_renders) > 1000:
            _renders.clear()
        held = (
            now + RENDER_SECONDS,
            _render(row.email_due, petition, row.language, row.is_supporter),
        )
        _renders[key] = held
    return held[1]


def _fill(template: str, signature: Signature, *, html: bool) -> str:
    base = settings.SITE_URL
    confirm = f"{base}{_link('petitions:confirm', signature.token)}"
    withdraw = f"{base}{_link('petitions:withdraw', signature.token)}"
    name = escape(signature.name) if html else signature.name
    # The name last: what a signer typed is never read as a placeholder.
    return template.replace(CONFIRM, confirm).replace(WITHDRAW, withdraw).replace(NAME, name)


SLOT = "AGORASLOTPLACEHOLDER"  # where the token goes in a reversed path
_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")  # a token that reverse() would not quote


def _link(name: str, token: str) -> str:
    """reverse(name, args=[token]): the path is reversed once, each token put in its place."""
    if not _URL_SAFE.fullmatch(token):
        return reverse(name, args=[token])
    path = _LINKS.get(
        (name, get_script_prefix(), get_urlconf()), lambda: reverse(name, args=[SLOT])
    )
    return path.replace(SLOT, token)


_LINKS: ProcessMemo[str] = ProcessMemo(seconds=3600.0, max_entries=64)

# A sender's serialised messages by kind, petition, language and supporter, each with the
# rendering it was made from.
Moulds = dict[tuple[str, int, str, bool], tuple[Rendered, "Mould | None"]]


def send_batch(
    size: int = BATCH,
    *,
    smtp: Any = None,
    moulds: Moulds | None = None,
) -> int:
    """Claim due rows and send them over one connection; returns how many were handled.

    ``smtp`` is a connection the caller opened and will close (its own one otherwise);
    ``moulds`` keeps the messages serialised for earlier batches, for as long as their
    rendering holds. The rows sent are released ``RELEASE_EVERY`` at a time
    (``_release_sent``); whatever ends the batch early, those sent are released as done and
    the others as still due.
    """
    rows = claim_rows(
        Signature.objects.exclude(email_due=""),
        size=size,
        lease=LEASE,
        token_field="email_claim_token",  # noqa: S106 - a column name
        until_field="email_claimed_until",
    )
    if not rows:
        return 0
    petitions = Petition.objects.in_bulk({row.petition_id for row in rows})
    moulds = {} if moulds is None else moulds
    handled = released = 0  # rows[:handled] sent (or refused for good), [:released] released
    own = smtp is None
    if own:
        smtp = get_connection()
    try:
        smtp.open()  # does nothing if the caller's connection is open
        for row in rows:
            rendered = _rendered(row, petitions[row.petition_id])
            key = (row.email_due, row.petition_id, row.language, row.is_supporter)
            held = moulds.get(key)
            if held is None or held[0] is not rendered:
                held = moulds[key] = (rendered, Mould.make(rendered, smtp))
            _send_one(row, rendered, smtp, held[1])
            handled += 1
            if handled - released == RELEASE_EVERY:
                _release_sent(rows[released:handled])
                released = handled
    except TRANSIENT as error:
        raise MailUnavailable(str(error)) from error
    finally:
        # Another sender sends the rest (after a time limit, or once the server is back).
        _release_sent(rows[released:handled])
        _release(rows[handled:])
        if own:
            smtp.close()
    return len(rows)


def _release(rows: list[Signature]) -> None:
    """Free the claims of rows not sent: their emails stay due."""
    if rows:
        Signature.objects.filter(pk__in=[row.pk for row in rows]).update(
            email_claimed_until=None, email_claim_token=""
        )


def _release_sent(rows: list[Signature]) -> None:
    """Release the claims of rows whose email went: done, unless a newer request (signing
    again while it was sent) changed what is due. One UPDATE per kind of email.

    Only a claim still held is released: a claim that ran out and was taken over belongs to
    its new holder. A sender killed before this sends these rows' emails again (at most
    RELEASE_EVERY) once their claims are freed; none is lost.
    """
    for due in {row.email_due for row in rows}:
        ids = [row.pk for row in rows if row.email_due == due]
        token = rows[0].email_claim_token  # one claim, one token for all its rows
        with connection.cursor() as cursor:
            cursor.execute(_release_statement(len(ids)), [due, token, *ids])


def _release_statement(count: int) -> str:
    """The UPDATE that releases ``count`` sent rows: the ORM's ``update()`` spent more on
    compiling its CASE than the database on running it."""
    meta = Signature._meta
    quote = connection.ops.quote_name
    columns = {field.name: quote(field.column) for field in meta.concrete_fields}
    due, until, token, pk = (
        columns[name] for name in ("email_due", "email_claimed_until", "email_claim_token", "id")
    )
    # Identifiers from the model's own metadata, quoted; every value is a parameter.
    return (
        f"UPDATE {quote(meta.db_table)} SET {due} = CASE WHEN {due} = %s THEN '' "  # noqa: S608
        f"ELSE {due} END, {until} = NULL, {token} = '' "
        f"WHERE {token} = %s AND {pk} IN ({', '.join(['%s'] * count)})"
    )


def _send_one(row: Signature, rendered: Rendered, smtp: Any, mould: Mould | None = None) -> None:
    """Send one row's email; a permanent refusal is logged and counts as handled."""
    try:
        if mould is None or not mould.send(row, smtp):
            _message(row, rendered, smtp).send()
    except smtplib.SMTPRecipientsRefused as refused:
        if temporary(refused):
            raise MailUnavailable(str(refused.recipients)) from refused
        logger.warning("Signature %s: address refused (%s)", row.pk, refused.recipients)
    except smtplib.SMTPResponseException as error:
        if error.smtp_code < 500:
            raise MailUnavailable(str(error)) from error
        logger.warning("Signature %s: message refused (%s)", row.pk, error)


def _message(row: Signature, rendered: Rendered, smtp: Any) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=_fill(rendered.text, row, html=False),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.email],
        connection=smtp,
    )
    message.attach_alternative(_fill(rendered.html, row, html=True), "text/html")
    return message


_NAME = NAME.encode()
HTML_NAME = b"AGORAHTMLNAMEPLACEHOLDER"  # the name in the HTML part of a Mould, escaped
_ENCODING = re.compile(rb"\r\nContent-Transfer-Encoding: (\S+)\r\n")
_NAMES = re.compile(re.escape(_NAME) + b"|" + re.escape(HTML_NAME))
_SLOT = SLOT.encode()


@dataclass(frozen=True)
class Mould:
    """A signature email serialised once per batch and kind, with holes for each signer.

    Building and serialising a MIME message costs a sender more CPU than sending it, and
    a surge's confirmations differ only by the signer's name, links, address, Message-ID
    and Date. So the message is built once with placeholders (as responses.services.outbox
    does for mailings), and each signer's copy is a few byte replacements, sent with
    SMTP as Django's SMTP backend sends it (pipelined when the server allows). The links
    are reversed when the mould is made, with a slot for the signer's token. Only for that
    backend, a serialisation in which every placeholder survived whole, a plain ASCII
    address, a token that needs no quoting in a URL and a name without control characters
    (ASCII unless both parts are 8bit); otherwise the message is built as usual.
    """

    data: bytes
    sender: str
    eight_bit: bool

    TO: ClassVar[bytes] = b"agora-recipient@agora.invalid"
    ID: ClassVar[bytes] = b"agora-message-id@agora.invalid"
    DATE: ClassVar[bytes] = b"AGORADATEPLACEHOLDER"

    @classmethod
    def make(cls, rendered: Rendered, smtp: Any) -> Mould | None:
        if not isinstance(smtp, SMTPBackend):
            return None
        html = rendered.html.replace(NAME, HTML_NAME.decode())
        message = EmailMultiAlternatives(
            subject=rendered.subject,
            body=rendered.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[cls.TO.decode()],
            headers={"Message-ID": f"<{cls.ID.decode()}>", "Date": cls.DATE.decode()},
        )
        message.attach_alternative(html, "text/html")
        data = message.message().as_bytes(linesep="\r\n")
        expected = {
            NAME.encode(): rendered.text.count(NAME),
            HTML_NAME: html.count(HTML_NAME.decode()),
            CONFIRM.encode(): rendered.text.count(CONFIRM) + html.count(CONFIRM),
            WITHDRAW.encode(): rendered.text.count(WITHDRAW) + html.count(WITHDRAW),
            cls.TO: 1,
            cls.ID: 1,
            cls.DATE: 1,
        }
        if any(data.count(hole) != count for hole, count in expected.items()):
            return None  # a placeholder cut or encoded
        # Text goes into the parts as it is only if they are neither quoted-printable nor
        # base64 (a long line makes Django choose quoted-printable).
        encodings = _ENCODING.findall(data)
        if len(encodings) != 2 or not set(encodings) <= {b"7bit", b"8bit"}:
            return None
        sender = sanitize_address(message.from_email, message.encoding or settings.DEFAULT_CHARSET)
        base = settings.SITE_URL
        data = data.replace(
            CONFIRM.encode(), f"{base}{_link('petitions:confirm', SLOT)}".encode()
        ).replace(WITHDRAW.encode(), f"{base}{_link('petitions:withdraw', SLOT)}".encode())
        return cls(
            data=data,
            sender=sender,
            eight_bit=encodings == [b"8bit", b"8bit"],
        )

    def send(self, row: Signature, smtp: SMTPBackend) -> bool:
        """Send this signer's copy; False when it must be built as usual."""
        connection = smtp.connection
        name = row.name
        if (
            connection is None
            or not PLAIN_ADDRESS.fullmatch(row.email)
            or not name.isprintable()
            or not (name.isascii() or self.eight_bit)
            or not _URL_SAFE.fullmatch(row.token)
        ):
            return False
        data = (
            self.data.replace(self.TO, row.email.encode())
            .replace(self.ID, make_msgid(domain=DNS_NAME).strip("<>").encode())
            .replace(self.DATE, formatdate(localtime=settings.EMAIL_USE_LOCALTIME).encode())
            .replace(_SLOT, row.token.encode())
        )
        # The names last, in one pass: what a signer typed is never read as a placeholder.
        plain, html = name.encode(), escape(name).encode()
        data = _NAMES.sub(lambda found: plain if found[0] == _NAME else html, data)
        if max(map(len, data.split(b"\r\n"))) > 998:
            return False  # Django would have encoded the part in quoted-printable
        send_message(connection, self.sender, row.email, data)
        return True


def send_due(budget: float = SEND_BUDGET) -> int:
    """Send due emails, batch after batch, for at most ``budget`` seconds.

    During a surge one sender sends batch after batch over one SMTP connection, with the
    messages serialised once, and after a batch that was not full it waits ``GATHER``
    seconds for the next one to fill: each batch pays a claim, and a sender that claimed
    as fast as it sends took batches of a few rows. The latch that kicks start senders with
    stays up while this one finds rows, so the signatures of those moments start no other
    sender. When nothing is due, the latch comes down, and one more look finds a row
    signed just before that.

    After a surge the backlog can outlast the task's time limit, and a sender killed by
    it between the SMTP server's acceptance and the row's release would leave that email
    to be sent again when its claim expires. So the sender stops in time and hands the
    rest to a new one. Returns how many emails were handled.
    """
    started, total = time.monotonic(), 0
    smtp = get_connection()
    moulds: Moulds = {}
    try:
        while True:
            handled = send_batch(BATCH, smtp=smtp, moulds=moulds)
            if not handled:
                _lower_latch()  # from now on, a new signature starts another sender
                handled = send_batch(BATCH, smtp=smtp, moulds=moulds)
                if not handled:
                    break
            total += handled
            if time.monotonic() - started > budget:
                from petitions.tasks import send_signature_emails

                send_signature_emails.delay()
                break
            if handled < BATCH:
                time.sleep(GATHER)  # a surge's next batch, fuller, costs less per email
    finally:
        smtp.close()
    return total
