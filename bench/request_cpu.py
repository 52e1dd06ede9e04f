"""Django's CPU per signing request, in one process: `.venv/bin/python -m bench.request_cpu`.

The surge benchmark (bench.signing) measures the whole machine; this one isolates what a
web worker spends on one request, which varies much less with what else the machine runs.
It builds a fresh PostgreSQL database and uses a Redis database of its own (production
settings, as bench.signing does), then calls the WSGI application directly, with the same
middleware and no HTTP, for the signing form and for the bare insert the surge benchmark
compares against. It prints CPU milliseconds per request (median of rounds) in this process
and in the PostgreSQL backend that served it, the SQL statements and Redis commands per
request, and with ``--profile`` the functions that cost the most (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import secrets
import statistics
import string
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

from bench.stack import drop_database, process_cpu_seconds, recreate_database

POSTGRES = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "14"))
DATABASE = "agora_bench_cpu"
CSRF = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))


def configure() -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": f"{POSTGRES}/{DATABASE}",
            "REDIS_URL": f"{REDIS}/{REDIS_DB}",
            "CELERY_BROKER_URL": f"{REDIS}/{REDIS_DB}",
            "EMAIL_URL": "smtp://127.0.0.1:9",  # nothing is sent: no worker runs here
            "STATIC_ROOT": os.path.join(tempfile.gettempdir(), "agora-bench-cpu-static"),
        }
    )
    recreate_database(POSTGRES, DATABASE)
    import redis

    redis.Redis.from_url(f"{REDIS}/{REDIS_DB}").flushdb()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("load_regions", verbosity=0, stdout=io.StringIO())
    call_command("collectstatic", verbosity=0, interactive=False)


def drop() -> None:
    drop_database(POSTGRES, DATABASE)


def open_petition() -> int:
    from bench.signing import Bench

    # The surge benchmark's own petition, made the same way (creator, moderation).
    return Bench.create_petition(None)  # type: ignore[arg-type]


class Requests:
    """WSGI environs for the two requests, each signer with an address of their own."""

    def __init__(self, pk: int) -> None:
        self.pk = pk
        self.n = 0

    def environ(self, path: str, body: bytes) -> dict[str, Any]:
        return {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_COOKIE": f"csrftoken={CSRF}",
            "HTTP_ACCEPT_LANGUAGE": "fr",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }

    def sign(self) -> dict[str, Any]:
        self.n += 1
        body = urlencode(
            {
                "csrfmiddlewaretoken": CSRF,
                "name": f"Signataire {self.n}",
                "email": f"signer-{self.n}-{CSRF[:6]}@example.org",
                "country": "FR",
                "postcode": f"{(self.n % 95) + 1:02d}{self.n % 1000:03d}".replace("20", "21", 1),
                "declaration": "on",
                "wants_updates": "on",
            }
        ).encode()
        return self.environ(f"/petitions/{self.pk}/sign/", body)

    def baseline(self) -> dict[str, Any]:
        self.n += 1
        body = urlencode({"name": f"Row {self.n}", "email": f"row-{self.n}@example.org"}).encode()
        return self.environ("/bench/insert/", body)


def call(app: Callable[..., Any], environ: dict[str, Any]) -> str:
    status: list[str] = []

    def start_response(line: str, headers: Any, exc_info: Any = None) -> None:
        status.append(line)

    result = app(environ, start_response)
    for _chunk in result:
        pass
    if hasattr(result, "close"):
        result.close()
    return status[0]


@contextmanager
def counting_redis() -> Iterator[list[str]]:
    """Record every Redis command the request sends (pipelines count once).

    Counted where commands meet a connection, so that those sent on a connection of the
    caller's own (``core.redis.run_script``) count too.
    """
    import redis
    from redis.connection import AbstractConnection

    seen: list[str] = []
    original = AbstractConnection.send_command
    original_pipeline = redis.client.Pipeline.execute

    def send_command(self: Any, *args: Any, **options: Any) -> Any:
        seen.append(str(args[0]))
        return original(self, *args, **options)

    def execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(f"PIPELINE({len(self.command_stack)})")
        return original_pipeline(self, *args, **kwargs)

    AbstractConnection.send_command = send_command  # type: ignore[method-assign]
    redis.client.Pipeline.execute = execute  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        AbstractConnection.send_command = original  # type: ignore[method-assign]
        redis.client.Pipeline.execute = original_pipeline  # type: ignore[method-assign]


def anatomy(
    app: Callable[..., Any], make: Callable[[], dict[str, Any]]
) -> tuple[str, list[str], list[str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries, counting_redis() as commands:
        status = call(app, make())
    return status, [q["sql"][:90] for q in queries.captured_queries], commands


def cpu_per_request(
    app: Callable[..., Any], make: Callable[[], dict[str, Any]], n: int
) -> tuple[float, float | None]:
    """CPU milliseconds per request: this process's, and its PostgreSQL backend's (None
    when the server is not on this machine or the connection changed on the way)."""
    environs = [make() for _ in range(n)]
    backend = backend_cpu()
    start = time.process_time()
    for environ in environs:
        call(app, environ)
    ours = (time.process_time() - start) / n * 1000
    after = backend_cpu()
    if backend is None or after is None or after[0] != backend[0]:
        return ours, None
    return ours, (after[1] - backend[1]) / n * 1000


def backend_cpu() -> tuple[int, float] | None:
    """The PostgreSQL backend serving this process: its pid and CPU seconds so far."""
    from django.db import connection

    raw = connection.connection
    if raw is None:
        return None
    pid = raw.info.backend_pid
    seconds = process_cpu_seconds(pid)
    return None if seconds is None else (pid, seconds)


def report(measured: dict[str, list[tuple[float, float | None]]], rounds: int, size: int) -> None:
    print(f"CPU per request, median of {rounds} rounds of {size}:")
    totals = {}
    for name, results in measured.items():
        ours = [result[0] for result in results]
        server = [result[1] for result in results if result[1] is not None]
        line = f"  {name:<9} Django {statistics.median(ours):.2f} ms (min {min(ours):.2f})"
        totals[name] = statistics.median(ours)
        if server:
            totals[name] += statistics.median(server)
            line += (
                f", PostgreSQL backend {statistics.median(server):.2f} ms"
                f" (min {min(server):.2f}), both {totals[name]:.2f} ms"
            )
        print(line)
    print(f"  ratio (baseline / sign, both sides) {totals['baseline'] / totals['sign']:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="per round (default 400)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile the signing request")
    options = parser.parse_args()
    configure()
    try:
        from django.core.wsgi import get_wsgi_application

        app = get_wsgi_application()
        requests = Requests(open_petition())
        for _ in range(50):  # warm: caches, connections, templates
            call(app, requests.sign())
            call(app, requests.baseline())
        for name, make in (("sign", requests.sign), ("baseline", requests.baseline)):
            status, queries, commands = anatomy(app, make)
            print(f"{name}: {status}; {len(queries)} SQL, {len(commands)} Redis")
            for sql in queries:
                print(f"    SQL   {sql}")
            for command in commands:
                print(f"    Redis {command}")
        measured: dict[str, list[tuple[float, float | None]]] = {"sign": [], "baseline": []}
        for _ in range(options.rounds):  # interleaved: both see the same machine
            for name, make in (("sign", requests.sign), ("baseline", requests.baseline)):
                measured[name].append(cpu_per_request(app, make, options.requests))
        report(measured, options.rounds, options.requests)
        if options.profile:
            profiler = cProfile.Profile(time.process_time)  # CPU, not waiting
            environs = [requests.sign() for _ in range(options.requests)]
            profiler.enable()
            for environ in environs:
                call(app, environ)
            profiler.disable()
            stats = pstats.Stats(profiler).sort_stats("cumulative")
            stats.print_stats(45)
            stats.sort_stats("tottime").print_stats(25)
    finally:
        drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
