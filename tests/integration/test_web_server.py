"""config/gunicorn.py: the settings deploy/ and bench/ serve the site with.

A real gunicorn, started in its own process, shows that a worker never holds more client
connections than its cap (so kept-alive connections spread over every worker), and a
worker's start-up freezes what Django built, out of the garbage collector's reach.
"""

from __future__ import annotations

import http.client
import os
import runpy
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import REPO_ROOT, free_port, run_python

CONFIG = REPO_ROOT / "config" / "gunicorn.py"
GUNICORN = Path(sys.executable).parent / "gunicorn"


def settings_with(monkeypatch: pytest.MonkeyPatch, **environ: str) -> dict[str, Any]:
    for name in ("WEB_BIND", "WEB_CONCURRENCY", "WEB_THREADS", "WEB_WORKER_CONNECTIONS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONFIG))


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    default = settings_with(monkeypatch)
    assert (default["workers"], default["threads"], default["worker_connections"]) == (4, 4, 16)
    assert default["bind"] == "127.0.0.1:8000"
    assert default["worker_class"] == "gthread"

    tuned = settings_with(
        monkeypatch, WEB_BIND="0.0.0.0:9000", WEB_CONCURRENCY="9", WEB_THREADS="6"
    )
    assert (tuned["bind"], tuned["workers"], tuned["threads"]) == ("0.0.0.0:9000", 9, 6)
    assert tuned["worker_connections"] == 24  # four per thread unless set

    capped = settings_with(monkeypatch, WEB_WORKER_CONNECTIONS="10")
    assert capped["worker_connections"] == 10


def test_a_started_worker_has_frozen_what_django_built() -> None:
    """The hook gunicorn calls once the application is loaded, in a fresh interpreter."""
    script = (
        "import gc, runpy, django; django.setup(); "
        f"hook = runpy.run_path({str(CONFIG)!r})['post_worker_init']; "
        "before = gc.get_freeze_count(); hook(None); "
        "print(before, gc.get_freeze_count())"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = run_python(["-c", script], env, check=True)
    before, after = (int(word) for word in result.stdout.split())
    assert before == 0
    assert after > 50_000  # Django, the project's modules and the URL patterns


# --- a real server -------------------------------------------------------------------------


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """Two workers of two threads, each holding at most three client connections."""
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    process = subprocess.Popen(
        [
            str(GUNICORN), "--config", str(CONFIG), "--bind", f"127.0.0.1:{port}",
            "--workers", "2", "--threads", "2", "--worker-connections", "3",
        ],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(worker_pids(process.pid)) < 2 or not answers(port):
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not start within 60 s"
            time.sleep(0.2)
        yield port, process
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/robots.txt")
        return connection.getresponse().status == 404
    except OSError:
        return False
    finally:
        connection.close()


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def established_on(port: int) -> set[int]:
    """Socket inodes of the server side of established TCP connections on this port."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port, state = int(fields[1].split(":")[1], 16), fields[3]
        if local_port == port and state == "01":  # TCP_ESTABLISHED
            inodes.add(int(fields[9]))
    return inodes


def connections_by_worker(pids: list[int], port: int) -> Counter[int]:
    server_sockets = established_on(port)
    held: Counter[int] = Counter()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:  # closed since the listing: not one of the clients' sockets
                continue
            if target.startswith("socket:[") and int(target[8:-1]) in server_sockets:
                held[pid] += 1
    return held


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")
def test_client_connections_spread_over_the_workers(
    gunicorn: tuple[int, subprocess.Popen[bytes]],
) -> None:
    """Six connections at once: without the cap, whichever worker won the accept race
    would keep as many as it took, for as long as the client keeps them open."""
    port, process = gunicorn
    workers = worker_pids(process.pid)
    clients = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(6)]
    try:
        deadline = time.monotonic() + 10
        while sum((held := connections_by_worker(workers, port)).values()) < 6:
            assert time.monotonic() < deadline, f"accepted after 10 s: {dict(held)}"
            time.sleep(0.05)
        assert sorted(held.values()) == [3, 3]
        for client in clients:  # and every one of them is served
            client.sendall(b"GET /robots.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert client.recv(64).startswith(b"HTTP/1.1 404 ")
    finally:
        for client in clients:
            client.close()
