"""What PostgreSQL and Redis themselves guarantee: constraints and rate-limit counters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.conftest import require
from tests.factories import PASSWORD, UserFactory

RATE_LIMIT_KEYS = "allauth:rl:allauth.account:{action}:*"
ALLAUTH_FALLBACK_429 = "You have sent too many requests"


# --- PostgreSQL -----------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_rejects_an_email_that_differs_from_another_only_in_case() -> None:
    require(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://...)")
    User.objects.create(email="foo@x.org", display_name="Foo")

    with pytest.raises(IntegrityError, match="accounts_user_email_ci_unique"), transaction.atomic():
        User.objects.create(email="Foo@x.org", display_name="Other Foo")

    assert list(User.objects.values_list("email", flat=True)) == ["foo@x.org"]


# --- Redis ----------------------------------------------------------------------------------


def _redis_keys(action: str) -> list[str]:
    client = cache._cache.get_client(write=False)  # type: ignore[attr-defined]
    pattern = cache.make_key(RATE_LIMIT_KEYS.format(action=action))
    return sorted(key.decode() for key in client.scan_iter(match=pattern))


def _clear_rate_limits() -> None:
    client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
    for key in client.scan_iter(match=cache.make_key("allauth:rl:*")):
        client.delete(key)


@pytest.fixture
def redis_rate_limits() -> Iterator[None]:
    """Rate-limit counters in Redis, none left from an earlier test, none left behind."""
    require(bool(settings.REDIS_URL), "needs Redis (REDIS_URL=redis://...)")
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    _clear_rate_limits()
    yield
    _clear_rate_limits()


@pytest.mark.redis
@pytest.mark.django_db
@pytest.mark.usefixtures("redis_rate_limits")
def test_after_five_failed_logins_even_the_right_password_is_refused_in_french(
    client: Client,
) -> None:
    user = UserFactory(email="target@example.org")
    for _ in range(5):
        failed = client.post(
            reverse("account_login"),
            {"login": user.email, "password": "wrong-password-123"},
            HTTP_ACCEPT_LANGUAGE="fr",
        )
        assert failed.status_code == 200
    assert _redis_keys("login_failed"), "no login_failed counter in Redis"

    refused = client.post(
        reverse("account_login"),
        {"login": user.email, "password": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert refused.status_code == 200
    assert "Trop de tentatives de connexion échouées" in refused.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.redis
@pytest.mark.django_db
@pytest.mark.usefixtures("redis_rate_limits")
def test_too_many_login_attempts_from_one_address_answer_429_in_the_visitors_language(
    client: Client,
) -> None:
    # ACCOUNT_RATE_LIMITS["login"] is 30/m/ip: the 31st POST within a minute is refused.
    for attempt in range(30):
        allowed = client.post(
            reverse("account_login"),
            {"login": f"person{attempt}@example.org", "password": "wrong-password-123"},
        )
        assert allowed.status_code == 200, f"attempt {attempt + 1} answered {allowed.status_code}"

    french = client.post(
        reverse("account_login"),
        {"login": "someone@example.org", "password": "wrong-password-123"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    english = client.post(
        reverse("account_login"),
        {"login": "someone@example.org", "password": "wrong-password-123"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert french.status_code == english.status_code == 429
    # The site's own 429 page (templates/429.html), in each reader's language, not the bare
    # English page allauth falls back to when that template is missing.
    assert ALLAUTH_FALLBACK_429 not in french.content.decode(), "templates/429.html is missing"
    assert '<html lang="fr"' in french.content.decode()
    assert '<html lang="en"' in english.content.decode()
    assert french.content != english.content
    keys = _redis_keys("login")
    assert keys, "no login counter in Redis"
    client_redis = cache._cache.get_client(write=False)  # type: ignore[attr-defined]
    assert all(0 < client_redis.ttl(key) <= 60 for key in keys)
