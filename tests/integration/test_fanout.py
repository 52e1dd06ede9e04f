"""A mailing to signers, against real workers and an SMTP server on loopback.

Exactly once and resumable (PRODUCT.md section 5): a worker SIGKILLed in the middle of a
mailing loses nothing and sends nothing twice, a server that refuses for a while gets
every message after the retries, and an address refused for good fails alone.

These tests start their own ``celery worker`` processes (the session worker's lease is
the production 300 s, and it cannot be killed without breaking the tests after this
file): the same command and environment as ``celery_worker_process``, plus
``OUTBOX_LEASE_SECONDS`` so a dead worker's claims expire within seconds. While they run,
the session worker, if one is up, stops consuming the `mail` queue, so only the workers
of the test deliver, and all to the test's own SMTP server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.utils import timezone

from petitions.identity import normalise_email
from petitions.models import Signature, Topic
from responses.models import Department, Mailing, Membership, OutboxMessage
from responses.services import outbox
from responses.services.drafting import approve_response, create_response, submit_response
from responses.services.publication import publish_response
from tests.conftest import require
from tests.integration.conftest import (
    REPO_ROOT,
    WORKER_LOG,
    WORKER_READY,
    WORKER_START_TIMEOUT,
    WorkerProcess,
    _filesystem_broker_dir,
    _test_database_url,
    free_port,
    offer_pipelining,
)
from tests.responses.conftest import member, routed_petition

pytestmark = [pytest.mark.worker, pytest.mark.smtp, pytest.mark.django_db(transaction=True)]

# A dead worker's claims are taken over after this long. It must outlast the slowest batch
# (SEND_BATCH=500 messages): a live sender's rows whose lease ran out are claimed again and
# sent twice. 500 messages took up to 7.6 s on 2 busy cores, so 3 s would be too short.
LEASE_SECONDS = 15
RESUME_EVERY = 5.0  # how often the test sends resume_mailings, as beat does every minute
SIGNERS = "signers.example.org"  # every signer's domain; staff addresses are elsewhere
MAIL_QUEUE = "mail"


# --- An SMTP server that can be slow, refuse for a while, or refuse an address ------------


@dataclass(frozen=True)
class Delivery:
    """One accepted message: who it was for, its outbox id, and the SMTP connection."""

    recipients: tuple[str, ...]
    outbox: str  # the X-Agora-Outbox header, "" for other mail (staff notifications)
    subject: str
    connection: tuple[str, int]
    at: float
    arrived_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class ScriptedSMTP:
    """An aiosmtpd handler that records what it accepts.

    It offers PIPELINING. ``delay`` is spent before answering MAIL FROM, so a slow server is
    slow *before* it holds the message: a client killed while waiting has delivered
    nothing. The first ``refuse_first`` messages to a signer are refused with ``refusal`` at
    ``refuse_at`` (RCPT or DATA); ``reject`` addresses are refused for good at RCPT.
    """

    delay: float = 0.0
    refuse_first: int = 0
    refusal: str = "421 4.3.0 Try again later"
    refuse_at: str = "DATA"
    reject: frozenset[str] = frozenset()
    refused: int = 0
    deliveries: list[Delivery] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    port: int = 0

    handle_EHLO = offer_pipelining  # noqa: N815 (aiosmtpd's hook name)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def _refuse_now(self) -> bool:
        with self.arrived:
            if self.refused < self.refuse_first:
                self.refused += 1
                return True
        return False

    async def handle_MAIL(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.reject:
            return "550 5.1.1 No such mailbox here"
        if self.refuse_at == "RCPT" and address.endswith(f"@{SIGNERS}") and self._refuse_now():
            return self.refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        raw: bytes = envelope.original_content or envelope.content
        headers = BytesHeaderParser(policy=default_policy).parsebytes(raw)
        mailing_header = str(headers.get("X-Agora-Outbox") or "")
        if self.refuse_at == "DATA" and mailing_header and self._refuse_now():
            return self.refusal
        delivery = Delivery(
            recipients=tuple(str(address).lower() for address in envelope.rcpt_tos),
            outbox=mailing_header,
            subject=" ".join(str(headers.get("Subject") or "").split()),
            connection=tuple(session.peer[:2]),
            at=time.monotonic(),
        )
        with self.arrived:
            self.deliveries.append(delivery)
            self.arrived.notify_all()
        return "250 Message accepted for delivery"

    def mailing(self, mailing: Mailing) -> list[Delivery]:
        """The messages of ``mailing`` received so far."""
        prefix = f"{mailing.pk}:"
        with self.arrived:
            return [d for d in self.deliveries if d.outbox.startswith(prefix)]

    def everything(self) -> list[Delivery]:
        with self.arrived:
            return list(self.deliveries)

    def wait_for_mailing(self, mailing: Mailing, count: int, timeout: float) -> int:
        """Block until ``count`` messages of ``mailing`` arrived (no polling: the server
        shares this process, and a busy loop would slow it down); returns how many."""
        prefix = f"{mailing.pk}:"
        deadline = time.monotonic() + timeout
        seen = looked_at = 0
        with self.arrived:
            while True:
                fresh = self.deliveries[looked_at:]
                looked_at += len(fresh)
                seen += sum(1 for d in fresh if d.outbox.startswith(prefix))
                if seen >= count:
                    return seen
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(f"{seen} of {count} messages arrived within {timeout:g} s")
                self.arrived.wait(remaining)


@pytest.fixture
def smtp() -> Iterator[Callable[..., ScriptedSMTP]]:
    """Start a ScriptedSMTP server on loopback with the given behaviour; stopped after."""
    controllers: list[Controller] = []
    # aiosmtpd logs every command at INFO: thousands of lines, and time the server needs.
    server_log = logging.getLogger("mail.log")
    level = server_log.level
    server_log.setLevel(logging.WARNING)

    def start(**behaviour: Any) -> ScriptedSMTP:
        handler = ScriptedSMTP(**behaviour)
        handler.port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
        controller.start()
        controllers.append(controller)
        return handler

    try:
        yield start
    finally:
        for controller in controllers:
            controller.stop()
        server_log.setLevel(level)


# --- Workers this test owns -------------------------------------------------------------


class Workers:
    """Starts ``celery worker`` processes as ``celery_worker_process`` does; stops them all."""

    def __init__(self, workdir: Path, request: pytest.FixtureRequest) -> None:
        self.workdir = workdir
        self.request = request
        self.started: list[WorkerProcess] = []

    def start(self, smtp_url: str, **settings: str) -> WorkerProcess:
        """``settings``: more environment variables (OUTBOX_FANOUT_BATCH=...)."""
        number = len(self.started) + 1
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _test_database_url(),
            "EMAIL_URL": smtp_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "PYTHONUNBUFFERED": "1",
            "OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
            **settings,
        }
        broker_dir = _filesystem_broker_dir()
        if broker_dir is not None:
            env["CELERY_FILESYSTEM_DIR"] = str(broker_dir)
        log_path = self.workdir / f"worker-{number}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--queues=default,counting,mail", "--pool=prefork", "--concurrency=2",
            "--without-gossip", "--without-mingle", "--loglevel=INFO",
            # Unique in the session: kombu's filesystem transport keeps the broadcasts
            # sent to a stopped worker's name, and a new worker of that name reads them.
            f"--hostname=agora-fanout-{os.getpid()}-{uuid.uuid4().hex[:8]}@%h",
        ]  # fmt: skip
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: a kill reaches the pool
            )
        worker = WorkerProcess(process=process, log_path=log_path, cache_dir=None)
        self.started.append(worker)
        self.request.node.stash[WORKER_LOG] = (worker, 0)  # a failure shows the newest log
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while not WORKER_READY.search(worker.log()):
            if not worker.is_running():
                pytest.fail(f"worker {number} exited at start:\n{worker.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"worker {number} was not ready in time:\n{worker.log()}")
            time.sleep(0.1)
        return worker

    def stop_all(self) -> None:
        for worker in self.started:
            worker.stop()


def kill(worker: WorkerProcess) -> None:
    """SIGKILL the worker's whole process group: the main process and its pool children."""
    os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=10)


