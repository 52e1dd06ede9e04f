"""Delivering a mailing to every signer who asked: exactly once, resumable, fast.

1. ``fan_out`` inserts one OutboxMessage per recipient in batches, in signature-id order,
   each batch one INSERT ... SELECT made by the database, remembering its cursor on the
   Mailing; the (mailing, address) uniqueness makes a repeated batch harmless. A killed
   fan-out resumes from the cursor. The senders start after the first batch.
2. ``send_batch`` claims up to N pending rows with a conditional UPDATE (a token and a
   lease), renders the message once per language, sends the batch over ONE SMTP
   connection, and marks each row sent right after the server accepted it. A claim whose
   worker died expires with its lease and is taken over, so nothing is missed; a row is
   marked sent within microseconds of the server's acceptance, so a kill in between is the
   only way to send twice.
"""

from __future__ import annotations

import logging
import smtplib
import socket
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Max, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from core.claims import CLAIMED_TABLES, ClaimedTable, claim_rows
from core.mail import dot_stuffed, start_data, temporary
from core.markdown import render_markdown
from petitions.models import Petition, Signature
from responses.models import Mailing, OutboxMessage

logger = logging.getLogger(__name__)

SEND_BATCH = 500
UNSUBSCRIBE_SALT = "agora.unsubscribe"
PLACEHOLDER = "https://agora.invalid/unsubscribe-placeholder/"

# A temporary refusal: try again later. Anything 5xx is permanent for that recipient.
TRANSIENT = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    ConnectionError,
    TimeoutError,
)


CLAIMED_TABLES.append(
    ClaimedTable(lambda: OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING))
)


class TransientMailError(Exception):
    """The SMTP server is unavailable for now; the rows go back to the queue."""


# --- Fan-out ---------------------------------------------------------------------------------


def recipients(petition: Petition) -> QuerySet[Signature]:
    """Who hears back: confirmed signers who asked to, supporters, and the creator.

    Account preferences win: a creator who turned off "news about petitions I created", or
    a signed-in signer who turned off "responses to petitions I signed", is left out; so is
    anyone who followed an unsubscribe link.
    """
    creator = petition.creator
    creator_wants = Q(pk__in=[])
    if creator is not None and creator.notify_petition_updates:
        creator_wants = Q(user_id=creator.pk)
    wanted = Q(wants_updates=True) | Q(is_supporter=True) | creator_wants
    declined = Q(user__notify_signed_petition_responses=False) & ~creator_wants
    if creator is not None and not creator.notify_petition_updates:
        declined |= Q(user_id=creator.pk)
    return (
        Signature.objects.filter(
            petition=petition, state=Signature.State.CONFIRMED, unsubscribed_at__isnull=True
        )
        .filter(wanted)
        .exclude(declined)
    )


def fan_out(
    mailing_id: int,
    *,
    batch: int | None = None,
    committed: Callable[[bool], None] | None = None,
) -> int:
    """Create the outbox rows of a mailing; returns how many were added. Idempotent.

    Each batch is one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` made by the
    database (no row travels through Python) and its rowcount is what it added; the cursor
    moves in the same transaction, so a killed fan-out resumes after the last batch it
    committed. ``committed(done)`` is called after each batch's commit, ``done`` telling
    whether it was the last one (the task starts the senders after the first batch, so that
    sending does not wait for the whole fan-out).
    """
    batch = batch or settings.AGORA_OUTBOX_FANOUT_BATCH
    mailing = Mailing.objects.select_related("petition__creator").get(pk=mailing_id)
    added = 0
    while mailing.fanned_out_at is None:
        with transaction.atomic():
            pending = recipients(mailing.petition).filter(id__gt=mailing.fanout_cursor)
            # The batch is (cursor, last]; the last batch is everything after the cursor.
            ids = pending.order_by("id").values_list("id", flat=True)
            last = next(iter(ids[batch - 1 : batch]), None)
            if last is None:
                last = pending.aggregate(last=Max("id"))["last"]
                done = True
            else:
                done = False
            if last is not None:
                added += _insert_batch(mailing, pending.filter(id__lte=last))
                mailing.fanout_cursor = last
            if done:
                mailing.fanned_out_at = timezone.now()
            Mailing.objects.filter(pk=mailing.pk).update(
                fanout_cursor=mailing.fanout_cursor, fanned_out_at=mailing.fanned_out_at
            )
        if committed is not None:
            committed(done)
    return added


