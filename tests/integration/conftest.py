"""The real parts for integration tests: an SMTP server, a Celery worker, Chromium.

Nothing here is a mock. The SMTP server listens on loopback, the worker is a separate
``celery worker`` process reading the test database through the broker the settings name
(Redis in CI, a folder otherwise), and Chromium is driven through Playwright.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.test import override_settings

from tests.conftest import require

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WORKER_READY = re.compile(r"@\S+ ready\.")
WORKER_START_TIMEOUT = 90.0


def run_python(
    arguments: list[str], env: dict[str, str], *, check: bool
) -> subprocess.CompletedProcess[str]:
    """This interpreter on ``arguments`` in the repository, in a process of its own (settings
    are read once per process), its output captured as text."""
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def uses_redis_cache() -> bool:
    return bool(settings.CACHES["default"]["BACKEND"].endswith("RedisCache"))


# --- SMTP -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the SMTP server got it: envelope and parsed content."""

    mail_from: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        """The subject as a mail client shows it (folding whitespace removed)."""
        return " ".join(str(self.message["Subject"] or "").split())

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return "" if part is None else str(part.get_content())

    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return "" if part is None else str(part.get_content())


async def offer_pipelining(
    handler: Any, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
) -> list[str]:
    """aiosmtpd's EHLO hook: offer PIPELINING (RFC 2920), as Postfix and Exim do, so that the
    senders' pipelined path (core.mail.start_data) is the one these tests take."""
    session.host_name = hostname
    return [*responses[:-1], "250-PIPELINING", responses[-1]]


class SMTPRecorder:
    """An aiosmtpd handler that keeps every message it accepts, offering PIPELINING."""

    handle_EHLO = offer_pipelining  # noqa: N815 (aiosmtpd's hook name)

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self._received: list[ReceivedMail] = []
        self._condition = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's hook name)
        raw: bytes = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        received = ReceivedMail(
            mail_from=str(envelope.mail_from),
            recipients=[str(address) for address in envelope.rcpt_tos],
            message=message,
        )
        with self._condition:
            self._received.append(received)
            self._condition.notify_all()
        return "250 Message accepted for delivery"

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._condition:
            return list(self._received)

    def clear(self) -> None:
        with self._condition:
            self._received.clear()

    def wait_for(
        self, match: Callable[[ReceivedMail], bool], *, count: int = 1, timeout: float = 30
    ) -> list[ReceivedMail]:
        """The received messages ``match`` accepts, once there are ``count`` of them."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                found = [mail for mail in self._received if match(mail)]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    subjects = [mail.subject for mail in self._received]
                    raise AssertionError(
                        f"expected {count} matching message(s) within {timeout:g} s, "
                        f"got {len(found)}; all received subjects: {subjects}"
                    )
                self._condition.wait(remaining)

    def wait_for_messages(self, n: int, timeout: float = 30) -> list[ReceivedMail]:
        return self.wait_for(lambda mail: True, count=n, timeout=timeout)

    def wait_for_subject(self, text: str, timeout: float = 30) -> ReceivedMail:
        return self.wait_for(lambda mail: text in mail.subject, timeout=timeout)[0]


@pytest.fixture(scope="session")
def smtp_recorder() -> Iterator[SMTPRecorder]:
    """One SMTP server on loopback for the whole session (the worker is told its port)."""
    recorder = SMTPRecorder()
    recorder.port = free_port()
    controller = Controller(recorder, hostname=recorder.host, port=recorder.port)
    controller.start()
    try:
        yield recorder
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(smtp_recorder: SMTPRecorder) -> SMTPRecorder:
    """The session's SMTP server, emptied for this test."""
    smtp_recorder.clear()
    return smtp_recorder


# --- Celery worker --------------------------------------------------------------------------


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log_path: Path
    cache_dir: Path | None

    def log(self, start: int = 0) -> str:
        with self.log_path.open("rb") as log:
            log.seek(start)
            return log.read().decode(errors="replace")

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def is_running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL; the whole group, pool children included."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def _test_database_url() -> str:
    """DATABASE_URL for the test database pytest-django created (it renamed NAME)."""
    database = settings.DATABASES["default"]
    name = str(database["NAME"])
    if database["ENGINE"] == "django.db.backends.sqlite3":
        require(
            not name.startswith(":memory:") and "mode=memory" not in name,
            "the SQLite test database is in memory; a worker process cannot share it",
        )
        return f"sqlite:///{Path(name).resolve()}"
    if database["ENGINE"] == "core.db.postgresql":
        user = quote(str(database.get("USER") or ""), safe="")
        password = quote(str(database.get("PASSWORD") or ""), safe="")
        credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = database.get("HOST") or "127.0.0.1"
        port = database.get("PORT") or 5432
        return f"postgres://{credentials}{host}:{port}/{quote(name, safe='')}"
    pytest.fail(f"no worker support for the database engine {database['ENGINE']}")


def _filesystem_broker_dir() -> Path | None:
    """The folder of kombu's filesystem transport, when that is the broker (not in CI)."""
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        return None
    return Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]).parent


