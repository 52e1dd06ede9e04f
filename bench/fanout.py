"""Mailing fan-out: `.venv/bin/python -m bench.fanout [--signers N] [--million] [--quick]`.

It starts a stack of its own on loopback (a fresh PostgreSQL database, a Redis database of
its own, Celery workers and beat with bench.settings, and an SMTP sink in a separate
process that counts every message by its X-Agora-Outbox header), then:

A. delivery: N confirmed signers who asked to hear back (loaded with COPY), the petition
   routed, a response drafted, approved and published through the services; the mailing
   is timed from publication to the last message, and the worker is SIGKILLed (its whole
   process group) and restarted at 40 %. Every signer must get exactly one message.
B. routing: 20 petitions whose response thresholds are crossed one after another while
   confirmed signatures arrive at 200 a second; the time from the crossing signature's
   commit to the Assignment row.

It prints a table, exits 1 when a message was duplicated or lost (or a crossing was never
routed), and removes everything it started whatever happens. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import re
import secrets
import shutil
import signal
import smtplib
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.stack import (
    REPO,
    BenchError,
    CpuShare,
    CpuWindow,
    Processes,
    SmtpSinkProtocol,
    cpu_model,
    drop_database,
    free_port,
    percentile,
    run_bench,
    say,
)

BIN = Path(sys.executable).parent  # the virtualenv's bin: celery lives beside us

POSTGRES = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
REDIS_DB = int(os.environ.get("BENCH_FANOUT_REDIS_DB", "12"))
DATABASE = "agora_bench_fanout"

TARGET_RATE = 1000.0  # emails per second on 2 cores: a million in under 17 minutes
TARGET_ROUTING_P99 = 5.0  # seconds from the crossing signature to the Assignment row
KILL_AT = 0.4
SIGNATURE_RATE = 200  # per second during phase B
CROSSINGS = 20
WORKER_READY = re.compile(r"@\S+ ready\.")
COPY_CHUNK = 50_000
OUTBOX_HEADER = b"\r\nX-Agora-Outbox: "


# --- The SMTP sink (a process of its own) -------------------------------------------------


class SinkState:
    """What the sink received: per mailing, how many copies of each outbox row."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.messages = 0
        self.other = 0  # mail without the outbox header (staff notifications, creators)
        self.rows: dict[int, bytearray] = {}  # mailing -> copies per row id (saturates)
        self.copies: Counter[int] = Counter()
        self.distinct: Counter[int] = Counter()

    def record(self, content: bytes | bytearray, end: int) -> None:
        self.messages += 1
        at = content.find(OUTBOX_HEADER, 0, end)
        head = content.find(b"\r\n\r\n", 0, end)
        if at < 0 or (0 <= head < at):
            self.other += 1
            return
        start = at + len(OUTBOX_HEADER)
        stop = content.find(b"\r\n", start, end)
        mailing_text, _, row_text = bytes(content[start:stop]).partition(b":")
        mailing, row = int(mailing_text), int(row_text)
        counts = self.rows.get(mailing)
        if counts is None:
            counts = self.rows[mailing] = bytearray(max(row + 1, 1 << 16))
        elif row >= len(counts):
            counts.extend(bytes(max(row + 1 - len(counts), len(counts))))
        if counts[row] == 0:
            self.distinct[mailing] += 1
        if counts[row] < 255:
            counts[row] += 1
        self.copies[mailing] += 1