@pytest.fixture
def workers(
    request: pytest.FixtureRequest, transactional_db: None, tmp_path: Path
) -> Iterator[Workers]:
    """Tasks go through the broker to workers this test starts, and to no other worker."""
    from config.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    # The session worker (if one runs) must not take this test's mail: pause its consumer.
    replies = app.control.cancel_consumer(MAIL_QUEUE, reply=True, timeout=1.0) or []
    paused = [name for reply in replies for name in reply]
    owned = Workers(tmp_path, request)
    try:
        yield owned
    finally:
        owned.stop_all()
        if paused:
            app.control.add_consumer(MAIL_QUEUE, destination=paused, reply=True, timeout=2.0)
        app.conf.task_always_eager = eager


# --- A response published to many signers -----------------------------------------------


@dataclass(frozen=True)
class Published:
    mailing: Mailing
    wanted: dict[str, str]  # address -> language, everyone who must get exactly one message
    unwanted: set[str]  # signers who must get nothing


def publish_to_signers(*, opted_in: int, quiet: int = 0, pending: int = 0) -> Published:
    """A routed petition with ``opted_in`` confirmed signers who asked to hear back (one in
    three in French), ``quiet`` who did not and ``pending`` who never confirmed; a response
    drafted, reviewed by someone else, and published through the services."""
    department = Department.objects.create(
        name_en="Ministry of Ecology", name_fr="Ministère de l'Écologie", slug="ecology"
    )
    topic = Topic.objects.create(
        slug="environment",
        name_en="Environment",
        name_fr="Environnement",
        lead_department=department,
    )
    officer = member(department, Membership.Role.OFFICER)
    reviewer = member(department, Membership.Role.REVIEWER)
    publisher = member(department, Membership.Role.PUBLISHER)
    petition = routed_petition(topic)

    now = timezone.now()
    wanted: dict[str, str] = {}
    unwanted: set[str] = set()
    rows: list[Signature] = []

    def add(email: str, language: str, **fields: Any) -> None:
        rows.append(
            Signature(
                petition=petition,
                name="A Signer",
                email=email,
                email_normalised=normalise_email(email),
                country="FR",
                postcode="75001",
                language=language,
                **fields,
            )
        )

    confirmed = {"state": Signature.State.CONFIRMED, "confirmed_at": now, "counted": True}
    for n in range(opted_in):
        email, language = f"fan{n}@{SIGNERS}", "fr" if n % 3 == 0 else "en"
        add(email, language, wants_updates=True, **confirmed)
        wanted[email] = language
    for n in range(quiet):
        email = f"quiet{n}@{SIGNERS}"
        add(email, "en", wants_updates=False, **confirmed)
        unwanted.add(email)
    for n in range(pending):
        email = f"pending{n}@{SIGNERS}"
        add(email, "fr", wants_updates=True, state=Signature.State.PENDING)
        unwanted.add(email)
    Signature.objects.bulk_create(rows, batch_size=1000)

    response = create_response(
        actor=officer,
        department=department,
        petitions=[petition],
        title="Our answer on city trees",
        body="We will plant **10,000 trees** by 2027.",
    )
    submit_response(response, actor=officer)
    approve_response(response, actor=reviewer)
    publish_response(response, actor=publisher)  # the fan-out is enqueued after commit
    return Published(Mailing.objects.get(petition=petition), wanted, unwanted)