def _insert_batch(mailing: Mailing, signatures: QuerySet[Signature]) -> int:
    """Queue ``signatures`` (those that still have an address) in one statement; returns
    how many rows it added (a row that exists already is left alone)."""
    rows = (
        signatures.exclude(email="")  # anonymised signatures have no address any more
        .order_by()
        .values("id", "email", "email_normalised", "language")
    )
    select, params = rows.query.sql_with_params()
    table = connection.ops.quote_name(OutboxMessage._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(name)
        for name in (
            "mailing_id", "signature_id", "email", "email_normalised", "language",
            "state", "attempts", "claim_token", "error",
        )
    )  # fmt: skip
    # "WHERE true": SQLite reads an ON CONFLICT after a bare SELECT as a join's ON. Only
    # names and Django's compiled query go into the text; the values are parameters.
    sql = (
        f"INSERT INTO {table} ({columns}) "  # noqa: S608
        "SELECT %s, batch.id, batch.email, batch.email_normalised, batch.language, "
        f"%s, 0, '', '' FROM ({select}) batch WHERE true ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [mailing.pk, OutboxMessage.State.PENDING, *params])
        return max(cursor.rowcount, 0)


# --- Sending ---------------------------------------------------------------------------------


# Mailing id -> the smallest id of the last batch this process claimed from it.
_floors: dict[int, int] = {}


def claim(mailing_id: int, *, size: int = SEND_BATCH) -> list[OutboxMessage]:
    """Take up to ``size`` pending rows nobody holds (or whose holder's lease ran out).

    Rows are sent in id order, so the pending ones lie after a front of sent ones; the
    claim looks from the start of this process's previous batch first (from the start of
    the table only when that finds nothing: rows released below it, a dead worker's). Not
    for correctness but for PostgreSQL: a scan from the first id, by the primary key or
    through the dead entries that sent rows leave in the partial index until a vacuum,
    walks past every sent row (0.3-0.5 s per claim 600,000 rows into a mailing, against a
    few milliseconds from the front).
    """
    pending = OutboxMessage.objects.filter(mailing_id=mailing_id, state=OutboxMessage.State.PENDING)
    lease = timedelta(seconds=settings.AGORA_OUTBOX_LEASE_SECONDS)
    rows: list[OutboxMessage] = []
    if floor := _floors.get(mailing_id):
        rows = claim_rows(pending.filter(id__gte=floor), size=size, lease=lease)
    if not rows:
        rows = claim_rows(pending, size=size, lease=lease)
    if rows:
        _floors[mailing_id] = rows[0].pk
    else:
        _floors.pop(mailing_id, None)
    return rows


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(mailing: Mailing, language: str) -> Rendered:
    """The mailing's message in one language, with a placeholder for the unsubscribe link."""
    petition, response = mailing.petition, mailing.response
    context: dict[str, Any] = {
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "petition": petition,
        "petition_url": f"{settings.SITE_URL}{petition.get_absolute_url()}",
        "response": response,
        "response_html": render_markdown(response.body) if response else "",
        "response_url": f"{settings.SITE_URL}{response.get_absolute_url()}" if response else "",
        "debate": getattr(petition, "debate", None),
        "unsubscribe_url": PLACEHOLDER,
    }
    prefix = f"emails/responses/signer_{mailing.kind}"
    with translation.override(language):
        return Rendered(
            subject=" ".join(render_to_string(f"{prefix}_subject.txt", context).split()),
            text=render_to_string(f"{prefix}.txt", context),
            html=render_to_string(f"{prefix}.html", context),
        )


def unsubscribe_url(signature_id: int | None) -> str:
    token = signing.dumps(signature_id, salt=UNSUBSCRIBE_SALT)
    return f"{settings.SITE_URL}{reverse('responses:unsubscribe', args=[token])}"


def message_id(mailing: Mailing, row: OutboxMessage) -> str:
    """The same Message-ID for every attempt at one outbox row.

    A sender killed after the server took a message's final dot, but before its 250
    reached the sender, leaves the row pending: the message is sent again (RFC 1047: no
    SMTP client can tell whether such a message was accepted), and mail stores that
    recognise a Message-ID they already hold keep one copy.
    """
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<outbox.{mailing.pk}.{row.pk}@{domain}>"


def _message(
    mailing: Mailing, row: OutboxMessage, rendered: Rendered, smtp: Any
) -> EmailMultiAlternatives:
    url = unsubscribe_url(row.signature_id)
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text.replace(PLACEHOLDER, url),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.email],
        connection=smtp,
        headers={
            # RFC 8058: mail clients offer a one-click unsubscribe that POSTs to this URL.
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Agora-Outbox": f"{mailing.pk}:{row.pk}",
            "Message-ID": message_id(mailing, row),
        },
    )
    message.attach_alternative(rendered.html.replace(PLACEHOLDER, url), "text/html")
    return message