def serve_sink(port: int, control_port: int) -> None:
    """Run the sink until killed: SMTP on ``port``, a one-line control protocol on the
    other (``stats``: JSON; ``counts <mailing>``: the copies of each row id; ``reset``)."""
    state = SinkState()

    async def control(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        command, _, argument = (await reader.readline()).decode().strip().partition(" ")
        if command == "stats":
            payload = json.dumps(
                {
                    "messages": state.messages,
                    "other": state.other,
                    "distinct": {str(k): v for k, v in state.distinct.items()},
                    "copies": {str(k): v for k, v in state.copies.items()},
                }
            ).encode()
        elif command == "counts":
            payload = bytes(state.rows.get(int(argument), b""))
        elif command == "reset":
            state.reset()
            payload = b"ok"
        else:
            payload = b"?"
        writer.write(len(payload).to_bytes(8, "big") + payload)
        await writer.drain()
        writer.close()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        await loop.create_server(
            lambda: SmtpSinkProtocol(lambda _to, content, end: state.record(content, end)),
            "127.0.0.1",
            port,
            backlog=1024,
        )
        await asyncio.start_server(control, "127.0.0.1", control_port)
        await asyncio.Event().wait()

    asyncio.run(main())


def sample_message(number: int) -> bytes:
    """A message shaped like a response email (about 4 KB, text and HTML)."""
    line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n"
    return (
        b'Content-Type: multipart/alternative; boundary="b"\r\nMIME-Version: 1.0\r\n'
        b"Subject: The government responded\r\nFrom: bench@bench.local\r\n"
        b"To: someone@example.org\r\nX-Agora-Outbox: 0:" + str(number).encode() + b"\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\n" + line * 20 + b"--b\r\n"
        b"Content-Type: text/html\r\n\r\n" + line * 30 + b"--b--\r\n"
    )


def drive_sink(port: int, seconds: float) -> None:
    """Send messages to the sink over one connection for ``seconds``; print how many."""
    client = smtplib.SMTP("127.0.0.1", port)
    sent, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        client.sendmail("bench@bench.local", [f"r{sent}@example.org"], sample_message(sent))
        sent += 1
    client.quit()
    print(sent)


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of one process (and of its reaped children), from /proc."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    ticks = sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


# --- Figures --------------------------------------------------------------------------------


@dataclass
class Delivery:
    signers: int = 0
    load_seconds: float = 0.0
    fanout_seconds: float = 0.0
    first_message_seconds: float = 0.0
    total_seconds: float = 0.0
    steady_rate: float = 0.0
    killed_at_count: int = 0
    killed_after: float = 0.0
    restart_seconds: float = 0.0
    resumed_after: float = 0.0
    duplicates: int = 0
    missing: int = 0
    unexpected: int = 0
    failed_rows: int = 0
    cpu: CpuShare | None = None
    timeline: list[tuple[float, int]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.signers / self.total_seconds if self.total_seconds else 0.0

    def reached(self, share: float) -> float:
        """Seconds from publication until ``share`` of the signers had their message."""
        return next((t for t, n in self.timeline if n >= share * self.signers), 0.0)


@dataclass
class Watch:
    """Where phase A stands while the mailing is delivered."""

    workers: list[str]
    mailing_id: int = 0
    wall_start: float = 0.0
    started: float = 0.0
    killed: bool = False
    profiled: bool = False
    profiler: tuple[subprocess.Popen[bytes], Path] | None = None
    cpu: CpuWindow | None = None
    steady_from: tuple[float, int] | None = None
    last_count: int = 0
    last_time: float = 0.0


@dataclass
class Routing:
    latencies: list[float] = field(default_factory=list)
    never: int = 0
    signatures: int = 0
    seconds: float = 0.0


@dataclass
class Options:
    signers: int
    concurrency: int
    worker_instances: int
    senders: int | None
    lease: int | None
    kill: bool
    routing: bool
    profile: float
    timeout: float
    crossings: int
    keep_logs: bool


# --- The benchmark --------------------------------------------------------------------------


class Bench:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.tmp = Path(tempfile.mkdtemp(prefix="agora-bench-fanout-"))
        self.logs = self.tmp / "logs"
        self.logs.mkdir()
        self.processes = Processes(self.logs)
        self.smtp_port = free_port()
        self.control_port = free_port()
        self.env = self._environment()
        self.guard: Any = None
        self.database_created = False
        self.redis_used = False
        self.failures: list[str] = []
        self.sink_ceiling = 0.0
        self.sink_rate = 0.0
        self.sink_cpu_us = 0.0
        self.workers_started = 0
        self.nodes: dict[str, str] = {}  # process name -> Celery node name
        self.delivery = Delivery()
        self.routing = Routing()
        self.pg_version = ""
        self.pg_settings: dict[str, str] = {}
        self.staff: dict[str, Any] = {}

    # --- setup ----------------------------------------------------------------------------

    def _environment(self) -> dict[str, str]:
        alphabet = string.ascii_letters + string.digits
        bench_env = {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(64)),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": "https://bench.local",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_HSTS_SECONDS": "0",
            "DATABASE_URL": f"{POSTGRES}/{DATABASE}",
            "REDIS_URL": f"{REDIS}/{REDIS_DB}",
            "CELERY_BROKER_URL": "",
            "EMAIL_URL": f"smtp://127.0.0.1:{self.smtp_port}",
            "DEFAULT_FROM_EMAIL": "Agora bench <noreply@bench.local>",
            "LOG_LEVEL": "WARNING",
            "STATIC_ROOT": str(self.tmp / "static"),
            "BENCH_BEAT_SCHEDULE": str(self.tmp / "celerybeat-schedule"),
            "PYTHONUNBUFFERED": "1",
        }
        if self.options.senders is not None:
            bench_env["OUTBOX_SENDERS"] = str(self.options.senders)
        if self.options.lease is not None:
            bench_env["OUTBOX_LEASE_SECONDS"] = str(self.options.lease)
        return {**os.environ, **bench_env}

    def _admin_connection(self) -> Any:
        import psycopg2

        connection = psycopg2.connect(f"{POSTGRES}/postgres")
        connection.autocommit = True
        return connection

    def claim(self) -> None:
        """One run at a time: a second one would drop the first one's database."""
        self.guard = self._admin_connection()
        with self.guard.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [f"bench:{DATABASE}"])
            if not cursor.fetchone()[0]:
                self.guard.close()
                self.guard = None
                raise BenchError(f"another benchmark is using {DATABASE}: try again later")

    def release(self) -> None:
        if self.guard is not None:
            self.guard.close()
            self.guard = None

    def create_database(self) -> None:
        connection = self._admin_connection()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{DATABASE}"')
            cursor.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN ('synchronous_commit', "
                "'fsync', 'shared_buffers', 'autovacuum', 'max_connections')"
            )
            self.pg_settings = dict(cursor.fetchall())
            cursor.execute("SHOW server_version")
            self.pg_version = cursor.fetchone()[0]
        connection.close()
        self.database_created = True

    def drop_database(self) -> None:
        if not self.database_created:
            return
        drop_database(POSTGRES, DATABASE)
        self.database_created = False

    def flush_redis(self) -> None:
        import redis

        client = redis.Redis.from_url(f"{REDIS}/{REDIS_DB}")
        client.flushdb()
        client.close()

    def setup_django(self) -> None:
        os.environ.update(self.env)
        import django

        django.setup()
        from django.core.management import call_command

        say("migrate")
        call_command("migrate", verbosity=0, interactive=False)

    # --- the sink -------------------------------------------------------------------------

    def start_sink(self) -> None:
        argv = [sys.executable, "-m", "bench.fanout", "--serve-sink"]
        argv += [str(self.smtp_port), str(self.control_port)]
        self.processes.start("sink", argv, self.env)
        self.wait_for(self._sink_answers, 20, "the SMTP sink to listen")

    def _sink_answers(self) -> bool:
        try:
            self.sink_command("stats")
        except OSError:
            return False
        return True

    def sink_command(self, command: str) -> bytes:
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=30) as link:
            link.sendall(command.encode() + b"\n")
            reader = link.makefile("rb")
            size = int.from_bytes(reader.read(8), "big")
            return reader.read(size)

    def sink_stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = json.loads(self.sink_command("stats"))
        return stats

    def delivered(self, mailing_id: int) -> tuple[int, int]:
        """(distinct rows, copies) the sink got for a mailing."""
        stats = self.sink_stats()
        key = str(mailing_id)
        return int(stats["distinct"].get(key, 0)), int(stats["copies"].get(key, 0))

    def measure_sink(self, seconds: float = 5.0, clients: int = 2) -> None:
        """The sink alone, driven by ``clients`` smtplib connections: its rate, and its CPU per
        message, which gives its ceiling on one core (it is one single-threaded process)."""
        sink_pid = self.processes.started["sink"].pid
        cpu_before = process_cpu_seconds(sink_pid)
        before = self.sink_stats()["messages"]
        started = time.monotonic()
        argv = [sys.executable, "-m", "bench.fanout", "--drive-sink", str(self.smtp_port)]
        drivers = [
            subprocess.Popen([*argv, str(seconds)], stdout=subprocess.PIPE, cwd=REPO)
            for _ in range(clients)
        ]
        for driver in drivers:
            driver.communicate(timeout=seconds + 30)
        elapsed = time.monotonic() - started
        received = self.sink_stats()["messages"] - before
        cpu = process_cpu_seconds(sink_pid) - cpu_before
        self.sink_rate = received / elapsed
        self.sink_cpu_us = 1e6 * cpu / max(received, 1)
        self.sink_ceiling = 1e6 / self.sink_cpu_us if self.sink_cpu_us else 0.0
        say(
            f"SMTP sink alone: {self.sink_rate:,.0f} messages/s from {clients} smtplib clients; "
            f"{self.sink_cpu_us:.0f} us of CPU per message, so its ceiling is "
            f"{self.sink_ceiling:,.0f} messages/s on one core"
        )
        self.sink_command("reset")

    # --- workers --------------------------------------------------------------------------

    def start_worker(self, queues: str, node: str | None = None) -> str:
        """Start a worker; ``node`` restarts one under its old name, as systemd does."""
        self.workers_started += 1
        name = f"worker-{self.workers_started}"
        node = node or f"fanout-{self.workers_started}@%h"
        self.nodes[name] = node
        argv = [
            str(BIN / "celery"), "-A", "config", "worker", "-Q", queues,
            "--concurrency", str(self.options.concurrency), "--prefetch-multiplier", "1",
            "--hostname", node,
            "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO",
        ]  # fmt: skip
        self.processes.start(name, argv, self.env)
        log = self.logs / f"{name}.log"
        self.wait_for(lambda: bool(WORKER_READY.search(log.read_text(errors="replace"))), 90, name)
        return name

    def start_beat(self) -> None:
        argv = [
            str(BIN / "celery"), "-A", "config", "beat", "--loglevel", "WARNING",
            "--schedule", str(self.tmp / "celerybeat-schedule"),
            "--pidfile", str(self.tmp / "celerybeat.pid"),
        ]  # fmt: skip
        self.processes.start("beat", argv, self.env)

    def kill(self, name: str) -> None:
        """SIGKILL a process group (a Celery worker and its pool) and forget it."""
        process = self.processes.started.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self, name: str) -> None:
        """Warm shutdown of one process group."""
        process = self.processes.started.pop(name)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def pool_children(self, name: str) -> list[int]:
        leader = self.processes.started[name].pid
        children = []
        for entry in Path("/proc").iterdir():
            with suppress(OSError, ValueError, IndexError):
                raw = (entry / "stat").read_text()
                if int(raw[raw.rindex(")") + 2 :].split()[1]) == leader:
                    children.append(int(entry.name))
        return sorted(children)

    def wait_for(self, condition: Callable[[], bool], timeout: float, what: str) -> float:
        started = time.monotonic()
        while not condition():
            self.processes.check_alive()
            if time.monotonic() - started > timeout:
                raise BenchError(f"timed out after {timeout:g} s waiting for {what}")
            time.sleep(0.1)
        return time.monotonic() - started

    # --- data -----------------------------------------------------------------------------

    def create_people(self) -> None:
        """A department with an officer, a reviewer and a publisher; a moderator; a creator."""
        from allauth.account.models import EmailAddress
        from django.contrib.auth.models import Group

        from accounts.models import User
        from accounts.roles import Role, group_name
        from petitions.models import ThresholdPolicy, Topic
        from responses.models import Department, Membership

        def person(email: str, *roles: Role, staff: bool = True) -> Any:
            user = User.objects.create_user(
                email=email, password=None, display_name=email.split("@")[0], is_staff=staff
            )
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            for role in roles:
                user.groups.add(Group.objects.get(name=group_name(role)))
            return User.objects.get(pk=user.pk)

        department = Department.objects.create(
            name_en="Ministry of Transport",
            name_fr="Ministère des Transports",
            slug="transport",
            response_target_days=30,
        )
        topic = Topic.objects.create(
            slug="transport",
            name_en="Transport",
            name_fr="Transports",
            lead_department=department,
        )
        staff = {
            "officer": person("officer@bench.local", Role.OFFICER),
            "reviewer": person("reviewer@bench.local", Role.REVIEWER),
            "publisher": person("publisher@bench.local", Role.PUBLISHER),
        }
        for key, role in [
            ("officer", Membership.Role.OFFICER),
            ("reviewer", Membership.Role.REVIEWER),
            ("publisher", Membership.Role.PUBLISHER),
        ]:
            Membership.objects.create(user=staff[key], department=department, role=role)
        staff["moderator"] = person("moderator@bench.local", Role.MODERATOR)
        staff["creator"] = person("creator@bench.local", staff=False)
        staff["department"], staff["topic"] = department, topic
        policy = ThresholdPolicy.current()
        policy.response_threshold = 10_000_000  # set per petition below
        policy.consideration_threshold = None
        policy.save()
        self.staff = staff

    def create_petition(self, title: str, response_threshold: int) -> int:
        """An open petition on the department's topic, made through the services."""
        from petitions.models import Petition
        from petitions.services.creation import PetitionText, create_petition, request_moderation
        from petitions.services.moderation import approve_petition

        petition = create_petition(
            PetitionText(
                title=title,
                summary="Nous demandons des trains de nuit entre toutes les grandes villes.",
                details="Un **plan** financé, avec des horaires publics.",
                language="fr",
            ),
            actor=self.staff["creator"],
            country="FR",
            postcode="75011",
        )
        request_moderation(petition)
        approve_petition(petition, actor=self.staff["moderator"])
        petition.topics.set([self.staff["topic"]])
        Petition.objects.filter(pk=petition.pk).update(response_threshold=response_threshold)
        return int(petition.pk)

    def signature_template(self, petition_id: int) -> tuple[list[str], dict[str, Any]]:
        """The signature table's columns and the values every bulk-loaded row shares."""
        from django.utils import timezone

        from petitions.models import Signature

        now = timezone.now()
        template = Signature(
            petition_id=petition_id,
            name="Bench Signer",
            country="FR",
            postcode="75011",
            language="fr",
            state=Signature.State.CONFIRMED,
            wants_updates=True,
            counted=True,
            created_at=now,
            confirmed_at=now,
        )
        columns = [f.column for f in Signature._meta.concrete_fields if f.column != "id"]
        values = {
            f.column: getattr(template, f.attname)
            for f in Signature._meta.concrete_fields
            if f.column != "id"
        }
        return columns, values

    def load_signers(self, petition_id: int, count: int) -> float:
        """COPY ``count`` confirmed signers who asked to hear back (a third in English)."""
        from django.db import connection

        from petitions.models import Petition

        columns, shared = self.signature_template(petition_id)
        started = time.monotonic()
        with connection.cursor() as cursor:
            raw = cursor.connection
            for first in range(0, count, COPY_CHUNK):
                rows = range(first, min(count, first + COPY_CHUNK))
                buffer = io.StringIO()
                writer = csv.writer(buffer)
                for n in rows:
                    email = f"signer{n}@fanout.bench.local"
                    varying = {
                        "email": email,
                        "email_normalised": email,
                        "token": f"{n}-{secrets.token_urlsafe(16)}",
                        "language": "en" if n % 3 == 0 else "fr",
                    }
                    writer.writerow(
                        [_csv_value(varying.get(column, shared[column])) for column in columns]
                    )
                buffer.seek(0)
                with raw.cursor() as copy:
                    copy.copy_expert(
                        f"COPY petitions_signature ({', '.join(columns)}) "
                        "FROM STDIN WITH (FORMAT csv, NULL '\\N')",
                        buffer,
                    )
                raw.commit()
                progress_bar("loading signers", rows.stop, count, started)
            Petition.objects.filter(pk=petition_id).update(signature_count=count)
            cursor.execute("ANALYZE petitions_signature")  # autovacuum may be off here
        print(flush=True)
        return time.monotonic() - started

    # --- phase A: delivery ----------------------------------------------------------------

    def publish(self, petition_id: int) -> int:
        """Route, draft, submit, approve and publish through the services: the mailing."""
        from petitions.models import Petition
        from responses.models import Mailing
        from responses.services.drafting import (
            approve_response,
            create_response,
            submit_response,
        )
        from responses.services.publication import publish_response
        from responses.services.routing import route_petition

        route_petition(petition_id, "response")
        petition = Petition.objects.get(pk=petition_id)
        response = create_response(
            actor=self.staff["officer"],
            department=self.staff["department"],
            petitions=[petition],
            title="Night trains: our answer",
            body="We will run **12 night lines** from next winter.\n\n- Paris\n- Lyon",
        )
        submit_response(response, actor=self.staff["officer"])
        approve_response(response, actor=self.staff["reviewer"])
        publish_response(response, actor=self.staff["publisher"])
        return int(Mailing.objects.get(petition_id=petition_id).pk)

    def phase_a(self) -> None:
        o, d = self.options, self.delivery
        d.signers = o.signers
        petition_id = self.create_petition("Des trains de nuit partout", 10_000_000)
        say(f"petition {petition_id}: bulk-loading {o.signers:,} confirmed opted-in signers")
        d.load_seconds = self.load_signers(petition_id, o.signers)
        say(f"loaded in {d.load_seconds:.1f} s; starting {o.worker_instances} worker(s) and beat")
        watch = Watch(workers=[self.start_worker("mail") for _ in range(o.worker_instances)])
        self.start_beat()
        watch.wall_start = time.time()
        watch.mailing_id = self.publish(petition_id)
        watch.started = watch.last_time = time.monotonic()
        say(f"response published: mailing {watch.mailing_id}")
        watch.killed = not o.kill
        watch.profiled = o.profile <= 0
        while not self.watch_step(watch):
            if time.monotonic() > watch.started + o.timeout:
                raise BenchError(f"the mailing did not finish within {o.timeout:g} s")
            self.processes.check_alive()
            time.sleep(0.2)
        if d.cpu is None and watch.cpu is not None:
            d.cpu = watch.cpu.close()
            d.steady_rate = d.signers / max(d.total_seconds - d.first_message_seconds, 1e-6)
        self.after_delivery(watch)

    def watch_step(self, watch: Watch) -> bool:
        """One look at the sink (and now and then the database); True once it is over."""
        from responses.models import Mailing

        o, d = self.options, self.delivery
        now = time.monotonic()
        distinct, _copies = self.delivered(watch.mailing_id)
        d.timeline.append((now - watch.started, distinct))
        if distinct and watch.cpu is None:
            d.first_message_seconds = now - watch.started
            watch.cpu = CpuWindow(self.processes.group_ids())
        if watch.steady_from is None and distinct >= 0.05 * o.signers:
            watch.steady_from = (now, distinct)
        if not watch.profiled and distinct >= 0.1 * o.signers:
            watch.profiled = True
            watch.profiler = self.start_profile(watch.workers[0], o.profile)
        if not watch.killed and distinct >= KILL_AT * o.signers:
            self.kill_and_restart(watch, now, distinct)
            return False
        if o.kill and watch.killed and not d.resumed_after and distinct > d.killed_at_count:
            d.resumed_after = now - watch.started - d.killed_after
        look = distinct >= o.signers
        if now - watch.last_time >= 10:
            rate = (distinct - watch.last_count) / (now - watch.last_time)
            say(f"{distinct:,} of {o.signers:,} delivered ({rate:,.0f}/s over the last 10 s)")
            watch.last_count, watch.last_time, look = distinct, now, True
        if look:  # the database says when the mailing is over, not the sink
            finished = Mailing.objects.get(pk=watch.mailing_id).finished_at
            if finished is not None:
                d.total_seconds = finished.timestamp() - watch.wall_start
                return True
        return False

    def kill_and_restart(self, watch: Watch, now: float, distinct: int) -> None:
        d = self.delivery
        if watch.steady_from is not None:
            d.steady_rate = (distinct - watch.steady_from[1]) / max(
                now - watch.steady_from[0], 1e-6
            )
        if watch.cpu is not None:
            d.cpu = watch.cpu.close()
        victim = watch.workers.pop(0)
        self.kill(victim)
        d.killed_after, d.killed_at_count = time.monotonic() - watch.started, distinct
        say(f"SIGKILL {victim} (its process group) after {distinct:,} messages")
        # Restarted under the same name, as systemd restarts a unit: its predecessor's
        # claims are freed at once (config.celery.release_claims_of_previous_life).
        watch.workers.append(self.start_worker("mail", node=self.nodes[victim]))
        d.restart_seconds = time.monotonic() - watch.started - d.killed_after
        say(f"{watch.workers[-1]} ready {d.restart_seconds:.1f} s after the kill")
        watch.killed = True

    def after_delivery(self, watch: Watch) -> None:
        from responses.models import Mailing

        d = self.delivery
        mailing = Mailing.objects.get(pk=watch.mailing_id)
        if mailing.fanned_out_at is not None:
            d.fanout_seconds = mailing.fanned_out_at.timestamp() - watch.wall_start
        time.sleep(1.0)  # a straggler, if any, arrives
        if watch.profiler is not None:
            self.finish_profile(*watch.profiler)
        self.check_delivery(watch.mailing_id)
        for name in watch.workers:
            self.stop(name)

    def check_delivery(self, mailing_id: int) -> None:
        """Every outbox row of the mailing arrived exactly once; nothing else arrived."""
        from responses.models import OutboxMessage

        d = self.delivery
        counts = self.sink_command(f"counts {mailing_id}")
        rows = OutboxMessage.objects.filter(mailing_id=mailing_id)
        expected = set(rows.values_list("id", flat=True).iterator(chunk_size=50_000))
        d.failed_rows = rows.exclude(state=OutboxMessage.State.SENT).count()
        d.duplicates = sum(n - 1 for n in counts if n > 1)
        received = {row for row, n in enumerate(counts) if n}
        d.missing = len(expected - received) + max(0, d.signers - len(expected))
        d.unexpected = len(received - expected)
        say(
            f"check: {len(expected):,} outbox rows for {d.signers:,} signers, "
            f"{len(received):,} received, {d.duplicates} duplicates, {d.missing} missing, "
            f"{d.unexpected} unexpected, {d.failed_rows} rows not sent"
        )
        if d.duplicates:
            self.failures.append(f"{d.duplicates} duplicated messages")
        if d.missing or d.failed_rows:
            self.failures.append(f"{d.missing} signers got nothing ({d.failed_rows} rows unsent)")
        if d.unexpected:
            self.failures.append(f"{d.unexpected} messages for rows that do not exist")

    def start_profile(
        self, worker: str, seconds: float
    ) -> tuple[subprocess.Popen[bytes], Path] | None:
        """py-spy on the pool processes of ``worker`` (in the background): where the
        senders' time goes."""
        py_spy = BIN / "py-spy"
        if not py_spy.exists():
            say("py-spy is not installed (.venv/bin/pip install py-spy): no profile")
            return None
        output = self.logs / "profile.txt"
        say(f"py-spy: recording {worker}'s pool for {seconds:g} s")
        recorder = subprocess.Popen(
            [str(py_spy), "record", "--pid", str(self.processes.started[worker].pid),
             "--subprocesses", "--duration", str(int(seconds)), "--rate", "250",
             "--format", "raw", "--output", str(output)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        return recorder, output

    def finish_profile(self, recorder: subprocess.Popen[bytes], output: Path) -> None:
        with suppress(subprocess.TimeoutExpired):
            recorder.wait(timeout=self.options.profile + 30)
        if output.exists():
            print(summarise_profile(output), flush=True)
            say(f"raw profile (flamegraph input) kept in {output}")
            self.options.keep_logs = True

    # --- phase B: routing -----------------------------------------------------------------

    def phase_b(self) -> None:
        from responses.models import Assignment

        o, r = self.options, self.routing
        worker = self.start_worker("default,counting,mail")
        per_petition = SIGNATURE_RATE / o.crossings
        # The i-th petition crosses about 6 + 2.3 i seconds into the run: not a multiple of
        # the 2 s counting interval, so the crossings fall at every point of its cycle.
        thresholds = [int(per_petition * (6 + 2.3 * i)) for i in range(o.crossings)]
        petitions = [
            self.create_petition(f"Trains de nuit, ligne {i + 1}", threshold)
            for i, threshold in enumerate(thresholds)
        ]
        say(
            f"{o.crossings} petitions, response thresholds {thresholds[0]} to {thresholds[-1]}; "
            f"confirmed signatures arrive at {SIGNATURE_RATE}/s (direct INSERTs)"
        )
        time.sleep(3)  # a counting pass or two over the empty petitions
        inserter = Inserter(self, petitions, thresholds)
        inserter.start()
        routed: dict[int, float] = {}
        deadline = time.monotonic() + 6 + 2.3 * o.crossings + 60
        try:
            while len(routed) < len(petitions) and time.monotonic() < deadline:
                done = Assignment.objects.filter(
                    petition_id__in=[p for p in petitions if p not in routed],
                    role=Assignment.Role.LEAD,
                ).values_list("petition_id", flat=True)
                now = time.monotonic()
                for petition_id in done:
                    routed[petition_id] = now
                self.processes.check_alive()
                time.sleep(0.05)
        finally:
            inserter.halt.set()
            inserter.join(timeout=10)
        if inserter.error:
            raise BenchError(f"the signature inserter failed: {inserter.error}")
        r.signatures, r.seconds = inserter.inserted, inserter.elapsed
        for petition_id in petitions:
            crossed = inserter.crossed.get(petition_id)
            if crossed is None or petition_id not in routed:
                r.never += 1
                continue
            r.latencies.append(routed[petition_id] - crossed)
        if r.never:
            self.failures.append(f"{r.never} threshold crossings were never routed")
        say(
            f"routing latency over {len(r.latencies)} crossings: "
            f"p50 {percentile(r.latencies, 50):.2f} s, p99 {percentile(r.latencies, 99):.2f} s, "
            f"max {max(r.latencies, default=0):.2f} s; {r.signatures:,} signatures in "
            f"{r.seconds:.0f} s ({r.signatures / max(r.seconds, 1e-6):.0f}/s)"
        )
        self.stop(worker)

    # --- report ---------------------------------------------------------------------------

    def table(self) -> str:
        d, r, o = self.delivery, self.routing, self.options
        cores = os.cpu_count() or 1
        rate_ok = d.rate >= TARGET_RATE
        complete = not (d.missing or d.unexpected or d.failed_rows)
        routing_ok = bool(r.latencies) and percentile(r.latencies, 99) < TARGET_ROUTING_P99
        senders = o.senders if o.senders is not None else "4 (default)"
        lease = f"{o.lease} s" if o.lease is not None else "300 s (default)"
        rows = [
            ("machine", f"{cpu_model()}, {cores} cores"),
            (
                "stack",
                f"PostgreSQL {self.pg_version} (synchronous_commit "
                f"{self.pg_settings.get('synchronous_commit')}, autovacuum "
                f"{self.pg_settings.get('autovacuum')}); {o.worker_instances} Celery worker(s) "
                f"x {o.concurrency} prefork; OUTBOX_SENDERS {senders}; lease {lease}",
            ),
            (
                "SMTP sink",
                f"{self.sink_cpu_us:.0f} us CPU/message, ceiling {self.sink_ceiling:,.0f}/s "
                f"on one core (alone with 2 clients: {self.sink_rate:,.0f}/s)",
            ),
            (
                "signers (N)",
                f"{d.signers:,} confirmed, opted in, one petition (COPY {d.load_seconds:.0f} s)",
            ),
        ]
        if d.signers:
            rows += [
                (
                    "emails/s",
                    f"{d.rate:,.0f} end to end (publish to last message); "
                    f"{d.steady_rate:,.0f} steady{' before the kill' if o.kill else ''} -- "
                    "target >= "
                    f"{TARGET_RATE:,.0f}: {'PASS' if rate_ok else 'FAIL'}",
                ),
                (
                    "total time",
                    f"{d.total_seconds:.1f} s (fan-out done at {d.fanout_seconds:.1f} s, first "
                    f"message at {d.first_message_seconds:.1f} s, 99 % delivered at "
                    f"{d.reached(0.99):.1f} s)",
                ),
                ("duplicates", f"{d.duplicates} -- {'PASS' if not d.duplicates else 'FAIL'}"),
                (
                    "missing",
                    f"{d.missing} (rows not sent: {d.failed_rows}, unexpected: {d.unexpected})"
                    f" -- {'PASS' if complete else 'FAIL'}",
                ),
            ]
            if o.kill:
                rows.append(
                    (
                        "kill/restart",
                        f"SIGKILL at {d.killed_at_count:,} ({d.killed_after:.1f} s); new worker "
                        f"ready in {d.restart_seconds:.1f} s; delivery resumed "
                        f"{d.resumed_after:.1f} s after the kill",
                    )
                )
            if d.cpu is not None:
                rows.append(("cpu (steady)", d.cpu.describe(d.steady_rate)))
        if o.routing:
            rows.append(
                (
                    "routing latency",
                    f"{len(r.latencies)} crossings at {SIGNATURE_RATE} signatures/s: "
                    f"p50 {percentile(r.latencies, 50):.2f} s, "
                    f"p99 {percentile(r.latencies, 99):.2f} s, max "
                    f"{max(r.latencies, default=0):.2f} s, never routed {r.never} -- target p99 "
                    f"< {TARGET_ROUTING_P99:g} s: {'PASS' if routing_ok else 'FAIL'}",
                )
            )
        width = max(len(name) for name, _ in rows)
        lines = ["", "Fan-out benchmark", "=" * 17]
        lines += [f"{name.ljust(width)}  {value}" for name, value in rows]
        return "\n".join(lines)

    # --- the whole run --------------------------------------------------------------------

    def run(self) -> int:
        say(f"working directory {self.tmp}")
        self.claim()
        self.create_database()
        self.flush_redis()
        self.redis_used = True
        self.start_sink()
        self.measure_sink()
        self.setup_django()
        self.create_people()
        if self.options.signers:
            self.phase_a()
        if self.options.routing:
            self.phase_b()
        print(self.table(), flush=True)
        return 1 if self.failures else 0

    def cleanup(self) -> None:
        say("cleaning up")
        self.processes.stop_all()
        with suppress(Exception):
            self.drop_database()
        if self.redis_used:
            with suppress(Exception):
                self.flush_redis()
        self.release()
        if self.options.keep_logs or self.failures:
            say(f"logs kept in {self.logs}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


class Inserter(threading.Thread):
    """Confirmed signatures at SIGNATURE_RATE a second, round robin over the petitions, in
    a commit every 50 ms; remembers when each petition's threshold-crossing row committed."""

    def __init__(self, bench: Bench, petitions: list[int], thresholds: list[int]) -> None:
        super().__init__(daemon=True)
        self.bench, self.petitions = bench, petitions
        self.thresholds = dict(zip(petitions, thresholds, strict=True))
        self.halt = threading.Event()
        self.crossed: dict[int, float] = {}
        self.inserted = 0
        self.elapsed = 0.0
        self.error = ""

    def run(self) -> None:
        import psycopg2
        from psycopg2.extras import execute_values

        try:
            columns, shared = self.bench.signature_template(self.petitions[0])
            connection = psycopg2.connect(f"{POSTGRES}/{DATABASE}")
            cursor = connection.cursor()
            names = ", ".join(columns)  # the model's own column names, no input
            statement = f"INSERT INTO petitions_signature ({names}) VALUES %s"  # noqa: S608
            signed: Counter[int] = Counter()
            tick, started = 0.05, time.monotonic()
            per_tick = int(SIGNATURE_RATE * tick)
            while not self.halt.is_set():
                now = datetime.now(UTC)
                rows, crossing = [], []
                for _ in range(per_tick):
                    petition = self.petitions[self.inserted % len(self.petitions)]
                    self.inserted += 1
                    signed[petition] += 1
                    email = f"live{self.inserted}@fanout.bench.local"
                    varying = {
                        "petition_id": petition,
                        "email": email,
                        "email_normalised": email,
                        "token": f"live-{self.inserted}-{secrets.token_urlsafe(12)}",
                        "counted": False,
                        "wants_updates": False,
                        "created_at": now,
                        "confirmed_at": now,
                    }
                    rows.append([varying.get(c, shared[c]) for c in columns])
                    if signed[petition] == self.thresholds[petition]:
                        crossing.append(petition)
                execute_values(cursor, statement, rows, page_size=len(rows))
                connection.commit()
                committed = time.monotonic()
                for petition in crossing:
                    self.crossed[petition] = committed
                self.elapsed = committed - started
                pause = started + tick * (self.inserted // per_tick) - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            connection.close()
        except Exception as error:  # noqa: BLE001 (any failure is reported; the run stops)
            self.error = repr(error)


def _csv_value(value: Any) -> Any:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def progress_bar(label: str, done: int, total: int, started: float) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    rate = done / max(time.monotonic() - started, 1e-6)
    bar = "#" * filled + "." * (width - filled)
    print(f"\r  {label} [{bar}] {done:,}/{total:,} ({rate:,.0f}/s)", end="", flush=True)


def summarise_profile(path: Path, top: int = 25) -> str:
    """Inclusive and self time per function from py-spy's raw (collapsed stacks) output."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = [_frame(frame) for frame in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    if not total:
        return "  (no samples)"
    lines = [f"  py-spy: {total} samples; inclusive share (functions under the task):"]
    lines += [
        f"  {n / total:6.1%}  {name}"
        for name, n in inclusive.most_common(120)
        if not any(skip in name for skip in ("celery/", "billiard/", "runpy", "<module>"))
    ][:top]
    lines.append("  self share (where the process actually was):")
    lines += [f"  {n / total:6.1%}  {name}" for name, n in own.most_common(12)]
    return "\n".join(lines)


def _frame(frame: str) -> str:
    """'function (path/to/file.py:line)' -> 'function (file.py)'."""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    parts = Path(path).parts
    short = "/".join(parts[-2:]) if len(parts) > 1 else path
    return f"{name} ({short})"


def parse_options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fanout", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--signers", type=int, default=100_000, help="default 100,000")
    parser.add_argument("--million", action="store_true", help="1,000,000 signers")
    parser.add_argument("--quick", action="store_true", help="10,000 signers, 10 crossings")
    parser.add_argument(
        "--concurrency", type=int, default=3, help="prefork processes per worker (default 3)"
    )
    parser.add_argument(
        "--worker-instances", type=int, default=1, help="worker process groups (default 1)"
    )
    parser.add_argument("--senders", type=int, help="OUTBOX_SENDERS (default: the setting's)")
    parser.add_argument("--lease", type=int, help="OUTBOX_LEASE_SECONDS (default: the setting's)")
    parser.add_argument("--no-kill", action="store_true", help="do not kill a worker")
    parser.add_argument("--no-routing", action="store_true", help="skip phase B")
    parser.add_argument(
        "--profile", type=float, default=0.0, help="py-spy a sender for this many seconds"
    )
    parser.add_argument("--timeout", type=float, help="seconds for the mailing to finish")
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs")
    args = parser.parse_args(argv)
    signers = 1_000_000 if args.million else (10_000 if args.quick else args.signers)
    return Options(
        signers=signers,
        concurrency=args.concurrency,
        worker_instances=args.worker_instances,
        senders=args.senders,
        lease=args.lease,
        kill=not args.no_kill,
        routing=not args.no_routing,
        profile=args.profile,
        timeout=args.timeout or 900 + signers / 100,
        crossings=10 if args.quick else CROSSINGS,
        keep_logs=args.keep_logs,
    )


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["--serve-sink"]:
        serve_sink(int(arguments[1]), int(arguments[2]))
        return 0
    if arguments[:1] == ["--drive-sink"]:
        drive_sink(int(arguments[1]), float(arguments[2]))
        return 0
    options = parse_options(arguments)
    return run_bench(Bench(options))


if __name__ == "__main__":
    sys.exit(main())
