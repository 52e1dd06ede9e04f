"""Production settings: `check --deploy` is clean, and an unsafe environment refuses to start.

Each case runs `manage.py check` in its own process, because settings are read once per
process. The check never connects to the database, Redis or the mail server.
"""

from __future__ import annotations

import os
import secrets
import subprocess

import pytest

from tests.integration.conftest import run_python

# Every variable production.py reads; none may leak in from the environment of the tests.
CONFIGURATION = (
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "EMAIL_URL",
    "DEFAULT_FROM_EMAIL",
    "DJANGO_SETTINGS_MODULE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
)


def safe_environment() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(48),  # 64 characters
        "ALLOWED_HOSTS": "petitions.example.org",
        "SITE_URL": "https://petitions.example.org",
        "DATABASE_URL": "postgres://u@127.0.0.1:5432/agora",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "EMAIL_URL": "smtp://127.0.0.1:25",
        "DEFAULT_FROM_EMAIL": "Agora <noreply@petitions.example.org>",
    }


def check_deploy(configuration: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in CONFIGURATION}
    env.update(configuration, DJANGO_SETTINGS_MODULE="config.settings.production")
    return run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env, check=False
    )


def test_check_deploy_finds_no_issue_with_a_complete_safe_environment() -> None:
    result = check_deploy(safe_environment())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        pytest.param("SECRET_KEY", None, id="secret-key-missing"),
        pytest.param("SECRET_KEY", "too-short-0123456789", id="secret-key-short"),
        pytest.param("SECRET_KEY", "a" * 64, id="secret-key-one-character"),
        pytest.param("SECRET_KEY", "django-insecure-" + "x1y2z3" * 9, id="secret-key-insecure"),
        pytest.param("ALLOWED_HOSTS", None, id="allowed-hosts-missing"),
        pytest.param("ALLOWED_HOSTS", "*", id="allowed-hosts-star"),
        pytest.param("SITE_URL", None, id="site-url-missing"),
        pytest.param("SITE_URL", "http://petitions.example.org", id="site-url-http"),
        pytest.param("DATABASE_URL", None, id="database-url-missing"),
        pytest.param("DATABASE_URL", "sqlite:////tmp/agora.sqlite3", id="database-url-sqlite"),
        pytest.param("REDIS_URL", None, id="redis-url-missing"),
        pytest.param("EMAIL_URL", None, id="email-url-missing"),
        pytest.param("DEFAULT_FROM_EMAIL", None, id="default-from-email-missing"),
    ],
)
def test_production_refuses_to_start_naming_the_missing_or_unsafe_variable(
    variable: str, value: str | None
) -> None:
    configuration = safe_environment()
    if value is None:
        del configuration[variable]
    else:
        configuration[variable] = value

    result = check_deploy(configuration)

    assert result.returncode != 0, result.stdout
    assert f"ImproperlyConfigured: {variable} " in result.stderr, result.stderr[-2000:]