def send_batch(mailing_id: int, *, size: int = SEND_BATCH) -> int:
    """Claim and send one batch over one SMTP connection; returns rows handled (0: none left).

    Raises TransientMailError when the server is unavailable; the unsent rows of the batch
    are released at once so a retry (or another worker) takes them.
    """
    rows = claim(mailing_id, size=size)
    if not rows:
        _finish_if_done(mailing_id)
        return 0
    mailing = Mailing.objects.select_related("petition", "response").get(pk=mailing_id)
    rendered: dict[str, Rendered] = {}
    moulds: dict[str, Mould | None] = {}
    handled: set[int] = set()
    smtp = get_connection()
    try:
        smtp.open()
        for row in rows:
            if row.language not in rendered:
                rendered[row.language] = render(mailing, row.language)
                moulds[row.language] = Mould.make(mailing, rendered[row.language], smtp)
            _send_one(mailing, row, rendered[row.language], smtp, moulds[row.language])
            handled.add(row.pk)
    except (TransientMailError, *TRANSIENT) as error:
        _release([row for row in rows if row.pk not in handled])
        raise TransientMailError(str(error)) from error
    finally:
        smtp.close()
    return len(rows)


@dataclass(frozen=True)
class Mould:
    """A mailing's message in one language, serialised once, with a hole for each signer.

    Building and serialising a MIME message costs more CPU than sending it; every message
    of a mailing differs only by its recipient, its unsubscribe link, its Message-ID and
    its outbox header. So the message is serialised once with placeholders, and each
    signer's copy is a few byte replacements, sent on the SMTP connection as Django's
    backend would send it. Only for Django's SMTP backend, ASCII addresses, and a
    serialisation in which every placeholder survived whole (a part encoded in
    quoted-printable could cut one); otherwise each message is built as usual.
    """

    data: bytes
    sender: str

    TO: ClassVar[str] = "agora-recipient@agora.invalid"
    ID: ClassVar[str] = "agora-message-id@agora.invalid"
    OUTBOX: ClassVar[str] = "agora-outbox-placeholder"

    @classmethod
    def make(cls, mailing: Mailing, rendered: Rendered, smtp: Any) -> Mould | None:
        if not isinstance(smtp, SMTPBackend):
            return None
        message = EmailMultiAlternatives(
            subject=rendered.subject,
            body=rendered.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[cls.TO],
            headers={
                "Message-ID": f"<{cls.ID}>",
                "List-Unsubscribe": f"<{PLACEHOLDER}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "X-Agora-Outbox": cls.OUTBOX,
            },
        )
        message.attach_alternative(rendered.html, "text/html")
        data = message.message().as_bytes(linesep="\r\n")
        links = rendered.text.count(PLACEHOLDER) + rendered.html.count(PLACEHOLDER) + 1
        if (
            data.count(PLACEHOLDER.encode()) != links
            or data.count(cls.TO.encode()) != 1
            or data.count(cls.ID.encode()) != 1
            or data.count(cls.OUTBOX.encode()) != 1
        ):
            return None
        sender = sanitize_address(message.from_email, message.encoding or settings.DEFAULT_CHARSET)
        return cls(data=data, sender=sender)

    def send(self, mailing: Mailing, row: OutboxMessage, smtp: SMTPBackend) -> bool:
        """Send this signer's copy and mark its row sent; False when it must be built as
        usual (a non-ASCII address).

        The SMTP transaction is smtplib's ``sendmail`` in its steps (``core.mail.start_data``,
        not pipelined), so that the row's UPDATE is made before the message's final dot and
        its COMMIT written right after the dot, before the server's answer is read (RFC
        1047: a server may keep a message whose sender never hears it accepted, so a mark
        that waited for the 250 would leave the server's whole processing time for a killed
        sender to send it twice). A worker killed at any moment leaves an unsent message
        with its row pending, or a message handed over with its row sent, except in the
        microseconds between writing the dot and writing COMMIT (the message is then sent
        again, under the same Message-ID: ``message_id``). A server that refuses the
        message at its dot (rare: refusals come at RCPT) has the row put back before the
        refusal is raised; only a worker killed while such a refusal travels leaves a
        refused row marked sent.
        Refusals raise smtplib's exceptions, as ``sendmail`` does.
        """
        connection = smtp.connection
        if not row.email.isascii() or connection is None:
            return False
        data = (
            self.data.replace(PLACEHOLDER.encode(), unsubscribe_url(row.signature_id).encode())
            .replace(self.TO.encode(), row.email.encode())
            .replace(self.ID.encode(), message_id(mailing, row).strip("<>").encode())
            .replace(self.OUTBOX.encode(), f"{mailing.pk}:{row.pk}".encode())
        )
        _no_delay(connection)
        # Not pipelined: with MAIL, RCPT and DATA in one write, a worker killed mid-mailing
        # sent a message twice in 2 of 5 runs of bench.fanout, against 0 of 8 step by step.
        # Likely (not measured): the sender threads then wait longer for the GIL between the
        # dot and the COMMIT.
        start_data(connection, self.sender, row.email, len(data), pipelining=False)
        connection.send(dot_stuffed(data))
        with _SentMark(row) as mark:  # made before the dot, durable once the dot is out
            connection.send(b".\r\n")
            mark.commit()
        code, reply = connection.getreply()
        if code != 250:
            _unmark(row)
            raise smtplib.SMTPDataError(code, reply)
        return True