def _empty_broker(broker_dir: Path | None) -> None:
    """Drop messages left by an earlier run, so the worker only sees this run's tasks."""
    from config.celery import app

    if broker_dir is None:
        app.control.purge()
        return
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    shutil.rmtree(broker_dir, ignore_errors=True)
    for folder in (
        options["data_folder_in"],
        options["data_folder_out"],
        options["control_folder"],
    ):
        Path(folder).mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup: None,
    smtp_recorder: SMTPRecorder,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WorkerProcess]:
    """A real ``celery worker`` process on the test database, sending mail to the SMTP server.

    Started once per session and stopped before pytest-django drops the test database.
    """
    workdir = tmp_path_factory.mktemp("celery-worker")
    cache_dir = None if uses_redis_cache() else workdir / "cache"
    broker_dir = _filesystem_broker_dir()
    _empty_broker(broker_dir)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _test_database_url(),
        "EMAIL_URL": smtp_recorder.url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PYTHONUNBUFFERED": "1",
    }
    if broker_dir is not None:
        env["CELERY_FILESYSTEM_DIR"] = str(broker_dir)
    if cache_dir is not None:
        env["TEST_CACHE_DIR"] = str(cache_dir)
    log_path = workdir / "worker.log"
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--queues=default,counting,mail",
        "--pool=prefork",
        "--concurrency=2",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=INFO",
        f"--hostname=agora-tests-{os.getpid()}@%h",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so teardown reaches the pool
        )
    worker = WorkerProcess(process=process, log_path=log_path, cache_dir=cache_dir)
    try:
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while not WORKER_READY.search(worker.log()):
            if not worker.is_running():
                pytest.fail(f"the Celery worker exited at start:\n{worker.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the Celery worker was not ready in time:\n{worker.log()}")
            time.sleep(0.2)
        yield worker
    finally:
        worker.stop()
        if broker_dir is not None:
            shutil.rmtree(broker_dir, ignore_errors=True)


WORKER_LOG = pytest.StashKey[tuple[WorkerProcess, int]]()


@pytest.fixture
def celery_worker(
    request: pytest.FixtureRequest,
    transactional_db: None,
    celery_worker_process: WorkerProcess,
) -> Iterator[WorkerProcess]:
    """The running worker, with tasks sent through the broker rather than run in-process.

    Needs committed data (``transactional_db``): the worker reads through its own connection.
    Without Redis, the test process's cache moves to the folder the worker uses, so both see
    the same values. A failing test shows the worker's log for its duration.
    """
    from config.celery import app

    worker = celery_worker_process
    if not worker.is_running():
        pytest.fail(f"the Celery worker has stopped:\n{worker.log()}")
    request.node.stash[WORKER_LOG] = (worker, worker.log_size())
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    shared_cache = (
        override_settings(
            CACHES={
                "default": {
                    "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                    "LOCATION": str(worker.cache_dir),
                }
            }
        )
        if worker.cache_dir is not None
        else None
    )
    if shared_cache is not None:
        shared_cache.enable()
        from django.core.cache import cache

        cache.clear()  # the folder outlives tests: start this one empty, like the others
    try:
        yield worker
    finally:
        if shared_cache is not None:
            shared_cache.disable()
        app.conf.task_always_eager = eager


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed and WORKER_LOG in item.stash:
        worker, start = item.stash[WORKER_LOG]
        report.sections.append(("Celery worker log", worker.log(start)))
    return report


# --- Browser --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    require(CHROMIUM.exists(), f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread, and Django then
    # refuses database calls from it (pytest-django and Playwright's known clash).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as driver:
            yield driver
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    chromium = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def page(browser: Browser, live_server: Any) -> Iterator[Page]:
    """A fresh English-speaking tab; axe is injected despite any Content-Security-Policy."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-GB",
        extra_http_headers={"Accept-Language": "en-GB,en;q=0.9"},
        bypass_csp=True,
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


def collect_console_errors(page: Page) -> list[str]:
    """A list that fills with the page's console errors and uncaught exceptions."""
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(f"console.{message.type}: {message.text} ({message.location})")
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    return errors


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    return collect_console_errors(page)


def run_axe(page: Page) -> list[dict[str, Any]]:
    """Run axe-core's WCAG 2.1 A/AA rules on the page; the serious and critical violations."""
    require(AXE.exists(), f"axe-core is missing at {AXE}: run `npm install` (`make test` does)")
    page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return results.violations;
        }""",
        AXE_TAGS,
    )
    return [v for v in violations if v.get("impact") in ("serious", "critical")]


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = [f"{len(violations)} serious or critical accessibility violation(s):"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} "
            f"<{violation['helpUrl']}>"
        )
        for node in violation.get("nodes", [])[:5]:
            summary = " ".join(str(node.get("failureSummary", "")).split())
            lines.append(f"    at {node.get('target')}: {node.get('html', '')[:160]}")
            lines.append(f"      {summary[:400]}")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    violations = run_axe(page)
    assert not violations, f"{page.url}\n{format_violations(violations)}"
