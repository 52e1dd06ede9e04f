"""Signing surge benchmark: `.venv/bin/python -m bench.signing [--quick]`.

It starts a production-like stack of its own on loopback (gunicorn with bench.settings, a
fresh PostgreSQL database, a dedicated Redis database, a Celery worker and beat with the
project's schedule, an SMTP sink), then:

1. submissions: wrk POSTs the signing form at 16 and 64 connections, each signature with
   its own address, and the same load against a bare insert view (bench.baseline) for the
   ratio;
2. confirmations: wrk follows every confirmation link while a monitor reads the public
   count every 100 ms, which gives the count lag of each confirmed signature;
3. integrity: every accepted submission is stored exactly once, the stored count equals
   the confirmed rows, and every signer received exactly one confirmation email.

It prints a table, exits 1 when a check fails, and removes everything it started (its
processes, the database, the Redis database) whatever happens. See bench/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.stack import (
    REPO,
    BenchError,
    CountMonitor,
    CpuShare,
    MailSink,
    Processes,
    count_lags,
    cpu_model,
    drop_database,
    ensure_wrk,
    free_port,
    measure_cpu,
    percentile,
    run_bench,
    say,
)

BIN = Path(sys.executable).parent  # the virtualenv's bin: gunicorn and celery live beside us
LUA = REPO / "bench" / "lua"

POSTGRES = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "13"))
DATABASE = "agora_bench"

TARGET_RATE, TARGET_P99_MS, TARGET_RATIO, TARGET_LAG_S = 500, 150, 0.5, 3.0
CONCURRENCY = (16, 64)
CONFIRM_CONNECTIONS = 16
WRK_LINE = re.compile(r"^BENCH (.*)$", re.MULTILINE)
WRK_IN_FLIGHT = re.compile(r"^BENCH_IN_FLIGHT (\S+)$", re.MULTILINE)

# --- wrk ---------------------------------------------------------------------------------


@dataclass
class Run:
    """One wrk run: what the generator saw."""

    name: str
    connections: int
    seconds: float
    requests: int
    good: int  # 303 for submissions, 200 for confirmations
    bad: int  # other statuses
    errors: dict[str, int]
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    accepted: set[str] = field(default_factory=set)
    refused: dict[str, str] = field(default_factory=dict)  # email -> status
    unknown: set[str] = field(default_factory=set)  # sent, no answer seen
    cpu: CpuShare | None = None

    @property
    def rate(self) -> float:
        return self.good / self.seconds if self.seconds else 0.0

    def describe(self) -> str:
        errors = ", ".join(f"{k} {v}" for k, v in self.errors.items() if v) or "none"
        return (
            f"{self.name} c={self.connections}: {self.rate:.0f}/s over {self.seconds:.1f} s, "
            f"{self.good} ok, {self.bad} other statuses, socket errors {errors}; latency p50 "
            f"{self.p50_ms:.1f} ms p95 {self.p95_ms:.1f} ms p99 {self.p99_ms:.1f} ms "
            f"max {self.max_ms:.0f} ms"
        )


def _parse_wrk(name: str, connections: int, output: str) -> Run:
    match = WRK_LINE.search(output)
    if match is None:
        raise BenchError(f"wrk printed no summary for {name}:\n{output[-2000:]}")
    values = {key: int(value) for key, value in (p.split("=") for p in match.group(1).split())}
    good = values.get("accepted", values.get("ok", 0))
    bad = values.get("refused", values.get("failed", 0))
    return Run(
        name=name,
        connections=connections,
        seconds=values["duration_us"] / 1e6,
        requests=values["requests"],
        good=good,
        bad=bad,
        errors={k: values[k] for k in ("connect", "read", "write", "timeout")},
        p50_ms=values["p50_us"] / 1000,
        p95_ms=values["p95_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
        max_ms=values["max_us"] / 1000,
    )


def wrk_argv(wrk: str, connections: int, seconds: float, script: str, url: str) -> list[str]:
    # One connection per thread: each thread's responses then answer its requests in order.
    return [
        wrk, "-t", str(connections), "-c", str(connections), "-d", f"{seconds:g}s",
        "--timeout", "10s", "-s", str(LUA / script), url,
    ]  # fmt: skip


def lower_autogroup(pid: int, nice: int) -> None:
    """Give the process's session (a new one: Processes starts each in its own) the niceness.

    With the kernel's autogroups (sched_autogroup_enabled, the default on desktops and on
    this machine), each session gets an equal share of the CPU whatever its processes'
    niceness, so ``nice`` alone changes nothing between sessions; the session's own
    niceness does. systemd units get the same effect from CPUWeight= (deploy/).
    """
    with suppress(OSError):
        Path(f"/proc/{pid}/autogroup").write_text(str(nice))


# --- The benchmark -----------------------------------------------------------------------


@dataclass
class Options:
    seconds: float
    warmup: float
    workers: int
    worker_class: str
    threads: int
    worker_connections: int
    worker_concurrency: int
    mail_nice: int
    keep_logs: bool


class Bench:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.tmp = Path(tempfile.mkdtemp(prefix="agora-bench-"))
        self.logs = self.tmp / "logs"
        self.logs.mkdir()
        self.processes = Processes(self.logs)
        self.sink = MailSink()
        self.web_port = free_port()
        self.smtp_port = free_port()
        self.csrf = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
        self.env = self._environment()
        self.guard: Any = None
        self.database_created = False
        self.redis_used = False
        self.pk = 0
        self.runs: list[Run] = []
        self.failures: list[str] = []
        self.lines: list[str] = []
        self.wrk = ""

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
            "SIGNING_RATE_PER_IP": "100000000/s",
            "SIGNING_RATE_PER_DOMAIN": "100000000/s",
            "LOG_LEVEL": "WARNING",
            "STATIC_ROOT": str(self.tmp / "static"),
            "BENCH_BEAT_SCHEDULE": str(self.tmp / "celerybeat-schedule"),
            "PYTHONUNBUFFERED": "1",
        }
        return {**os.environ, **bench_env}

    def _admin_connection(self) -> Any:
        import psycopg2

        connection = psycopg2.connect(f"{POSTGRES}/postgres")
        connection.autocommit = True
        return connection

    def claim(self) -> None:
        """One benchmark at a time: a second run would drop the first one's database.

        The session advisory lock is held by a connection that lives as long as this run
        (PostgreSQL releases it if the process dies).
        """
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
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('synchronous_commit', 'fsync', 'shared_buffers', 'max_connections')"
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

    def redis(self) -> Any:
        import redis

        return redis.Redis.from_url(f"{REDIS}/{REDIS_DB}")

    def flush_redis(self) -> None:
        client = self.redis()
        client.flushdb()
        client.close()

    def start_smtp(self) -> None:
        self.sink.start(self.smtp_port)

    def setup_django(self) -> None:
        """Configure Django in this process too: setup, checks and analysis use the ORM."""
        os.environ.update(self.env)
        import django

        django.setup()
        from django.core.management import call_command

        say("migrate, load_regions, collectstatic")
        call_command("migrate", verbosity=0, interactive=False)
        call_command("load_regions", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        call_command("collectstatic", verbosity=0, interactive=False)
        self.pk = self.create_petition()

    def create_petition(self) -> int:
        """One open petition, made as the site makes them: a verified creator, moderation."""
        from allauth.account.models import EmailAddress
        from django.contrib.auth.models import Group

        from accounts.models import User
        from accounts.roles import Role, group_name
        from petitions.models import ThresholdPolicy
        from petitions.services.creation import PetitionText, create_petition, request_moderation
        from petitions.services.moderation import approve_petition

        creator = User.objects.create_user(
            email="creator@bench.local", password=None, display_name="Camille Créatrice"
        )
        EmailAddress.objects.create(user=creator, email=creator.email, verified=True, primary=True)
        moderator = User.objects.create_user(
            email="moderator@bench.local", password=None, display_name="Moderator", is_staff=True
        )
        moderator.groups.add(Group.objects.get(name=group_name(Role.MODERATOR)))
        moderator = User.objects.get(pk=moderator.pk)
        policy = ThresholdPolicy.current()
        policy.response_threshold = 10_000_000  # not crossed during the run
        policy.consideration_threshold = None
        policy.save()
        petition = create_petition(
            PetitionText(
                title="Des pistes cyclables sûres dans chaque commune",
                summary="Nous demandons un plan national de pistes cyclables séparées.",
                details="Un **plan** financé, avec des pistes séparées de la circulation.",
                language="fr",
            ),
            actor=creator,
            country="FR",
            postcode="75011",
        )
        request_moderation(petition)
        approve_petition(petition, actor=moderator)
        return petition.pk

    def start_stack(self) -> None:
        o = self.options
        say(
            f"starting gunicorn ({o.workers} {o.worker_class} workers"
            + (f" x {o.threads} threads" if o.worker_class == "gthread" else "")
            + f", config/gunicorn.py) on 127.0.0.1:{self.web_port}, a Celery worker (prefork x "
            f"{o.worker_concurrency}, mail at nice {o.mail_nice}) and beat"
        )
        self.processes.start(
            "gunicorn",
            [
                str(BIN / "gunicorn"), "--config", "config/gunicorn.py",
                "--bind", f"127.0.0.1:{self.web_port}",
                "--workers", str(o.workers), "--worker-class", o.worker_class,
                "--threads", str(o.threads), "--worker-connections", str(o.worker_connections),
                "--log-level", "warning", "--error-logfile", "-",
            ],
            self.env,
        )  # fmt: skip
        # As deploy/ runs them: counting and routing in a worker of their own, mail in
        # another one at a lower CPU priority, so that a surge's confirmation emails queue
        # up (their rows are the outbox) rather than slow down the signing itself.
        worker = [
            str(BIN / "celery"), "-A", "config", "worker", "--without-gossip",
            "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING",
        ]  # fmt: skip
        self.processes.start(
            "celery-worker",
            [*worker, "-Q", "default,counting", "--concurrency", "1", "--hostname", "bench@%h"],
            self.env,
        )
        mail = self.processes.start(
            "celery-mail",
            [
                "nice", "-n", str(o.mail_nice), *worker, "-Q", "mail",
                "--concurrency", str(o.worker_concurrency), "--hostname", "mail@%h",
            ],
            self.env,
        )  # fmt: skip
        lower_autogroup(mail.pid, o.mail_nice)
        self.processes.start(
            "celery-beat",
            [
                str(BIN / "celery"), "-A", "config", "beat", "--loglevel", "WARNING",
                "--schedule", str(self.tmp / "celerybeat-schedule"),
                "--pidfile", str(self.tmp / "celerybeat.pid"),
            ],
            self.env,
        )  # fmt: skip
        self.wait_for(self._web_answers, 60, "gunicorn to answer")
        # The creator's emails (created, opened) were queued at setup: the worker sends them.
        self.wait_for(lambda: self.sink.received("creator@") >= 2, 90, "the worker to send mail")
        self.wait_for(self._counted_once, 30, "beat to run the counting task")

    def _web_answers(self) -> bool:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.web_port, timeout=5)
            connection.request("GET", f"/petitions/{self.pk}/count.json")
            status = connection.getresponse().status
            connection.close()
        except OSError:
            return False
        if status != 200:
            raise BenchError(f"GET /petitions/{self.pk}/count.json answered {status}")
        return True

    def _counted_once(self) -> bool:
        from petitions.models import Petition

        return Petition.objects.filter(pk=self.pk, counted_at__isnull=False).exists()

    def wait_for(self, condition: Any, timeout: float, what: str, every: float = 0.2) -> float:
        started = time.monotonic()
        while not condition():
            self.processes.check_alive()
            if time.monotonic() - started > timeout:
                raise BenchError(f"timed out after {timeout:g} s waiting for {what}")
            time.sleep(every)
        return time.monotonic() - started

    # --- phases ---------------------------------------------------------------------------

    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def submit(self, name: str, tag: str, path: str, connections: int, seconds: float) -> Run:
        outdir = self.tmp / "wrk"
        outdir.mkdir(exist_ok=True)
        argv = wrk_argv(self.wrk, connections, seconds, "submit.lua", self.url())
        argv += ["--", tag, path, self.csrf, str(outdir)]
        with measure_cpu(self.processes.group_ids()) as cpu:
            result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BenchError(f"wrk failed ({result.returncode}): {result.stderr[-2000:]}")
        run = _parse_wrk(name, connections, result.stdout)
        run.cpu = cpu[0]
        run.unknown.update(WRK_IN_FLIGHT.findall(result.stdout))
        for log in outdir.glob(f"{tag}-*.log"):
            for line in log.read_text().splitlines():
                status, _, email = line.partition(" ")
                if status == "+":
                    run.accepted.add(email)
                elif status == "?":
                    run.unknown.add(email)
                else:
                    run.refused[email] = status
        self.runs.append(run)
        say(run.describe())
        say(f"  {run.cpu.describe(run.rate)}")
        return run

    def signer_rows(self) -> int:
        from petitions.models import Signature

        return Signature.objects.filter(email__startswith="bench-").count()

    def wait_for_mail(self, timeout: float) -> tuple[int, int, float]:
        """Wait until every stored signature's confirmation email reached the sink."""
        expected = self.signer_rows()
        try:
            waited = self.wait_for(
                lambda: self.sink.received("bench-") >= expected, timeout, "the mail queue", 0.5
            )
        except BenchError:
            return self.sink.received("bench-"), expected, timeout
        return self.sink.received("bench-"), expected, waited

    def drain(self, before: str) -> None:
        """Start each measured phase with an idle worker: no backlog of the previous one."""
        received, expected, waited = self.wait_for_mail(600)
        if waited >= 1:
            say(f"mail queue drained before {before}: {received}/{expected} in {waited:.1f} s")
        if received < expected:
            raise BenchError(f"the mail queue did not drain: {received}/{expected} delivered")

    def confirm_all(self) -> tuple[Run, float, list[float], int, int]:
        """Confirm every pending signature; monitor the count meanwhile."""
        from petitions.models import Petition, Signature

        pending = Signature.objects.filter(petition_id=self.pk, state=Signature.State.PENDING)
        tokens = list(pending.order_by("id").values_list("token", flat=True))
        token_file = self.tmp / "tokens.txt"
        token_file.write_text("\n".join(tokens) + "\n")
        counted_before = Petition.objects.get(pk=self.pk).signature_count
        monitor = CountMonitor(self.web_port, self.pk)
        monitor.start()
        argv = wrk_argv(self.wrk, CONFIRM_CONNECTIONS, 900, "confirm.lua", self.url())
        argv += ["--", str(token_file), str(CONFIRM_CONNECTIONS), f"/petitions/{self.pk}/"]
        say(f"confirming {len(tokens)} signatures at {CONFIRM_CONNECTIONS} connections")
        started = time.time()
        with measure_cpu(self.processes.group_ids()) as cpu:
            process = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            try:
                while process.poll() is None and pending.exists():
                    time.sleep(0.25)
            finally:
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)  # wrk stops early and prints its summary
                stdout, stderr = process.communicate(timeout=60)
        if process.returncode != 0:
            raise BenchError(f"wrk failed ({process.returncode}): {stderr[-2000:]}")
        run = _parse_wrk("confirmations", CONFIRM_CONNECTIONS, stdout)
        run.cpu = cpu[0]
        confirmed = list(
            Signature.objects.filter(petition_id=self.pk, email__startswith="bench-")
            .exclude(confirmed_at=None)
            .values_list("confirmed_at", flat=True)
        )
        last = max(confirmed).timestamp() if confirmed else started
        run.seconds = max(last - started, 1e-6)  # up to the last confirmation, not the poll
        self.runs.append(run)
        say(run.describe())
        say(f"  {run.cpu.describe(run.rate)}")
        # The displayed count must reach every confirmed row.
        expected = Signature.objects.filter(
            petition_id=self.pk, state=Signature.State.CONFIRMED
        ).count()
        with suppress(BenchError):
            self.wait_for(lambda: monitor.latest() == expected, 60, "the displayed count", 0.1)
        monitor.halt.set()
        monitor.join()
        lags, never = count_lags(
            [t.timestamp() for t in confirmed], monitor.samples, counted_before
        )
        return run, len(tokens) / run.seconds, lags, never, monitor.errors

    # --- integrity ------------------------------------------------------------------------

    def check(self, name: str, ok: bool, detail: str) -> None:
        line = f"{name}: {'PASS' if ok else 'FAIL'} ({detail})"
        self.lines.append(line)
        if not ok:
            self.failures.append(line)

    def integrity(self, submissions: list[Run], baseline: list[Run], confirm: Run) -> None:
        from django.db.models import Count

        from bench.baseline.models import Row
        from petitions.models import Petition, Signature

        counted = sum(run.good for run in [*submissions, *baseline])
        logged = sum(len(run.accepted) for run in [*submissions, *baseline])
        self.check(
            "wrk's count of 303s == addresses it logged",
            counted == logged,
            f"{counted} counted, {logged} logged",
        )
        signatures = Signature.objects.filter(petition_id=self.pk, email__startswith="bench-")
        stored = Counter(signatures.values_list("email", flat=True))
        accepted = set().union(*(run.accepted for run in submissions))
        unknown = set().union(*(run.unknown for run in submissions))
        refused = {e: s for run in submissions for e, s in run.refused.items()}
        missing = accepted - set(stored)
        twice = [e for e, n in stored.items() if n > 1]
        unexplained = set(stored) - accepted - unknown
        duplicates = (
            Signature.objects.values("petition_id", "email_normalised")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
        self.check(
            "integrity: accepted == rows == unique emails",
            not missing and not twice and not unexplained and not duplicates,
            f"{len(accepted)} accepted (303), {len(stored)} rows, {len(set(stored))} unique "
            f"emails; {len(missing)} accepted but missing, {len(twice)} stored twice, "
            f"{duplicates} duplicate normalised emails, {len(set(stored) - accepted)} rows from "
            f"requests whose answer wrk never saw (in flight at the end: allowed), "
            f"{len(unexplained)} unexplained",
        )
        self.check(
            "submissions all accepted",
            not refused,
            f"{len(refused)} answered otherwise: {dict(Counter(refused.values()))}"
            if refused
            else "every answer seen was 303",
        )
        baseline_good = sum(run.good for run in baseline)
        baseline_unknown = sum(len(run.unknown) for run in baseline)
        rows = Row.objects.count()
        self.check(
            "baseline 303s == rows",
            baseline_good <= rows <= baseline_good + baseline_unknown,
            f"{baseline_good} answered 303, {rows} rows, {baseline_unknown} in flight",
        )
        confirmed = Signature.objects.filter(petition_id=self.pk, state=Signature.State.CONFIRMED)
        still_pending = signatures.filter(state=Signature.State.PENDING).count()
        self.check(
            "confirmations",
            confirm.bad == 0 and still_pending == 0,
            f"{confirm.good} answered 200, {confirm.bad} otherwise, {still_pending} still pending",
        )
        count = Petition.objects.get(pk=self.pk).signature_count
        n_confirmed = confirmed.count()
        self.check(
            "stored signature_count == confirmed rows",
            count == n_confirmed,
            f"{count} stored, {n_confirmed} confirmed rows",
        )
        received, expected, _waited = self.wait_for_mail(300)
        with self.sink.lock:
            per = {a: n for a, n in self.sink.per_recipient.items() if a.startswith("bench-")}
            tokens = dict(self.sink.tokens)
        lowered = {e.lower(): e for e in stored}
        wrong = [a for a, n in per.items() if n != 1 or a not in lowered]
        db_tokens = dict(signatures.values_list("email", "token"))
        mismatched = [a for a in per if tokens.get(a) != db_tokens.get(lowered.get(a, ""))]
        self.emails = (received, expected)
        self.check(
            "one confirmation email per signature",
            received == expected == len(per) and not wrong and not mismatched,
            f"{received} delivered for {expected} signatures, {len(wrong)} addresses with a "
            f"count other than 1, {len(mismatched)} whose link does not carry their token",
        )

    # --- report ---------------------------------------------------------------------------

    def table(
        self,
        pairs: list[tuple[Run, Run]],
        confirm_rate: float,
        lags: list[float],
        never: int,
    ) -> str:
        cpu = cpu_model()
        o = self.options
        server = f"gunicorn {o.workers} x {o.worker_class}" + (
            f" ({o.threads} threads, at most {o.worker_connections} connections each)"
            if o.worker_class == "gthread"
            else ""
        )
        out = [
            f"signing surge on {cpu}, {os.cpu_count()} cores, load generator on the same machine",
            f"({server}, Celery counting x 1 + mail prefork x {o.worker_concurrency} at nice "
            f"{o.mail_nice}, PostgreSQL {self.pg_version}, "
            f"{o.seconds:g} s per phase)",
            "concurrency  ours req/s  p50 ms  p95 ms  p99 ms  baseline req/s  baseline p99  ratio",
        ]
        for ours, base in pairs:
            ratio = ours.rate / base.rate if base.rate else 0.0
            out.append(
                f"{ours.connections:<11}  {ours.rate:>10.0f}  {ours.p50_ms:>6.1f}  "
                f"{ours.p95_ms:>6.1f}  {ours.p99_ms:>6.1f}  {base.rate:>14.0f}  "
                f"{base.p99_ms:>9.1f} ms  {ratio:>5.2f}"
            )
        lag = "/".join(f"{percentile(lags, p):.2f}" for p in (50, 95, 99))
        lag += f"/{max(lags, default=0):.2f} s"
        if never:
            lag += f" ({never} never shown)"
        received, expected = self.emails
        out.append(
            f"confirmations/s {confirm_rate:.0f}   count lag p50/p95/p99/max {lag}   "
            f"emails delivered {received}/{expected}"
        )
        out.extend(self.lines)
        measured = [run for run in self.runs if not run.name.startswith("warm-up")]
        foreign = [run for run in measured if run.cpu is not None and run.cpu.foreign >= 0.1]
        if foreign:
            worst = max(foreign, key=lambda run: run.cpu.foreign if run.cpu else 0)
            out.append(
                f"WARNING: processes outside the benchmark used up to "
                f"{worst.cpu.foreign if worst.cpu else 0:.0%} of the machine "
                f"({len(foreign)} of {len(measured)} phases): rerun on a quiet machine"
            )
        out.append(
            f"targets: >={TARGET_RATE} req/s, p99 < {TARGET_P99_MS} ms, ratio >= {TARGET_RATIO}, "
            f"lag p99 < {TARGET_LAG_S:g} s, nothing lost"
        )
        met = []
        for ours, base in pairs:
            ratio = ours.rate / base.rate if base.rate else 0.0
            met.append(
                f"c={ours.connections}: rate {'met' if ours.rate >= TARGET_RATE else 'MISSED'}, "
                f"p99 {'met' if ours.p99_ms < TARGET_P99_MS else 'MISSED'}, "
                f"ratio {'met' if ratio >= TARGET_RATIO else 'MISSED'}"
            )
        p99_lag = percentile(lags, 99)
        met.append(f"lag {'met' if p99_lag < TARGET_LAG_S and not never else 'MISSED'}")
        met.append(f"nothing lost {'met' if not self.failures else 'MISSED'}")
        out.append("         " + "; ".join(met))
        return "\n".join(out)

    # --- the whole run --------------------------------------------------------------------

    def run(self) -> int:
        o = self.options
        self.wrk = ensure_wrk()
        say(f"working directory {self.tmp}")
        self.claim()
        self.create_database()
        self.flush_redis()
        self.redis_used = True
        self.start_smtp()
        self.setup_django()
        self.start_stack()
        say(f"petition {self.pk} open; warming up for {o.warmup:g} s")
        sign_path = f"/petitions/{self.pk}/sign/"
        warm = self.submit("warm-up", "warm", sign_path, 16, o.warmup)
        warm_base = self.submit("warm-up baseline", "warmbase", "/bench/insert/", 16, o.warmup)

        pairs: list[tuple[Run, Run]] = []
        for connections in CONCURRENCY:
            self.drain(f"signing at {connections}")
            ours = self.submit("signing", f"c{connections}", sign_path, connections, o.seconds)
            self.drain(f"the baseline at {connections}")
            base = self.submit(
                "baseline", f"b{connections}", "/bench/insert/", connections, o.seconds
            )
            pairs.append((ours, base))
        self.drain("confirmations")
        confirm, confirm_rate, lags, never, monitor_errors = self.confirm_all()
        if monitor_errors:
            say(f"count monitor: {monitor_errors} polls failed")
        say(
            f"count lag over {len(lags)} confirmations: p50 {percentile(lags, 50):.2f} s, "
            f"p95 {percentile(lags, 95):.2f} s, p99 {percentile(lags, 99):.2f} s, "
            f"max {max(lags, default=0):.2f} s"
        )
        self.check(
            "displayed count reached every confirmation",
            not never,
            f"{never} never shown within 60 s" if never else f"{len(lags)} shown",
        )
        self.integrity([warm, *(p[0] for p in pairs)], [warm_base, *(p[1] for p in pairs)], confirm)
        print()
        print(self.table(pairs, confirm_rate, lags, never), flush=True)
        return 1 if self.failures else 0

    def cleanup(self) -> None:
        say("cleaning up")
        self.processes.stop_all()
        with suppress(Exception):
            self.sink.stop()
        with suppress(Exception):
            self.drop_database()
        if self.redis_used:
            with suppress(Exception):
                self.flush_redis()
        self.release()
        if self.options.keep_logs or self.failures:
            say(f"logs kept in {self.logs}")
            shutil.rmtree(self.tmp / "static", ignore_errors=True)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def parse_options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.signing", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="8 s per phase instead of 30 s")
    parser.add_argument("--seconds", type=float, help="seconds per phase (overrides --quick)")
    # gthread keeps each client's connection open (as a proxy with upstream keep-alive
    # does); sync workers close it after every answer. See bench/README.md for the choice.
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument(
        "--worker-class", default="gthread", choices=["sync", "gthread"], help="default gthread"
    )
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    parser.add_argument(
        "--worker-connections",
        type=int,
        help="client connections a gthread worker holds at most (default 4 x threads)",
    )
    parser.add_argument(
        "--celery-concurrency", type=int, default=2, help="Celery prefork processes (default 2)"
    )
    parser.add_argument(
        "--mail-nice", type=int, default=10, help="CPU niceness of the mail worker (default 10)"
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs")
    args = parser.parse_args(argv)
    seconds = args.seconds or (8.0 if args.quick else 30.0)
    return Options(
        seconds=seconds,
        warmup=3.0 if args.quick else 5.0,
        workers=args.workers,
        worker_class=args.worker_class,
        threads=args.threads,
        worker_connections=args.worker_connections or 4 * args.threads,
        worker_concurrency=args.celery_concurrency,
        mail_nice=args.mail_nice,
        keep_logs=args.keep_logs,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    return run_bench(Bench(options))


if __name__ == "__main__":
    sys.exit(main())
