"""The parts of a benchmark stack: processes it owns, CPU accounting from /proc, an SMTP
sink, and a monitor of the public count. Used by bench.signing."""

from __future__ import annotations

import asyncio
import ctypes
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

REPO = Path(__file__).resolve().parent.parent
CONFIRM_LINK = re.compile(rb"/petitions/signatures/([A-Za-z0-9_-]+)/confirm/")


STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f} s] {message}", flush=True)


class BenchError(Exception):
    """The stack could not be set up or did not answer: no figures to give."""


# --- Processes ---------------------------------------------------------------------------


def _die_with_parent() -> None:
    """In the child: start a session of its own (Ctrl-C is ours to handle), and get SIGTERM
    if this benchmark dies without cleaning up (PR_SET_PDEATHSIG)."""
    os.setsid()
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


class Processes:
    """The processes this benchmark starts, each the leader of its own process group."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent,
        )  # fmt: skip
        self.started[name] = process
        return process

    def check_alive(self) -> None:
        for name, process in self.started.items():
            if process.poll() is not None:
                tail = (self.logs / f"{name}.log").read_text(errors="replace")[-2000:]
                raise BenchError(f"{name} exited with {process.returncode}:\n{tail}")

    def group_ids(self) -> dict[str, int]:
        return {name: process.pid for name, process in self.started.items()}

    def stop_all(self) -> None:
        """SIGTERM to each group (gunicorn and Celery shut down warmly), then SIGKILL."""
        for process in self.started.values():
            if process.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.started.values():
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for process in self.started.values():
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # stragglers in the group, if any
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        self.started.clear()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def ensure_wrk() -> str:
    """wrk (Debian package) is the load generator: install it when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    say("wrk is missing: installing the Debian package")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    os.environ.setdefault("DEBIAN_FRONTEND", "noninteractive")
    install = [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"]
    if subprocess.run(install, check=False).returncode != 0:
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True)
        subprocess.run(install, check=True)
    found = shutil.which("wrk")
    if not found:
        raise BenchError("wrk could not be installed (apt-get install wrk).")
    return found


# --- CPU accounting ----------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_by_component(groups: dict[str, int]) -> Counter[str]:
    """CPU seconds used so far by each component, from /proc (children that exited are
    folded into their parent once reaped: gunicorn and Celery reap theirs, and PostgreSQL's
    postmaster the backends of closed connections)."""
    totals: Counter[str] = Counter()
    by_group = {pgid: name for name, pgid in groups.items()}
    postgres: set[int] = set()
    parents: dict[int, int] = {}
    reaped: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        pgid = int(fields[2])
        seconds = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
        if pgid in by_group:
            name = by_group[pgid]
        elif comm.startswith("postgres"):
            name = "postgres"
            postgres.add(int(entry.name))
            parents[int(entry.name)] = int(fields[1])
            reaped[int(entry.name)] = (int(fields[13]) + int(fields[14])) / CLOCK_TICKS
        elif comm.startswith("redis"):
            name = "redis"
        elif comm == "wrk":
            name = "wrk"
        elif int(entry.name) == os.getpid():
            name = "bench"
            # Children that exited (wrk, once reaped) are in cutime + cstime.
            totals["wrk"] += (int(fields[13]) + int(fields[14])) / CLOCK_TICKS
        else:
            name = "other"
        totals[name] += seconds
    # The postmaster (the one PostgreSQL process whose parent is not one) holds the CPU
    # time of backends that exited: a connection that Django closed after CONN_MAX_AGE.
    totals["postgres"] += sum(
        seconds for pid, seconds in reaped.items() if parents[pid] not in postgres
    )
    return totals


def process_cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user and system) used so far by process ``pid``; None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def total_cpu_seconds() -> float:
    """All CPU time of the machine (busy, not idle), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / CLOCK_TICKS


@dataclass
class CpuShare:
    busy: float  # share of all cores that was busy, 0..1
    parts: dict[str, float]  # share of all cores per component

    def describe(self, per_second: float = 0.0) -> str:
        """Shares of the machine; with a rate, also CPU milliseconds per request."""
        order = sorted(self.parts.items(), key=lambda item: -item[1])
        cores = os.cpu_count() or 1
        listed = ", ".join(
            f"{name} {share:.0%}"
            + (f" ({1000 * share * cores / per_second:.1f} ms)" if per_second else "")
            for name, share in order
            if share >= 0.005
        )
        # Processes that started and ended within the phase (other people's, on a shared
        # machine) are busy time that no process still listed accounts for.
        unaccounted = max(0.0, self.busy - sum(self.parts.values()))
        text = f"cpu busy {self.busy:.0%} of {cores} cores: {listed}"
        if unaccounted >= 0.005:
            text += f", unaccounted {unaccounted:.0%}"
        if per_second:
            text += " (in brackets: CPU per request)"
        if self.parts.get("other", 0) + unaccounted >= 0.1:
            text += " -- WARNING: processes outside the benchmark took CPU; figures are low"
        return text

    @property
    def foreign(self) -> float:
        """Share of the machine taken by processes that are not the benchmark's."""
        return self.parts.get("other", 0.0) + max(0.0, self.busy - sum(self.parts.values()))