def _no_delay(connection: smtplib.SMTP) -> None:
    """Send the final dot at once: with Nagle's algorithm it waits for the body's ACK,
    which the server delays (40 ms on Linux), and each message would take that long."""
    sock = getattr(connection, "sock", None)
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _send_one(
    mailing: Mailing,
    row: OutboxMessage,
    rendered: Rendered,
    smtp: Any,
    mould: Mould | None = None,
) -> None:
    """Send one message and record what happened to it, right away."""
    try:
        if mould is not None and mould.send(mailing, row, smtp):
            return  # sent and marked
        _message(mailing, row, rendered, smtp).send()
    except smtplib.SMTPRecipientsRefused as refused:
        if temporary(refused):
            raise TransientMailError(str(refused.recipients)) from refused
        _fail(row, str(refused.recipients))
        return
    except smtplib.SMTPResponseException as error:
        if error.smtp_code < 500:
            raise TransientMailError(str(error)) from error
        _fail(row, f"{error.smtp_code} {error.smtp_error!r}")
        return
    _mark_sent(row)


class _SentMark:
    """Marks ``row`` sent in a transaction of its own, committed by ``commit()``; rolled
    back when the block ends without it.

    On PostgreSQL outside any transaction, ``BEGIN`` travels with the ``UPDATE`` in one
    statement: two round trips a message instead of three (psycopg2 sends its own
    ``BEGIN`` on its own), and about 15 % less PostgreSQL CPU per message. Elsewhere (the
    other databases, and code already in a transaction, as the tests are) a savepoint.
    """

    def __init__(self, row: OutboxMessage) -> None:
        self.row = row
        self.savepoint: str | None = None
        self.cursor: Any = None
        self.committed = False

    def __enter__(self) -> _SentMark:
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            self.savepoint = transaction.savepoint() if connection.in_atomic_block else None
            if self.savepoint is None:
                transaction.set_autocommit(False)
            _mark_sent(self.row)
            return self
        table = connection.ops.quote_name(OutboxMessage._meta.db_table)
        self.cursor = connection.cursor()
        self.cursor.execute(  # a table name in the text; the values are parameters
            f"BEGIN; UPDATE {table} SET state = %s, sent_at = %s, claim_token = '' "  # noqa: S608
            "WHERE id = %s",
            [OutboxMessage.State.SENT, timezone.now(), self.row.pk],
        )
        return self

    def commit(self) -> None:
        if self.cursor is not None:
            self.cursor.execute("COMMIT")
        elif self.savepoint is not None:
            transaction.savepoint_commit(self.savepoint)
        else:
            transaction.commit()
            transaction.set_autocommit(True)
        self.committed = True

    def __exit__(self, *exc: object) -> None:
        try:
            if self.committed:
                return
            if self.cursor is not None:
                with suppress(DatabaseError):  # a broken connection has rolled back already
                    self.cursor.execute("ROLLBACK")
            elif self.savepoint is not None:
                transaction.savepoint_rollback(self.savepoint)
            else:
                transaction.rollback()
                transaction.set_autocommit(True)
        finally:
            if self.cursor is not None:
                self.cursor.close()


