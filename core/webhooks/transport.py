"""Checking an endpoint's address and posting one delivery to it.

The SSRF guard resolves the host and refuses loopback, private, link-local and other
non-public addresses (unless ``WEBHOOKS_ALLOW_PRIVATE_HOSTS``), then connects to the very
addresses it checked, so a name that resolves differently a second later (DNS rebinding)
cannot slip through; over TLS the certificate is still checked against the host name.
Redirects are not followed: a 3xx is a failed attempt.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

EXCERPT_LENGTH = 500  # characters of the answer kept in the log
READ_LIMIT = 4096  # bytes of the answer read at most


class UnsafeAddress(Exception):
    """The endpoint's address is not one Agora may post to; ``str()`` says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query string


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: a status code, or an error, and how long it took."""

    status_code: int | None
    duration_ms: int
    excerpt: str = ""
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def parse(url: str) -> Target:
    """Split ``url``, refusing other schemes, credentials and (in production) plain http."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeAddress(_("The address must start with https:// or http://."))
    if parts.scheme != "https" and settings.WEBHOOKS_REQUIRE_HTTPS:
        raise UnsafeAddress(_("The address must start with https://."))
    if parts.username or parts.password:
        raise UnsafeAddress(_("The address must not contain a user name or password."))
    if not parts.hostname:
        raise UnsafeAddress(_("The address has no host name."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeAddress(_("The address has an invalid port.")) from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path)


def is_public(address: str) -> bool:
    """True for an address on the public internet (not loopback, private, link-local...)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone index
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(target: Target) -> list[str]:
    """The addresses to connect to, once every address of the host has passed the guard."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeAddress(_("The host name could not be found.")) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise UnsafeAddress(_("The host name could not be found."))
    if not settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS and not all(map(is_public, addresses)):
        raise UnsafeAddress(
            _("The address points to a private or local network, which is not allowed.")
        )
    return addresses


def check_url(url: str) -> None:
    """Raise ``UnsafeAddress`` unless ``url`` may receive deliveries (at registration).

    Where private hosts are allowed there is nothing to resolve for; each attempt checks
    the address again anyway, as a name may point elsewhere by then.
    """
    target = parse(url)
    if not settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS:
        resolve(target)


def _connect(addresses: list[str], port: int, timeout: float | None) -> socket.socket:
    """A connection to the first of the checked addresses that answers (IPv6 or IPv4)."""
    error: OSError = OSError("no address")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as failed:
            error = failed
    raise error


def tls_context() -> ssl.SSLContext:
    """The system's trusted authorities; certificates are checked against the host name."""
    return ssl.create_default_context()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked addresses, whatever the host name resolves to now."""

    def __init__(self, target: Target, addresses: list[str], timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._addresses = addresses

    def connect(self) -> None:
        self.sock = _connect(self._addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS, with the certificate checked against the host name."""

    def __init__(self, target: Target, addresses: list[str], timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=tls_context())
        self._addresses = addresses

    def connect(self) -> None:
        sock = _connect(self._addresses, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]  # http.client's own context, untyped in typeshed


def _excerpt(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")[:EXCERPT_LENGTH]


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST ``body`` to ``url``; never raises for what the network or the server does.

    The timeout (``WEBHOOKS_TIMEOUT_SECONDS``) applies to connecting and to each read.
    """
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = parse(url)
        addresses = resolve(target)
    except UnsafeAddress as refused:
        return Outcome(None, elapsed(), error=str(refused))
    timeout = float(settings.WEBHOOKS_TIMEOUT_SECONDS)
    connection: http.client.HTTPConnection = (
        _PinnedHTTPSConnection(target, addresses, timeout)
        if target.scheme == "https"
        else _PinnedHTTPConnection(target, addresses, timeout)
    )
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        answer = connection.getresponse()
        raw = answer.read(READ_LIMIT)
        return Outcome(answer.status, elapsed(), excerpt=_excerpt(raw))
    except (OSError, http.client.HTTPException) as error:  # timeouts, refusals, TLS, garbage
        return Outcome(None, elapsed(), error=f"{type(error).__name__}: {error}"[:500])
    finally:
        connection.close()