def wait_until_sent(
    mailing: Mailing, *, timeout: float, resume_every: float | None = None
) -> dict[str, int]:
    """Wait for the mailing to finish; with ``resume_every``, send ``resume_mailings`` to
    the broker that often, as beat does every minute in production."""
    from responses.tasks import resume_mailings

    deadline = time.monotonic() + timeout
    next_resume = time.monotonic() + (resume_every or 0)
    while True:
        mailing.refresh_from_db()
        progress = outbox.progress(mailing)
        if progress["remaining"] == 0 and progress["total"] and mailing.finished_at:
            return progress
        if time.monotonic() > deadline:
            pytest.fail(f"the mailing did not finish within {timeout:g} s: {progress}")
        if resume_every is not None and time.monotonic() >= next_resume:
            resume_mailings.apply_async()
            next_resume = time.monotonic() + resume_every
        time.sleep(0.2)


def duplicates(counts: Counter[Any]) -> int:
    return sum(n - 1 for n in counts.values() if n > 1)


def assert_each_wanted_signer_got_one(
    server: ScriptedSMTP, published: Published, *, allowed_duplicates: int = 0
) -> int:
    """Every opted-in signer got the mailing once (at most ``allowed_duplicates`` extra
    copies in all), nobody else got anything; returns the duplicates seen."""
    deliveries = server.mailing(published.mailing)
    by_recipient = Counter(r for d in deliveries for r in d.recipients)
    by_outbox_row = Counter(d.outbox for d in deliveries)
    extra = duplicates(by_recipient)
    assert duplicates(by_outbox_row) == extra, "one outbox row per recipient"
    assert extra <= allowed_duplicates, {r: n for r, n in by_recipient.items() if n > 1}
    missing = set(published.wanted) - set(by_recipient)
    assert not missing, f"{len(missing)} opted-in signers got nothing, e.g. {sorted(missing)[:5]}"
    assert set(by_recipient) == set(published.wanted), "mail went to someone who did not ask"
    reached = {r for d in server.everything() for r in d.recipients}
    assert not reached & published.unwanted, "a signer who did not opt in got mail"
    return extra


