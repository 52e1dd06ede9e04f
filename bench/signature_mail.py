"""CPU per confirmation email: `.venv/bin/python -m bench.signature_mail`.

The surge benchmark (bench.signing) sees the confirmation sender as one line among many;
this one isolates it. It builds a fresh PostgreSQL database (production settings, as
bench.request_cpu does), marks signatures due as signing does, and runs the sender
(``signature_mail.send_due``) in this process against the surge benchmark's SMTP sink,
started in a process of its own. For every round it prints the CPU milliseconds per email
of the sender, of the PostgreSQL backend that served it, and of the sink (which stands for
the mail server, on another machine in production).

Three ways of sending, alternated round by round so that all see the same machine:
``pipelined`` is the code as it runs (the sink offers PIPELINING, sent rows released
``RELEASE_EVERY`` at a time); ``no pipelining`` has the sink not offer it (four round trips
a message); ``release each row`` releases every row on its own (``RELEASE_EVERY = 1``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bench import request_cpu
from bench.stack import free_port, process_cpu_seconds

SINK = """
import sys, time
from bench.stack import MailSink
MailSink(pipelining=sys.argv[2] == "1").start(int(sys.argv[1]))
print("listening", flush=True)
time.sleep(86400)
"""


@dataclass(frozen=True)
class Way:
    name: str
    pipelining: bool
    release_every: int | None  # None: the code's own


WAYS = [
    Way("pipelined", True, None),
    Way("no pipelining", False, None),
    Way("release each row", True, 1),
]


@contextmanager
def sink(pipelining: bool) -> Iterator[tuple[int, int]]:
    """An SMTP sink in a process of its own: its port and pid."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SINK, str(port), "1" if pipelining else "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    try:
        if process.stdout is None or process.stdout.readline().strip() != "listening":
            raise RuntimeError("the SMTP sink did not start")
        yield port, process.pid
    finally:
        process.kill()
        process.wait()


def sink_cpu(pid: int) -> float:
    seconds = process_cpu_seconds(pid)
    if seconds is None:
        raise RuntimeError("the SMTP sink has stopped")
    return seconds


def mark_due(petition: object, first: int, count: int) -> None:
    """``count`` pending signatures whose confirmation is due, as signing leaves them."""
    from petitions.models import Signature

    for n in range(first, first + count):
        Signature(
            petition=petition,
            name=f"Signataire {n}",
            email=f"signer-{n}@example.org",
            email_normalised=f"signer-{n}@example.org",
            country="FR",
            postcode="75001",
            language="fr",
            confirmation_emails_sent=1,
            email_due=Signature.EmailDue.CONFIRMATION,
        ).insert()


def send_round(port: int, sink_pid: int, way: Way, count: int) -> tuple[float, float, float]:
    """Send ``count`` due emails; CPU ms per email of the sender, PostgreSQL and the sink."""
    from django.conf import settings

    from petitions.services import signature_mail

    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    release_every = signature_mail.RELEASE_EVERY
    if way.release_every is not None:
        signature_mail.RELEASE_EVERY = way.release_every
    try:
        backend = request_cpu.backend_cpu()
        sink_before, ours_before = sink_cpu(sink_pid), time.process_time()
        sent = signature_mail.send_due(budget=float("inf"))
        ours, sink_after = time.process_time() - ours_before, sink_cpu(sink_pid)
        after = request_cpu.backend_cpu()
    finally:
        signature_mail.RELEASE_EVERY = release_every
    if sent != count:
        raise RuntimeError(f"{way.name}: sent {sent} emails, {count} were due")
    server = float("nan")
    if backend is not None and after is not None and after[0] == backend[0]:
        server = (after[1] - backend[1]) / count * 1000
    return ours / count * 1000, server, (sink_after - sink_before) / count * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=3000, help="per round (default 3000)")
    parser.add_argument("--rounds", type=int, default=3, help="per way (default 3)")
    options = parser.parse_args()
    request_cpu.configure()
    try:
        from django.conf import settings

        from petitions.models import Petition
        from petitions.services import signature_mail

        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        signature_mail.GATHER = 0  # every row is due before the sender starts
        petition = Petition.objects.get(pk=request_cpu.open_petition())
        results: dict[str, list[tuple[float, float, float]]] = {way.name: [] for way in WAYS}
        made = 0
        with sink(True) as pipelining, sink(False) as plain:
            for round_ in range(options.rounds + 1):  # the first round warms up
                for way in WAYS:
                    mark_due(petition, made, options.emails)
                    made += options.emails
                    port, pid = pipelining if way.pipelining else plain
                    measured = send_round(port, pid, way, options.emails)
                    if round_:
                        results[way.name].append(measured)
        print(
            f"CPU ms per confirmation email, median of {options.rounds} rounds of "
            f"{options.emails} (RELEASE_EVERY = {signature_mail.RELEASE_EVERY}):"
        )
        print(f"  {'way':<18} {'sender':>7} {'PostgreSQL':>11} {'sink':>6} {'all':>6}")
        for way in WAYS:
            sender, server, mail = (
                statistics.median(result[i] for result in results[way.name]) for i in range(3)
            )
            print(
                f"  {way.name:<18} {sender:7.3f} {server:11.3f} {mail:6.3f} "
                f"{sender + server + mail:6.3f}"
            )
    finally:
        request_cpu.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
