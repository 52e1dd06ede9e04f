"""Open-data benchmark: `.venv/bin/python -m bench.opendata [--quick]`.

It seeds a fresh PostgreSQL database in bulk (100,000 petitions and 10,000,000 signatures
by default, with their stored counts, responses and departments; see bench.seed), starts
gunicorn with bench.settings against it, and measures:

1. the petition list (/api/v1/petitions/ with a mix of filters, sorts and pages) and the
   petition detail (/api/v1/petitions/<id>/), each at a fixed 200 requests per second from
   an open-loop generator (bench.openloop), latency from the scheduled send time;
2. the public count (/petitions/<id>/count.json) at its maximum throughput: closed-loop
   wrk at 16 and 64 connections;
3. the bulk export (manage.py export_open_data) as a subprocess: wall time, peak memory
   (VmHWM), rows and bytes written.

It prints a table, exits 1 when a check fails (an answer other than 200, a socket error,
an export that fails), and drops the database and flushes its Redis database whatever
happens, unless --keep. See bench/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import shutil
import string
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.openloop import OpenLoopResult, breakdown, run_open_loop
from bench.seed import SeedReport, SeedSize, seed
from bench.signing import Run, _parse_wrk, wrk_argv
from bench.stack import (
    REPO,
    BenchError,
    CpuShare,
    Processes,
    cpu_by_component,
    cpu_model,
    drop_database,
    ensure_wrk,
    free_port,
    measure_cpu,
    run_bench,
    say,
)

BIN = Path(sys.executable).parent
POSTGRES = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
REDIS_DB = int(os.environ.get("BENCH_OPENDATA_REDIS_DB", "12"))
DATABASE = "agora_bench_opendata"

RATE = 200.0
TARGET_P99_MS = 50.0
COUNT_CONNECTIONS = (16, 64)
DETAIL_POPULAR_SHARE = 0.2  # of detail requests, for the 100 most signed petitions


@dataclass
class Options:
    petitions: int
    signatures: int
    seconds: float
    warmup: float
    rate: float
    workers: int
    threads: int
    keep: bool
    reuse: bool
    keep_logs: bool


@dataclass
class Export:
    seconds: float
    peak_rss_mib: float
    cpu_seconds: float
    rows: int
    bytes: int
    files: int
    cpu: CpuShare | None


@dataclass
class Phase:
    """An open-loop phase and how the machine's CPU was shared during it."""

    result: OpenLoopResult
    cpu: CpuShare

    @property
    def answered_rate(self) -> float:
        """Answers per second: what the server did for its CPU (all of the scheduled
        requests when it keeps up, fewer when it falls behind)."""
        return len(self.result.latencies_ms) / self.result.seconds if self.result.seconds else 0