class CpuWindow:
    """CPU shares of the machine between the moment it is made and ``close()``."""

    def __init__(self, groups: dict[str, int]) -> None:
        self.groups = dict(groups)
        self.before = cpu_by_component(self.groups)
        self.busy = total_cpu_seconds()
        self.start = time.monotonic()

    def close(self) -> CpuShare:
        after, busy = cpu_by_component(self.groups), total_cpu_seconds()
        elapsed = max(time.monotonic() - self.start, 1e-6) * (os.cpu_count() or 1)
        parts = {name: max(after[name] - self.before[name], 0.0) / elapsed for name in after}
        return CpuShare((busy - self.busy) / elapsed, parts)


@contextmanager
def measure_cpu(groups: dict[str, int]) -> Iterator[list[CpuShare]]:
    """The CPU shares of the ``with`` block, in the list it yields once the block ends."""
    holder: list[CpuShare] = []
    window = CpuWindow(groups)
    yield holder
    holder.append(window.close())


# --- SMTP sink ---------------------------------------------------------------------------


class SmtpSinkProtocol(asyncio.Protocol):
    """Just enough SMTP for smtplib (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), kept cheap:
    a sink that costs the machine as little as possible leaves the cores to the system
    under test. aiosmtpd does the same work at several times the CPU per message.

    ``deliver(recipients, buffer, end)`` gets each message: the RCPT addresses as given,
    and the message as ``buffer[:end]`` (valid only during the call). It offers PIPELINING
    (RFC 2920) as Postfix and Exim do, unless ``pipelining`` is false: commands that arrive
    together are answered in order."""

    def __init__(
        self, deliver: Callable[[list[bytes], bytearray, int], None], *, pipelining: bool = True
    ) -> None:
        self.deliver = deliver
        self.ehlo = b"250-bench sink\r\n" + (b"250-PIPELINING\r\n" if pipelining else b"")
        self.ehlo += b"250 8BITMIME\r\n"
        self.buffer = bytearray()
        self.recipients: list[bytes] = []
        self.in_data = False
        self.searched = 0
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.write(b"220 bench sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        while buffer:
            if self.in_data:
                if buffer.startswith(b".\r\n"):
                    end, skip = 0, 3
                else:
                    found = buffer.find(b"\r\n.\r\n", max(0, self.searched - 4))
                    if found < 0:
                        self.searched = len(buffer)
                        return
                    end, skip = found + 2, found + 5
                self.deliver(self.recipients, buffer, end)
                del buffer[:skip]
                self.in_data, self.searched, self.recipients = False, 0, []
                self.transport.write(b"250 2.0.0 Accepted\r\n")
                continue
            newline = buffer.find(b"\r\n")
            if newline < 0:
                return
            line = bytes(buffer[:newline])
            del buffer[: newline + 2]
            if not self.command(line):
                return

    def command(self, line: bytes) -> bool:
        """Answer one command line; False once the connection is closed."""
        verb = line[:4].upper()
        if verb == b"DATA":
            self.in_data = True
            self.transport.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
        elif verb == b"RCPT":
            self.recipients.append(line[line.find(b"<") + 1 : line.rfind(b">")])
            self.transport.write(b"250 OK\r\n")
        elif verb == b"EHLO":
            self.transport.write(self.ehlo)
        elif verb == b"QUIT":
            self.transport.write(b"221 Bye\r\n")
            self.transport.close()
            return False
        else:  # MAIL and RSET start a new envelope; NOOP and the rest are just answered
            if verb in (b"MAIL", b"RSET"):
                self.recipients = []
            self.transport.write(b"250 OK\r\n")
        return True


class MailSink:
    """Counts the messages each recipient gets and keeps the confirmation token it carried.

    ``start(port)`` serves SMTP from a thread of this process (SmtpSinkProtocol)."""

    def __init__(self, *, pipelining: bool = True) -> None:
        self.pipelining = pipelining
        self.lock = threading.Lock()
        self.per_recipient: Counter[str] = Counter()
        self.tokens: dict[str, str] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None

    def deliver(self, recipients: list[bytes], content: bytearray, end: int) -> None:
        match = CONFIRM_LINK.search(content, 0, end)
        token = match.group(1).decode() if match else None
        with self.lock:
            for recipient in recipients:
                address = recipient.decode().lower()
                self.per_recipient[address] += 1
                if token:
                    self.tokens[address] = token

    def received(self, prefix: str) -> int:
        with self.lock:
            return sum(n for address, n in self.per_recipient.items() if address.startswith(prefix))

    def start(self, port: int) -> None:
        loop = self.loop = asyncio.new_event_loop()
        listening = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            server = loop.run_until_complete(
                loop.create_server(
                    lambda: SmtpSinkProtocol(self.deliver, pipelining=self.pipelining),
                    "127.0.0.1",
                    port,
                    backlog=1024,
                )
            )
            listening.set()
            loop.run_forever()
            server.close()
            loop.run_until_complete(server.wait_closed())
            loop.close()

        self.thread = threading.Thread(target=serve, name="smtp-sink", daemon=True)
        self.thread.start()
        if not listening.wait(10):
            raise BenchError(f"the SMTP sink did not listen on port {port}")

    def stop(self) -> None:
        if self.loop is not None and self.thread is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop = self.thread = None


# --- The count monitor -------------------------------------------------------------------


class CountMonitor(threading.Thread):
    """Reads /petitions/<pk>/count.json every 100 ms, as a visitor's page would."""

    def __init__(self, port: int, pk: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.port, self.path, self.interval = port, f"/petitions/{pk}/count.json", interval
        self.samples: list[tuple[float, int]] = []  # (wall time the answer arrived, count)
        self.errors = 0
        self.halt = threading.Event()

    def latest(self) -> int | None:
        return self.samples[-1][1] if self.samples else None

    def run(self) -> None:
        while not self.halt.is_set():
            started = time.monotonic()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                connection.request("GET", self.path)
                response = connection.getresponse()
                body = response.read()
                connection.close()
                if response.status == 200:
                    self.samples.append((time.time(), int(json.loads(body)["signature_count"])))
                else:
                    self.errors += 1
            except (OSError, ValueError, KeyError, http.client.HTTPException):
                self.errors += 1
            self.halt.wait(max(0.0, self.interval - (time.monotonic() - started)))


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


def count_lags(
    confirmed_at: list[float], samples: list[tuple[float, int]], offset: int
) -> tuple[list[float], int]:
    """For the k-th confirmation (in time order; ``offset`` rows were counted before), the
    time from its confirmation to the first sample showing a count of at least its rank.
    Returns the lags and how many confirmations were never shown."""
    lags: list[float] = []
    index = 0
    for k, at in enumerate(sorted(confirmed_at), start=offset + 1):
        while index < len(samples) and samples[index][1] < k:
            index += 1
        if index == len(samples):
            return lags, len(confirmed_at) - len(lags)
        lags.append(max(0.0, samples[index][0] - at))
    return lags, 0


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "an unknown CPU"


# --- Running a benchmark --------------------------------------------------------------------


class Runnable(Protocol):
    failures: list[str]

    def run(self) -> int: ...

    def cleanup(self) -> None: ...


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_bench(bench: Runnable) -> int:
    """Run a benchmark and remove what it started whatever happens: its exit status.

    Ctrl-C and SIGTERM both clean up (a shell may start us with SIGINT ignored); 2 when
    the stack could not be measured, 130 when interrupted.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return bench.run()
    except BenchError as error:
        bench.failures.append(str(error))
        print(f"benchmark failed: {error}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        bench.failures.append("interrupted")
        print("interrupted", file=sys.stderr, flush=True)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # clean up even on a second Ctrl-C
        bench.cleanup()
        signal.signal(signal.SIGINT, signal.default_int_handler)


# --- Databases of its own -------------------------------------------------------------------


def _admin(server: str) -> Any:
    import psycopg2

    connection = psycopg2.connect(f"{server}/postgres")
    connection.autocommit = True  # CREATE and DROP DATABASE refuse a transaction
    return connection


def recreate_database(server: str, name: str) -> None:
    """An empty database ``name`` on ``server``, whatever a previous run left behind."""
    connection = _admin(server)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def drop_database(server: str, name: str) -> None:
    """Drop ``name``, closing this process's Django connections to it first."""
    with suppress(Exception):
        from django.db import connections

        connections.close_all()
    connection = _admin(server)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()