def assert_in_each_signers_language(server: ScriptedSMTP, published: Published) -> None:
    subjects: dict[str, set[str]] = {"en": set(), "fr": set()}
    for delivery in server.mailing(published.mailing):
        for recipient in delivery.recipients:
            subjects[published.wanted[recipient]].add(delivery.subject)
    assert len(subjects["en"]) == 1, subjects
    assert len(subjects["fr"]) == 1, subjects
    assert subjects["en"] != subjects["fr"], "the French signers got the English message"


# --- Tests ----------------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_worker_killed_mid_mailing_is_taken_over_and_each_signer_gets_one_message(
    workers: Workers, smtp: Callable[..., ScriptedSMTP], record_property: Any
) -> None:
    # Two pool processes writing at once: SQLite answers "database is locked", and a row
    # whose UPDATE fails after the server accepted its message is sent again.
    require(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://...)")
    # 1,100 signers: three send batches of SEND_BATCH=500, so both pool processes hold a
    # claim when the worker dies and a third batch waits for the next worker.
    server = smtp()
    first = workers.start(server.url)
    published = publish_to_signers(opted_in=1100, quiet=60, pending=20)
    mailing, total = published.mailing, len(published.wanted)

    server.wait_for_mailing(mailing, total // 3, timeout=120)
    # Not at once: the message that just arrived is still between the server's acceptance
    # and its row's UPDATE, so an immediate kill would always hit that window.
    time.sleep(random.uniform(0.0, 0.05))  # noqa: S311 (timing, not cryptography)
    kill(first)
    killed_at = timezone.now()
    arrived_before_kill = len(server.mailing(mailing))
    held = OutboxMessage.objects.filter(
        mailing=mailing, state=OutboxMessage.State.PENDING, claimed_until__gt=killed_at
    ).exclude(claim_token="")
    in_flight = held.values("claim_token").distinct().count()
    assert 0 < arrived_before_kill < total, "the kill must come in the middle of the mailing"
    assert in_flight >= 1, "the dead worker held no claim: nothing to take over"

    workers.start(server.url)
    progress = wait_until_sent(mailing, timeout=120, resume_every=RESUME_EVERY)

    # A batch that outlives its lease is sent twice by design: this test relies on none.
    by_connection: dict[tuple[str, int], list[float]] = {}
    for delivery in server.mailing(mailing):
        by_connection.setdefault(delivery.connection, []).append(delivery.at)
    slowest = max(max(times) - min(times) for times in by_connection.values())
    batches = sorted((round(max(t) - min(t), 2), len(t)) for t in by_connection.values())
    assert slowest < LEASE_SECONDS, f"(seconds, messages) of each batch: {batches}"

    seen = assert_each_wanted_signer_got_one(server, published, allowed_duplicates=in_flight)
    assert len(server.mailing(mailing)) > arrived_before_kill, "the second worker sent nothing"
    assert progress == {"total": total, "sent": total, "remaining": 0, "failed": 0}
    assert not OutboxMessage.objects.filter(mailing=mailing).exclude(state="sent").exists()
    assert mailing.finished_at is not None
    assert_in_each_signers_language(server, published)

    record_property("duplicates", seen)
    record_property("batches_in_flight_at_kill", in_flight)
    print(  # noqa: T201 (the figure to report over repeated runs: see it with -rP)
        f"\nkilled after {arrived_before_kill}/{total} messages with {in_flight} batch(es) "
        f"in flight; duplicates: {seen}; slowest batch {slowest:.2f} s"
    )


@pytest.mark.postgres
def test_the_senders_start_during_the_fan_out_and_nothing_stalls(
    workers: Workers, smtp: Callable[..., ScriptedSMTP]
) -> None:
    # Rows are created 2 at a time: 550 batches, seconds of fan-out during which the
    # senders (started after the first batch) keep catching up with it and waiting for
    # more. No resume_mailings here: whatever stalled would stay stalled.
    require(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://...)")
    server = smtp()
    workers.start(server.url, OUTBOX_FANOUT_BATCH="2")
    published = publish_to_signers(opted_in=1100, quiet=30)

    progress = wait_until_sent(published.mailing, timeout=120)

    mailing = published.mailing
    assert mailing.fanned_out_at is not None
    first = min(delivery.arrived_at for delivery in server.mailing(mailing))
    assert first < mailing.fanned_out_at, "the first message waited for the whole fan-out"
    assert progress == {"total": 1100, "sent": 1100, "remaining": 0, "failed": 0}
    assert_each_wanted_signer_got_one(server, published)
    during = sum(1 for d in server.mailing(mailing) if d.arrived_at < mailing.fanned_out_at)
    print(  # noqa: T201 (see it with -rP)
        f"\n{during} of 1100 messages sent during the fan-out, the first "
        f"{(mailing.fanned_out_at - first).total_seconds():.2f} s before its end"
    )


@pytest.mark.parametrize(
    ("stage", "refusal"),
    [
        pytest.param("DATA", "421 4.3.0 Try again later", id="421-at-DATA"),
        pytest.param("RCPT", "450 4.2.0 Greylisted, try again later", id="450-at-RCPT"),
    ],
)
def test_a_server_refusing_for_a_while_gets_every_message_after_retries(
    workers: Workers, smtp: Callable[..., ScriptedSMTP], stage: str, refusal: str
) -> None:
    # All 40 rows fit one batch: one sender claims them, is refused, releases them and
    # retries with backoff (up to 15 s, then 30 s), so this takes the retries, not luck.
    refusals = 2
    server = smtp(refuse_first=refusals, refusal=refusal, refuse_at=stage)
    workers.start(server.url)
    published = publish_to_signers(opted_in=40, quiet=5)

    progress = wait_until_sent(published.mailing, timeout=180)  # no resume: retries only

    assert server.refused == refusals
    assert progress == {"total": 40, "sent": 40, "remaining": 0, "failed": 0}
    assert_each_wanted_signer_got_one(server, published)


def test_an_address_refused_for_good_fails_alone_and_the_others_are_sent(
    workers: Workers, smtp: Callable[..., ScriptedSMTP]
) -> None:
    refused = f"fan7@{SIGNERS}"
    server = smtp(reject=frozenset({refused}))
    workers.start(server.url)
    published = publish_to_signers(opted_in=30, quiet=5)

    progress = wait_until_sent(published.mailing, timeout=60, resume_every=RESUME_EVERY)

    assert progress == {"total": 30, "sent": 29, "remaining": 0, "failed": 1}
    failed = OutboxMessage.objects.get(mailing=published.mailing, state="failed")
    assert failed.email == refused
    assert "550" in failed.error
    delivered = Counter(r for d in server.mailing(published.mailing) for r in d.recipients)
    assert refused not in delivered
    assert set(delivered) == set(published.wanted) - {refused}
    assert set(delivered.values()) == {1}