class Bench:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.tmp = Path(tempfile.mkdtemp(prefix="agora-bench-opendata-"))
        self.logs = self.tmp / "logs"
        self.logs.mkdir()
        self.processes = Processes(self.logs)
        self.web_port = free_port()
        self.env = self._environment()
        self.guard: Any = None
        self.database_created = False
        self.redis_used = False
        self.failures: list[str] = []
        self.lines: list[str] = []
        self.report: SeedReport | None = None
        self.seed_seconds = 0.0
        self.pg_version = ""
        self.database_size = ""
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
            "EMAIL_URL": "smtp://127.0.0.1:1",  # nothing here sends mail
            "DEFAULT_FROM_EMAIL": "Agora bench <noreply@bench.local>",
            # Every request comes from 127.0.0.1: the API's per-address limit would answer
            # 429 after a few hundred. It is still configured and checked, just never hit.
            "API_RATE": "",
            "LOG_LEVEL": "WARNING",
            "STATIC_ROOT": str(self.tmp / "static"),
            "OPEN_DATA_ROOT": str(self.tmp / "opendata"),
            "PYTHONUNBUFFERED": "1",
        }
        return {**os.environ, **bench_env}

    def _admin_connection(self, database: str = "postgres") -> Any:
        import psycopg2  # type: ignore[import-untyped]  # no stubs installed

        connection = psycopg2.connect(f"{POSTGRES}/{database}")
        connection.autocommit = True
        return connection

    def claim(self) -> None:
        """One run at a time on this database: a second one would drop it under the first."""
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

    def database_exists(self) -> bool:
        with self._admin_connection().cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE])
            return cursor.fetchone() is not None

    def create_database(self) -> None:
        connection = self._admin_connection()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{DATABASE}"')
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

    def setup_database(self) -> None:
        """Migrate, load the regions and seed in bulk; or reuse a database kept by --keep."""
        os.environ.update(self.env)
        import django

        django.setup()
        from django.core.management import call_command

        o = self.options
        if o.reuse and self.database_exists():
            say(f"reusing the database {DATABASE} kept by an earlier run (--reuse); migrate")
            self.database_created = True
            call_command("migrate", verbosity=0, interactive=False)  # code may be newer
            return
        self.create_database()
        say("migrate, load_regions")
        call_command("migrate", verbosity=0, interactive=False)
        call_command("load_regions", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        say(f"seeding {o.petitions:,} petitions and {o.signatures:,} signatures")
        started = time.monotonic()
        connection = self._admin_connection(DATABASE)
        try:
            self.report = seed(connection, SeedSize(o.petitions, o.signatures))
        finally:
            connection.close()
        self.seed_seconds = time.monotonic() - started
        for line in self.report.describe():
            say(line)
        say(f"seeded in {self.seed_seconds:.0f} s")

    def describe_database(self) -> None:
        with self._admin_connection(DATABASE).cursor() as cursor:
            cursor.execute("SHOW server_version")
            self.pg_version = cursor.fetchone()[0]
            cursor.execute(
                "SELECT pg_size_pretty(pg_database_size(current_database())), "
                "pg_size_pretty(pg_total_relation_size('petitions_signature'))"
            )
            total, signatures = cursor.fetchone()
            self.database_size = f"database {total} (signatures with indexes {signatures})"
        say(self.database_size)

    def start_gunicorn(self) -> None:
        o = self.options
        say(
            f"starting gunicorn ({o.workers} gthread workers x {o.threads} threads, "
            "config/gunicorn.py)"
        )
        self.processes.start(
            "gunicorn",
            [
                str(BIN / "gunicorn"), "--config", "config/gunicorn.py",
                "--bind", f"127.0.0.1:{self.web_port}",
                "--workers", str(o.workers), "--threads", str(o.threads),
                "--worker-connections", str(4 * o.threads), "--timeout", "60",
                "--log-level", "warning", "--error-logfile", "-",
            ],
            self.env,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while (status := self.get_status("/api/v1/statistics/")) is None:
            self.processes.check_alive()
            if time.monotonic() > deadline:
                raise BenchError("gunicorn did not answer within 60 s")
            time.sleep(0.2)
        if status != 200:
            raise BenchError(f"GET /api/v1/statistics/ answered {status}: is the API in this tree?")

    def get_status(self, path: str) -> int | None:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.web_port, timeout=30)
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            connection.close()
        except OSError:
            return None
        return response.status

    # --- the addresses requested ----------------------------------------------------------

    def list_paths(self) -> list[str]:
        """What API clients ask of the list: the default sort, filters, sorts, deep pages.

        Every filter the API documents appears, each with the values real reusers would
        send: a topic, a département, a department, date ranges, count ranges, a search.
        """
        from petitions.models import Petition, Region, Topic
        from responses.models import Department

        topics = list(Topic.objects.values_list("slug", flat=True))
        departments = list(Department.objects.values_list("slug", flat=True))
        regions = list(
            Region.objects.filter(kind="fr-departement").values_list("code", flat=True)[:30]
        )
        pages = max(1, Petition.objects.filter(state="closed").count() // 20)
        rng = random.Random(7)  # noqa: S311 - which page to ask, not a secret
        paths = ["/api/v1/petitions/", "/api/v1/petitions/?page=2"]
        for _ in range(40):
            page = rng.randint(1, min(pages, 200))
            paths += [
                "/api/v1/petitions/?state=open&ordering=-created_at",
                f"/api/v1/petitions/?state=closed&ordering=-signature_count&page={page}",
                f"/api/v1/petitions/?topic={rng.choice(topics)}&state=open",
                f"/api/v1/petitions/?department={rng.choice(departments)}",
                f"/api/v1/petitions/?region=fr-departement:{rng.choice(regions)}",
                "/api/v1/petitions/?response_state=responded&ordering=-responded_at",
                "/api/v1/petitions/?signatures_min=1000&ordering=-opened_at",
                f"/api/v1/petitions/?opened_after=2026-0{rng.randint(1, 9)}-01&state=open",
                "/api/v1/petitions/?q=" + quote(rng.choice(["vélo", "école", "climat", "hôpital"])),
                "/api/v1/petitions/?state=open&page_size=100",
            ]
        return paths

    def detail_paths(self) -> list[str]:
        """Random public petitions, and a fifth of the time one of the 100 most signed:
        those are the most read, and their counts by day are the longest to aggregate."""
        from petitions.models import Petition

        public = Petition.objects.filter(state__in=["open", "closed"])
        ids = list(public.order_by("?").values_list("id", flat=True)[:5000])
        popular = list(public.order_by("-signature_count").values_list("id", flat=True)[:100])
        count = len(ids)
        share = int(count * DETAIL_POPULAR_SHARE / (1 - DETAIL_POPULAR_SHARE))
        chosen = ids + [popular[k % len(popular)] for k in range(share)] if popular else ids
        return [f"/api/v1/petitions/{pk}/" for pk in chosen]

    # --- phases ---------------------------------------------------------------------------

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until gunicorn is idle: requests a previous phase left queued (when the
        server fell behind) must not be paid for by the next phase."""
        groups = self.processes.group_ids()
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            before = cpu_by_component(groups)["gunicorn"]
            time.sleep(0.5)
            if cpu_by_component(groups)["gunicorn"] - before < 0.05:  # under 10 % of a core
                break
        waited = time.monotonic() - started
        if waited >= 1:
            say(f"waited {waited:.1f} s for gunicorn to finish the previous phase's requests")

    def open_loop(self, name: str, paths: list[str], seconds: float) -> Phase:
        """A warm-up on the phase's own addresses (not measured: processes, the answer and
        total caches after the flush at start), then the measured run."""
        self.settle()
        say(f"warming up for {self.options.warmup:g} s ({name}, not measured)")
        run_open_loop("warm-up", self.web_port, paths, self.options.rate, self.options.warmup)
        self.settle()
        with measure_cpu(self.processes.group_ids()) as cpu:
            result = run_open_loop(name, self.web_port, paths, self.options.rate, seconds)
        phase = Phase(result, cpu[0])
        say(result.describe())
        lines = breakdown(result)
        for line in lines if name.endswith("list") else lines[:1]:  # details: one kind
            say(line)
        say(f"  {phase.cpu.describe(phase.answered_rate)}")
        return phase

    def count_run(self, connections: int, pk: int) -> Run:
        self.settle()
        url = f"http://127.0.0.1:{self.web_port}/petitions/{pk}/count.json"
        argv = wrk_argv(self.wrk, connections, self.options.seconds, "status.lua", url)
        # Two wrk threads are enough to drive 64 connections on 2 cores; the one connection
        # per thread that bench.signing needs is for its per-request logs.
        argv[argv.index("-t") + 1] = str(min(connections, 2))
        with measure_cpu(self.processes.group_ids()) as cpu:
            result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BenchError(f"wrk failed ({result.returncode}): {result.stderr[-2000:]}")
        run = _parse_wrk("count.json", connections, result.stdout)
        run.cpu = cpu[0]
        say(run.describe())
        say(f"  {run.cpu.describe(run.rate)}")
        return run

    def export(self) -> Export:
        """manage.py export_open_data in a process of its own: wall time, peak memory."""
        from core.opendata import store

        root = self.tmp / "export"
        argv = [sys.executable, "manage.py", "export_open_data", "--output", str(root)]
        say("exporting: " + " ".join(argv[1:]))
        log = (self.logs / "export.log").open("wb")
        started = time.monotonic()
        with measure_cpu({}) as cpu:
            process = subprocess.Popen(argv, cwd=REPO, env=self.env, stdout=log, stderr=log)
            # wait4 gives the child's own resource use: ru_maxrss is its peak resident set
            # (VmHWM), in KiB on Linux.
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
        share = cpu[0]
        # The export, reaped by wait4, is in this process's children's time, which
        # cpu_by_component files under wrk (the other child this benchmark runs).
        share.parts["export"] = share.parts.pop("wrk", 0.0)
        seconds = time.monotonic() - started
        log.close()
        if process.returncode != 0:
            tail = (self.logs / "export.log").read_text(errors="replace")[-2000:]
            raise BenchError(f"export_open_data exited with {process.returncode}:\n{tail}")
        manifest = json.loads(store.manifest_path(root).read_text())
        files = manifest["files"]
        export = Export(
            seconds=seconds,
            peak_rss_mib=usage.ru_maxrss / 1024,
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            rows=sum(int(f["rows"]) for f in files),
            bytes=sum(int(f["bytes"]) for f in files),
            files=len(files),
            cpu=share,
        )
        for listed in files:
            say(
                f"  {listed['name']:<28} {int(listed['rows']):>12,} rows "
                f"{int(listed['bytes']):>15,} bytes"
            )
        say(
            f"export: {seconds:.1f} s, peak RSS {export.peak_rss_mib:.0f} MiB, CPU "
            f"{export.cpu_seconds:.1f} s, {export.rows:,} rows, {export.bytes / 2**20:,.1f} MiB "
            f"in {export.files} files"
        )
        shutil.rmtree(root, ignore_errors=True)
        return export

    def check(self, what: str, ok: bool, detail: str) -> None:
        line = f"{'PASS' if ok else 'FAIL'}  {what}: {detail}"
        self.lines.append(line)
        say(line)
        if not ok:
            self.failures.append(what)

    def check_counts(self) -> None:
        """The stored counts agree with the signatures, as the counting task keeps them."""
        with self._admin_connection(DATABASE).cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT count(*) FROM petitions_signature WHERE state = 'confirmed'), "
                "(SELECT coalesce(sum(signature_count), 0) FROM petitions_petition), "
                "(SELECT coalesce(sum(count), 0) FROM petitions_countrycount), "
                "(SELECT coalesce(sum(count), 0) FROM petitions_hourlycount), "
                "(SELECT count(*) FROM petitions_signature WHERE counted <> (state = 'confirmed'))"
            )
            confirmed, petitions, countries, hours, miscounted = cursor.fetchone()
        self.check(
            "stored counts equal the confirmed signatures",
            confirmed == petitions == countries == hours and not miscounted,
            f"{confirmed:,} confirmed; petitions {petitions:,}, by country {countries:,}, "
            f"by hour {hours:,}; {miscounted} rows counted wrongly",
        )

    def check_open_loop(self, phase: Phase) -> None:
        r = phase.result
        self.check(
            f"{r.name}: every answer 200, none lost",
            r.bad == 0 and not r.errors and len(r.latencies_ms) == int(r.rate * r.seconds),
            f"{r.statuses.get(200, 0)} of {int(r.rate * r.seconds)} scheduled answered 200, "
            f"{r.bad} other statuses, {sum(r.errors.values())} without an answer",
        )

    def check_count(self, run: Run) -> None:
        errors = sum(run.errors.values())
        self.check(
            f"count.json c={run.connections}: every answer 200",
            run.bad == 0 and errors == 0,
            f"{run.good} ok, {run.bad} other statuses, {errors} socket errors",
        )

    # --- the table ------------------------------------------------------------------------

    def table(self, phases: list[Phase], counts: list[Run], export: Export) -> str:
        o = self.options
        out = [
            f"open data on {cpu_model()}, {os.cpu_count()} cores, load generator on the same "
            f"machine (gunicorn {o.workers} x gthread ({o.threads} threads), PostgreSQL "
            f"{self.pg_version}, {o.seconds:g} s per phase)",
            f"data: {self.describe_size()}; {self.database_size}",
            "endpoint                 rate/s   p50 ms  p95 ms  p99 ms  max ms  "
            f"target p99 < {TARGET_P99_MS:g} ms",
        ]
        for phase in phases:
            r = phase.result
            met = "met" if r.p(99) < TARGET_P99_MS else "MISSED"
            out.append(
                f"{r.name:<24} {r.rate:>6.0f}  {r.p(50):>7.1f} {r.p(95):>7.1f} {r.p(99):>7.1f} "
                f"{max(r.latencies_ms, default=0):>7.0f}  {met}"
            )
        for run in counts:
            out.append(
                f"{'count.json c=' + str(run.connections):<24} {run.rate:>6.0f}  "
                f"{run.p50_ms:>7.1f} {run.p95_ms:>7.1f} {run.p99_ms:>7.1f} {run.max_ms:>7.0f}  "
                "(closed loop: max throughput)"
            )
        out.append(
            f"export_open_data: {export.seconds:.1f} s, peak RSS {export.peak_rss_mib:.0f} MiB, "
            f"CPU {export.cpu_seconds:.1f} s, {export.rows:,} rows, "
            f"{export.bytes / 2**20:,.1f} MiB in {export.files} files"
        )
        for phase in phases:
            out.append(f"cpu {phase.result.name}: {phase.cpu.describe(phase.answered_rate)}")
        for run in counts:
            if run.cpu is not None:
                out.append(f"cpu count.json c={run.connections}: {run.cpu.describe(run.rate)}")
        if export.cpu is not None:
            out.append(f"cpu export: {export.cpu.describe()}")
        out.extend(self.lines)
        foreign = [p for p in phases if p.cpu.foreign >= 0.1]
        if foreign:
            out.append(
                f"WARNING: processes outside the benchmark took CPU in {len(foreign)} phases: "
                "rerun on a quiet machine"
            )
        return "\n".join(out)

    def describe_size(self) -> str:
        if self.report is None:
            return "reused database"
        rows = self.report.rows
        return (
            f"{rows.get('petitions_petition', 0):,} petitions, "
            f"{rows.get('petitions_signature', 0):,} signatures (largest petition "
            f"{self.report.top_count:,}), {rows.get('petitions_hourlycount', 0):,} hourly counts, "
            f"{rows.get('responses_response', 0):,} responses, seeded in {self.seed_seconds:.0f} s"
        )

    # --- the whole run --------------------------------------------------------------------

    def run(self) -> int:
        o = self.options
        self.wrk = ensure_wrk()
        say(f"working directory {self.tmp}")
        self.claim()
        self.flush_redis()
        self.redis_used = True
        self.setup_database()
        self.describe_database()
        self.check_counts()
        self.start_gunicorn()
        from petitions.models import Petition

        top = Petition.objects.order_by("-signature_count").values_list("pk", flat=True).first()
        if top is None:
            raise BenchError("the database holds no petition")
        lists, details = self.list_paths(), self.detail_paths()
        phases = [
            self.open_loop("petition list", lists, o.seconds),
            self.open_loop("petition detail", details, o.seconds),
        ]
        counts = [self.count_run(connections, top) for connections in COUNT_CONNECTIONS]
        self.processes.stop_all()  # the export runs alone, as the nightly task would
        export = self.export()
        for phase in phases:
            self.check_open_loop(phase)
        for run in counts:
            self.check_count(run)
        print()
        print(self.table(phases, counts, export), flush=True)
        return 1 if self.failures else 0

    def cleanup(self) -> None:
        say("cleaning up")
        self.processes.stop_all()
        if self.options.keep:
            say(f"database {DATABASE} kept (--keep); rerun with --reuse to skip the seeding")
        else:
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
        prog="python -m bench.opendata", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--petitions", type=int, default=100_000, help="default 100,000")
    parser.add_argument("--signatures", type=int, default=10_000_000, help="default 10,000,000")
    parser.add_argument("--quick", action="store_true", help="8 s per phase instead of 30 s")
    parser.add_argument("--seconds", type=float, help="seconds per phase (overrides --quick)")
    parser.add_argument("--rate", type=float, default=RATE, help="open-loop requests/s (200)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    parser.add_argument("--keep", action="store_true", help=f"keep the database {DATABASE}")
    parser.add_argument(
        "--reuse", action="store_true", help="reuse a database kept by --keep (no seeding)"
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs")
    args = parser.parse_args(argv)
    if args.petitions < 1 or args.signatures < 0:
        parser.error("--petitions must be at least 1 and --signatures at least 0")
    seconds = args.seconds or (8.0 if args.quick else 30.0)
    return Options(
        petitions=args.petitions,
        signatures=args.signatures,
        seconds=seconds,
        warmup=3.0 if args.quick else 5.0,
        rate=args.rate,
        workers=args.workers,
        threads=args.threads,
        keep=args.keep or args.reuse,
        reuse=args.reuse,
        keep_logs=args.keep_logs,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    return run_bench(Bench(options))


if __name__ == "__main__":
    sys.exit(main())
