"""Shared test helpers: skip on a laptop, fail in CI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def _missing(reason: str) -> NoReturn:
    __tracebackhide__ = True  # report the test that needed the service, not this line
    if in_ci():
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def require(condition: bool, reason: str) -> None:
    """Skip when ``condition`` is false on a developer's machine; fail when CI=true.

    A service the integration tests need (PostgreSQL, Redis, Chromium) may be missing on a
    laptop, but in CI its absence is a broken pipeline, never a quiet skip.
    """
    __tracebackhide__ = True
    if not condition:
        _missing(reason)


@contextmanager
def redis_commands() -> Iterator[list[str]]:
    """The names of the Redis commands sent meanwhile, on any connection (a wrapper only)."""
    from redis.connection import AbstractConnection

    seen: list[str] = []
    original = AbstractConnection.send_command

    def send_command(self, *args, **options):
        seen.append(str(args[0]))
        return original(self, *args, **options)

    AbstractConnection.send_command = send_command  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        AbstractConnection.send_command = original  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache: rate-limit counters, postcode tables, locks."""
    from django.conf import settings
    from django.core.cache import cache
    from django.utils import translation

    from core.memo import forget_all
    from petitions.places import forget_prefixes
    from petitions.services.signature_mail import forget_kicks, forget_renders

    cache.clear()
    forget_prefixes()  # the per-process copies too: postcode tables, rendered emails
    forget_renders()
    forget_kicks()
    forget_all()
    translation.activate(settings.LANGUAGE_CODE)  # a previous request may have left French
    yield
    cache.clear()
    forget_prefixes()
    forget_renders()
    forget_all()


@pytest.fixture
def moderator(db):
    from accounts.roles import Role
    from tests.factories import staff_user

    return staff_user(Role.MODERATOR)


@pytest.fixture
def administrator(db):
    from accounts.roles import Role
    from tests.factories import staff_user

    return staff_user(Role.ADMINISTRATOR)