def _unmark(row: OutboxMessage) -> None:
    """Put back a row marked sent whose message the server then refused."""
    OutboxMessage.objects.filter(pk=row.pk).update(state=OutboxMessage.State.PENDING, sent_at=None)


def _mark_sent(row: OutboxMessage) -> None:
    OutboxMessage.objects.filter(pk=row.pk).update(
        state=OutboxMessage.State.SENT, sent_at=timezone.now(), claim_token=""
    )


def _fail(row: OutboxMessage, error: str) -> None:
    OutboxMessage.objects.filter(pk=row.pk).update(
        state=OutboxMessage.State.FAILED,
        error=error[:300],
        attempts=row.attempts + 1,
        claim_token="",
    )
    logger.warning("Outbox %s refused for good: %s", row.pk, error)


def _release(rows: list[OutboxMessage]) -> None:
    OutboxMessage.objects.filter(
        pk__in=[row.pk for row in rows], state=OutboxMessage.State.PENDING
    ).update(claimed_until=None, claim_token="")


def fanning_out(mailing_id: int) -> bool:
    """Whether the mailing's fan-out is still creating rows (senders may catch up with it)."""
    return Mailing.objects.filter(pk=mailing_id, fanned_out_at__isnull=True).exists()


def _finish_if_done(mailing_id: int) -> None:
    """Mark the mailing finished once its fan-out is over and no row is pending.

    Looked up in the order of the partial index on pending rows: a bare EXISTS let the
    planner scan the whole table (it expects a pending row early among a million; they are
    at the end, behind the sent ones), 0.1 s each time a sender found nothing to claim.
    """
    open_mailing = Mailing.objects.filter(
        pk=mailing_id, fanned_out_at__isnull=False, finished_at__isnull=True
    )
    if not open_mailing.exists():
        return  # still fanning out (senders may be ahead of it), or already finished
    pending = (
        OutboxMessage.objects.filter(mailing_id=mailing_id, state=OutboxMessage.State.PENDING)
        .order_by("mailing_id", "id")
        .values_list("id", flat=True)
    )
    if not pending[:1]:
        open_mailing.update(finished_at=timezone.now())


def progress(mailing: Mailing) -> dict[str, int]:
    """{"total", "sent", "remaining", "failed"} for the back-office and the command."""
    counts = dict(
        OutboxMessage.objects.filter(mailing=mailing)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    sent, failed = counts.get("sent", 0), counts.get("failed", 0)
    pending = counts.get("pending", 0)
    return {"total": sent + failed + pending, "sent": sent, "remaining": pending, "failed": failed}


# --- Unsubscribing --------------------------------------------------------------------------


def unsubscribe(token: str) -> Signature | None:
    """Stop emails about this petition to this signer (RFC 8058 one-click). Idempotent.

    Returns None for a token that was tampered with or points at nothing.
    """
    try:
        signature_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    signature = Signature.objects.select_related("petition").filter(pk=signature_id).first()
    if signature is None:
        return None
    Signature.objects.filter(pk=signature.pk).update(
        wants_updates=False, unsubscribed_at=signature.unsubscribed_at or timezone.now()
    )
    OutboxMessage.objects.filter(signature=signature, state=OutboxMessage.State.PENDING).update(
        state=OutboxMessage.State.FAILED, error="unsubscribed"
    )
    signature.wants_updates = False
    return signature
