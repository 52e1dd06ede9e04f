"""An open-loop HTTP load generator: requests at a fixed rate, latency from the schedule.

wrk (closed loop) sends the next request only when the previous one is answered, so a slow
answer delays the requests behind it and they never count as slow: coordinated omission.
Debian has no wrk2, so this one schedules request k at start + k / rate on the wall clock,
whatever the server does, and measures each latency from that scheduled time: a stall shows
in every request that should have been sent during it.

asyncio with raw HTTP/1.1 keep-alive connections: a pool that grows when every connection
is busy (as many browsers would open), so that a slow server cannot slow the schedule.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.stack import percentile

MAX_CONNECTIONS = 256
TIMEOUT_S = 10.0


@dataclass
class OpenLoopResult:
    name: str
    rate: float  # scheduled requests per second
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)  # answered, any status
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # no answer: timeout, reset...
    late_ms: float = 0.0  # worst lag of a send behind its schedule (the generator's own)
    connections: int = 0  # the most open at once
    bytes: int = 0
    retried: int = 0  # requests sent again after meeting a connection the server closed
    by_kind: dict[str, list[float]] = field(default_factory=dict)  # latencies per kind
    by_second: dict[int, list[float]] = field(default_factory=dict)  # by scheduled second

    @property
    def sent(self) -> int:
        return len(self.latencies_ms) + sum(self.errors.values())

    @property
    def bad(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 200)

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)

    def describe(self) -> str:
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
        errors = ", ".join(f"{k} {v}" for k, v in self.errors.items()) or "none"
        return (
            f"{self.name} at {self.rate:g}/s for {self.seconds:g} s: {self.sent} sent "
            f"({statuses}), errors {errors}; latency p50 {self.p(50):.1f} ms p95 "
            f"{self.p(95):.1f} ms p99 {self.p(99):.1f} ms "
            f"max {max(self.latencies_ms, default=0):.0f} ms; "
            f"{self.connections} connections, {self.bytes / max(self.sent, 1) / 1024:.1f} KiB "
            f"per answer, {self.retried} retried on a new connection, sends at most "
            f"{self.late_ms:.1f} ms behind schedule"
        )


class StaleConnection(Exception):
    """The server had closed the connection: no answer began."""


class PoolFull(Exception):
    """MAX_CONNECTIONS requests are already waiting: the server is far behind."""


def kind(path: str) -> str:
    """What a request asks, for the breakdown: its parameters' names, less the page."""
    _, _, query = path.partition("?")
    names = sorted({pair.split("=")[0] for pair in query.split("&") if pair} - {"page"})
    return "&".join(names) or "(none)"


def breakdown(result: OpenLoopResult) -> list[str]:
    """p50 and p99 of each kind of request, slowest first; then the seconds of the run
    whose p99 went over 50 ms (a stall shows as a run of them)."""
    rows = sorted(result.by_kind.items(), key=lambda item: -percentile(item[1], 99))
    slow = [
        f"{second}s {percentile(values, 99):.0f}"
        for second, values in sorted(result.by_second.items())
        if percentile(values, 99) > 50
    ]
    timeline = [f"    seconds with p99 > 50 ms (second: p99 ms): {', '.join(slow) or 'none'}"]
    return timeline + [
        f"    {name:<34} {len(values):>6} requests  p50 {percentile(values, 50):>7.1f} ms  "
        f"p99 {percentile(values, 99):>7.1f} ms"
        for name, values in rows
    ]


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def get(self, host: str, path: str) -> tuple[int, int]:
        """One GET on this connection: (status, body bytes). Closes it if the server does."""
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n"
            "Accept-Encoding: identity\r\n\r\n".encode()
        )
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise StaleConnection
        status = int(status_line.split()[1])
        length, chunked, closing = 0, False, False
        while (header := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = header.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                closing = True
        size = await self._chunked() if chunked else len(await self.reader.readexactly(length))
        if closing:
            self.close()
            raise EOFError(status, size)  # answered, but the connection is gone
        return status, size

    async def _chunked(self) -> int:
        size = 0
        while True:
            chunk = int((await self.reader.readline()).split(b";")[0], 16)
            await self.reader.readexactly(chunk + 2)
            size += chunk
            if chunk == 0:
                return size

    def close(self) -> None:
        self.writer.close()


class OpenLoop:
    """One run: the schedule, the pool of connections, and what each request got."""

    def __init__(self, result: OpenLoopResult, port: int, paths: Sequence[str], seed: int) -> None:
        self.result, self.port, self.paths = result, port, paths
        self.host = f"127.0.0.1:{port}"
        self.idle: list[Connection] = []
        self.live = 0  # connections open now
        self.rng = random.Random(seed)  # noqa: S311 - which address to ask, not a secret
        self.start = 0.0  # loop time of the first scheduled send

    async def exchange(self, path: str) -> tuple[int, int]:
        """GET on an idle connection, or a new one. The server closes a keep-alive connection
        idle for a few seconds; a request that meets such a closed connection before any
        answer is sent again on a new one, as browsers and HTTP libraries do."""
        if self.idle:
            connection = self.idle.pop()
            try:
                answer = await connection.get(self.host, path)
                self.idle.append(connection)
                return answer
            except (ConnectionResetError, BrokenPipeError, StaleConnection):
                connection.close()
                self.live -= 1
                self.result.retried += 1
        if self.live >= MAX_CONNECTIONS:
            raise PoolFull
        self.live += 1
        self.result.connections = max(self.result.connections, self.live)
        connection = Connection(*await asyncio.open_connection("127.0.0.1", self.port))
        answer = await connection.get(self.host, path)
        self.idle.append(connection)
        return answer

    async def one(self, scheduled: float, path: str) -> None:
        result = self.result
        try:
            status, size = await asyncio.wait_for(self.exchange(path), TIMEOUT_S)
        except EOFError as closed:  # answered, and the server closed the connection
            status, size = closed.args
            self.live -= 1
        except PoolFull:
            result.errors["all connections busy"] += 1
            return
        except (
            OSError,
            ValueError,
            IndexError,
            StaleConnection,
            asyncio.IncompleteReadError,
        ) as error:
            result.errors[type(error).__name__] += 1  # TimeoutError is an OSError
            self.live = max(0, self.live - 1)
            return
        latency = (asyncio.get_running_loop().time() - scheduled) * 1000
        result.latencies_ms.append(latency)
        result.by_second.setdefault(int(scheduled - self.start), []).append(latency)
        result.by_kind.setdefault(kind(path), []).append(latency)
        result.statuses[status] += 1
        result.bytes += size

    async def run(self) -> OpenLoopResult:
        loop = asyncio.get_running_loop()
        result = self.result
        tasks: set[asyncio.Task[None]] = set()
        start = self.start = loop.time() + 0.05
        for k in range(int(result.rate * result.seconds)):
            scheduled = start + k / result.rate
            delay = scheduled - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            result.late_ms = max(result.late_ms, (loop.time() - scheduled) * 1000)
            task = asyncio.create_task(self.one(scheduled, self.rng.choice(self.paths)))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks, timeout=TIMEOUT_S + 1)
        for connection in self.idle:
            connection.close()
        return result


def run_open_loop(
    name: str, port: int, paths: Sequence[str], rate: float, seconds: float, seed: int = 1
) -> OpenLoopResult:
    """GET a random path of ``paths`` ``rate`` times a second for ``seconds`` seconds."""
    result = OpenLoopResult(name, rate, seconds)
    return asyncio.run(OpenLoop(result, port, paths, seed).run())
