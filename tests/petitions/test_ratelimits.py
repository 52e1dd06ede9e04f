"""Signing limits: rates, windows, the per-domain allow-list, the Redis pipeline."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.conf import settings
from django.test import RequestFactory, override_settings

from core import redis
from core.ratelimits import Counter, Rate, hit
from petitions.ratelimits import signing_limited
from tests.conftest import redis_commands, require


def request_from(address: str):
    return RequestFactory().post("/", REMOTE_ADDR=address)


@pytest.mark.parametrize(
    ("text", "limit", "seconds"),
    [
        ("30/10m", 30, 600),
        ("200/h", 200, 3600),
        ("5/s", 5, 1),
        (" 7 / 2d ", 7, 172800),
        ("300/min", 300, 60),  # DRF's words, as API_RATE is written
        ("10/second", 10, 1),
        ("2/hours", 2, 3600),
        ("1/day", 1, 86400),
    ],
)
def test_rates_read_as_a_count_per_window(text, limit, seconds):
    assert Rate.parse(text) == Rate(limit, seconds)


@pytest.mark.parametrize("text", ["30", "30/10x", "/m", "many/h", "", "3/minute5", "3/ms"])
def test_a_mistyped_rate_fails_loudly(text):
    with pytest.raises(ValueError, match="Not a rate"):
        Rate.parse(text)


def test_counters_of_different_windows_or_values_do_not_share_a_key():
    counter = Counter("sign.ip", "192.0.2.1", Rate(3, 60))
    other = Counter("sign.ip", "192.0.2.2", Rate(3, 60))
    assert counter.key(120.0) == counter.key(179.9)
    assert counter.key(120.0) != counter.key(180.0)
    assert counter.key(120.0) != other.key(120.0)
    assert "192.0.2.1" not in counter.key(120.0)  # addresses are hashed in the key


@override_settings(AGORA_SIGNING_RATE_PER_IP="3/h", AGORA_SIGNING_RATE_PER_DOMAIN="1000/h")
def test_the_address_limit_trips_after_its_count_and_only_for_that_address():
    results = [signing_limited(request_from("192.0.2.1"), "a@example.org") for _ in range(4)]
    assert results == [False, False, False, True]
    assert signing_limited(request_from("192.0.2.9"), "a@example.org") is False


@override_settings(
    AGORA_SIGNING_RATE_PER_IP="1000/h",
    AGORA_SIGNING_RATE_PER_DOMAIN="2/h",
    AGORA_SIGNING_DOMAIN_ALLOWLIST=["gmail.com"],
)
def test_the_domain_limit_spares_allow_listed_providers():
    limited = [
        signing_limited(request_from(f"192.0.2.{n}"), f"p{n}@small.example") for n in (1, 2, 3)
    ]
    assert limited == [False, False, True]
    assert not any(
        signing_limited(request_from(f"198.51.100.{n}"), f"p{n}@gmail.com") for n in range(5)
    )


def test_without_redis_the_counters_live_in_the_django_cache():
    counter = Counter("sign.test", "value", Rate(10, 60))
    with mock.patch.object(redis, "client", return_value=None):
        assert [hit([counter])[0] for _ in range(3)] == [1, 2, 3]


@pytest.mark.redis
def test_with_redis_every_counter_is_counted_by_one_command_and_expires():
    require(bool(settings.REDIS_URL), "needs Redis (REDIS_URL=redis://...)")
    client = redis.client()
    first, second = Counter("sign.a", "x", Rate(5, 60)), Counter("sign.b", "y", Rate(5, 3600))
    assert hit([first, second]) == [1, 1]  # may open this thread's connection, load the script
    with redis_commands() as sent:
        assert hit([first, second]) == [2, 2]
    assert sent == ["EVALSHA"]
    now = time.time()
    assert 0 < client.ttl(first.key(now)) <= 60
    assert 3540 < client.ttl(second.key(now)) <= 3600
