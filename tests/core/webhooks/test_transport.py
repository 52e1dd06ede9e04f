"""The SSRF guard and the address checks, without any network."""

from __future__ import annotations

import pytest
from django.test import override_settings

from core.webhooks import transport


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.8",
        "172.16.4.1",
        "192.168.0.10",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 (an address to refuse, not one to bind)
        "224.0.0.1",
        "::1",
        "fe80::1%eth0",
        "fd00::1",
        "::ffff:127.0.0.1",
    ],
)
def test_internal_addresses_are_not_public(address):
    assert not transport.is_public(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_internet_addresses_are_public(address):
    assert transport.is_public(address)


def test_the_target_keeps_the_port_path_and_query():
    target = transport.parse("https://hooks.example.org:8443/in?key=1")
    assert target == transport.Target("https", "hooks.example.org", 8443, "/in?key=1")
    assert transport.parse("http://hooks.example.org").path == "/"
    assert transport.parse("http://hooks.example.org").port == 80


@pytest.mark.parametrize("url", ["https://hooks.example.org:99999/", "javascript:alert(1)"])
def test_invalid_addresses_are_refused(url):
    with pytest.raises(transport.UnsafeAddress):
        transport.parse(url)


@override_settings(WEBHOOKS_ALLOW_PRIVATE_HOSTS=False)
def test_a_refused_address_is_an_attempt_that_failed_without_a_request():
    outcome = transport.post("http://127.0.0.1:9/", b"{}", {})
    assert outcome.status_code is None
    assert "private or local" in outcome.error
    assert not outcome.succeeded


@override_settings(WEBHOOKS_ALLOW_PRIVATE_HOSTS=True)
def test_a_closed_port_is_a_network_error_not_an_exception():
    outcome = transport.post("http://127.0.0.1:9/", b"{}", {})
    assert outcome.status_code is None
    assert "Connection" in outcome.error or "Errno" in outcome.error
