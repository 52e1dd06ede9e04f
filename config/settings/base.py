"""Settings shared by every environment.

Every value that differs between deployments comes from the environment (see the
configuration table in README.md). Local defaults are safe for a developer's machine;
``production.py`` refuses to start when a value it needs is missing or unsafe.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import django_stubs_ext
import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

# Lets ModelAdmin[Model], QuerySet[Model] and friends be subscripted at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

# --- Core -------------------------------------------------------------------------------

SECRET_KEY = env("SECRET_KEY", default="local-only-insecure-key-never-use-in-production-0123")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env("SITE_NAME", default="Agora")
SITE_ID = 1

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_countries",
    "allauth",
    "allauth.account",
    "health_check",
    "core",
    "accounts",
    "petitions",
    "responses",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
            ],
        },
    },
]

# --- Data -------------------------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'agora.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # services own their transactions
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, whose health check polls the socket before it asks the server.
    DATABASES["default"]["ENGINE"] = "core.db.postgresql"
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "agora",
        }
    }
else:
    # Without Redis the cache lives in files so the web server and the worker share it.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Accounts ---------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
CSRF_FAILURE_VIEW = "core.views.csrf_failure"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:account"
LOGOUT_REDIRECT_URL = "core:home"

ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupExtraForm"
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https") else "http"
# Login failures are limited per IP and per account; the cache backs the counters.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
}

# Behind a reverse proxy, the client's address is the N-th from the right in
# X-Forwarded-For; rate limits per IP read it from there (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

# --- Languages and time -----------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("fr", _("French")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env("TIME_ZONE", default="Europe/Paris")
USE_TZ = True
LANGUAGE_COOKIE_SECURE = False
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Static files -----------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Email ------------------------------------------------------------------------------

DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default=f"{SITE_NAME} <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_URL = env("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
else:
    # Locally, every message is kept as a file in var/mail so a person can read it.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_TIMEOUT = 30

# --- Background workflow ----------------------------------------------------------------

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport: a real broker in a folder, so `make run` needs no Redis.
    _broker_dir = Path(env("CELERY_FILESYSTEM_DIR", default=str(VAR_DIR / "broker")))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "messages"),
        "data_folder_out": str(_broker_dir / "messages"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A task whose worker died is delivered again after this long (acks_late).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [Queue("default"), Queue("counting"), Queue("mail")]
CELERY_TASK_ROUTES = {
    "core.tasks.send_email": {"queue": "mail"},
    "core.tasks.heartbeat": {"queue": "default"},
    "core.tasks.clear_expired_sessions": {"queue": "default"},
    "petitions.tasks.count_signatures": {"queue": "counting"},
    "petitions.tasks.recount_signatures": {"queue": "counting"},
    "petitions.tasks.close_expired_petitions": {"queue": "default"},
    "petitions.tasks.route_petition": {"queue": "default"},
    "petitions.tasks.announce_threshold": {"queue": "mail"},
    "petitions.tasks.send_signature_emails": {"queue": "mail"},
    "responses.tasks.fan_out_mailing": {"queue": "mail"},
    "responses.tasks.send_mailing": {"queue": "mail"},
    "responses.tasks.resume_mailings": {"queue": "mail"},
    "responses.tasks.send_deadline_reminders": {"queue": "default"},
    "responses.tasks.publish_scheduled_responses": {"queue": "default"},
    "core.webhooks.tasks.create_webhook_deliveries": {"queue": "default"},
    "core.webhooks.tasks.deliver_webhook": {"queue": "default"},
    "core.webhooks.tasks.retry_webhook_deliveries": {"queue": "default"},
}
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # The worker's heartbeat lets /health/ and operators see that the workflow runs.
    "worker-heartbeat": {"task": "core.tasks.heartbeat", "schedule": 30.0},
    "count-signatures": {
        "task": "petitions.tasks.count_signatures",
        "schedule": env.float("COUNT_INTERVAL_SECONDS", default=2.0),
        # A run that waited longer than two intervals is stale: the next one does its work.
        "options": {"expires": 2 * env.float("COUNT_INTERVAL_SECONDS", default=2.0)},
    },
    "send-signature-emails": {
        "task": "petitions.tasks.send_signature_emails",
        "schedule": 5.0,
        "options": {"expires": 10.0},
    },
    "recount-signatures": {
        "task": "petitions.tasks.recount_signatures",
        "schedule": crontab(hour=2, minute=30),
    },
    "close-expired-petitions": {
        "task": "petitions.tasks.close_expired_petitions",
        "schedule": crontab(minute="*/5"),
    },
    "resume-mailings": {"task": "responses.tasks.resume_mailings", "schedule": 60.0},
    "publish-scheduled-responses": {
        "task": "responses.tasks.publish_scheduled_responses",
        "schedule": 60.0,
    },
    "send-deadline-reminders": {
        "task": "responses.tasks.send_deadline_reminders",
        "schedule": crontab(minute=5),
    },
    "clear-expired-sessions": {
        "task": "core.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=17),
    },
    # After the nightly recount (02:30), so the bulk files carry reconciled counts.
    "export-open-data": {
        "task": "core.opendata.tasks.export_open_data",
        "schedule": crontab(hour=4, minute=10),
        "options": {"queue": "default", "expires": 6 * 3600},
    },
    # Webhook retries are also sent with a countdown; this sweep catches the ones a broker
    # outage or a dead worker lost.
    "retry-webhook-deliveries": {
        "task": "core.webhooks.tasks.retry_webhook_deliveries",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
}
# Task modules outside an app's tasks.py, which autodiscovery does not import.
CELERY_IMPORTS = ["core.opendata.tasks"]
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE

# --- Petitions ----------------------------------------------------------------------------

AGORA_SUPPORTERS_NEEDED = env.int("SUPPORTERS_NEEDED", default=5)
AGORA_MODERATION_TARGET_DAYS = env.int("MODERATION_TARGET_DAYS", default=7)
AGORA_COUNT_INTERVAL_SECONDS = env.float("COUNT_INTERVAL_SECONDS", default=2.0)
AGORA_MAX_CONFIRMATION_EMAILS = 5  # per address and petition
# A web process asks for a confirmation-email sender at most this often (seconds); beat's
# run every few seconds is the safety net. See petitions.services.signature_mail.
AGORA_SIGNATURE_MAIL_QUIET_SECONDS = 0.2
# Signing limits (rates such as 30/10m, see petitions.ratelimits): per client address, and
# per email domain with an allow-list of large providers whose users are many and
# independent.
AGORA_SIGNING_RATE_PER_IP = env("SIGNING_RATE_PER_IP", default="30/10m")
AGORA_SIGNING_RATE_PER_DOMAIN = env("SIGNING_RATE_PER_DOMAIN", default="200/h")
AGORA_SIGNING_DOMAIN_ALLOWLIST = env.list(
    "SIGNING_DOMAIN_ALLOWLIST",
    default=[
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "outlook.fr",
        "hotmail.com",
        "hotmail.fr",
        "live.com",
        "live.fr",
        "yahoo.com",
        "yahoo.fr",
        "icloud.com",
        "orange.fr",
        "wanadoo.fr",
        "free.fr",
        "sfr.fr",
        "laposte.net",
        "gmx.fr",
        "gmx.com",
        "proton.me",
        "protonmail.com",
        "aol.com",
        "bbox.fr",
    ],
)
# Email domains whose signatures the We the People API refuses (its error 77), e.g.
# disposable-address services: SIGNING_BLOCKED_DOMAINS=mailinator.com,yopmail.com
AGORA_SIGNING_BLOCKED_DOMAINS = [
    domain.strip().lower() for domain in env.list("SIGNING_BLOCKED_DOMAINS", default=[])
]
AGORA_REMINDER_DAYS_BEFORE = env.int("REMINDER_DAYS_BEFORE", default=7)
AGORA_OUTBOX_SENDERS = env.int("OUTBOX_SENDERS", default=4)  # parallel send tasks a mailing
AGORA_OUTBOX_FANOUT_BATCH = env.int("OUTBOX_FANOUT_BATCH", default=5000)  # rows per INSERT
# A claimed outbox batch whose worker died is taken over after this many seconds.
AGORA_OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=300)

# --- Webhooks -----------------------------------------------------------------------------
# Deliveries to administrators' endpoints: a short timeout, then retries with exponential
# backoff (BACKOFF, then x4 each time, capped) until the last attempt fails for good.
WEBHOOKS_TIMEOUT_SECONDS = env.float("WEBHOOKS_TIMEOUT_SECONDS", default=5.0)
WEBHOOKS_MAX_ATTEMPTS = env.int("WEBHOOKS_MAX_ATTEMPTS", default=8)
WEBHOOKS_BACKOFF_SECONDS = env.float("WEBHOOKS_BACKOFF_SECONDS", default=30.0)
WEBHOOKS_BACKOFF_MAX_SECONDS = env.float("WEBHOOKS_BACKOFF_MAX_SECONDS", default=6 * 3600.0)
# An attempt whose worker died is taken over after this long (beyond the task time limit).
WEBHOOKS_LEASE_SECONDS = env.int("WEBHOOKS_LEASE_SECONDS", default=120)
# The SSRF guard: endpoints on loopback, private or link-local addresses are refused unless
# this is true (local development and tests post to loopback).
WEBHOOKS_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOKS_ALLOW_PRIVATE_HOSTS", default=False)
WEBHOOKS_REQUIRE_HTTPS = env.bool("WEBHOOKS_REQUIRE_HTTPS", default=False)

# --- API --------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Behind proxies, DRF's own client address (throttles without an ident of their own).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
# Requests per client address to /api/v1/ (DRF rate: N/s, N/min, N/hour, N/day; empty: no
# limit). Generous: reusers who need everything have the bulk files.
# Whole API answers kept in the cache while fresh (core.api.answers); tests turn it off.
AGORA_API_ANSWER_CACHE = env.bool("API_ANSWER_CACHE", default=True)
AGORA_API_RATE = env("API_RATE", default="300/min")
if AGORA_API_RATE and not re.fullmatch(
    r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)", AGORA_API_RATE
):
    raise ImproperlyConfigured(f"API_RATE must be a rate like 300/min, not {AGORA_API_RATE!r}.")
# Open data is open to every origin, but only under /api/ and /data/: the site's own forms
# and the back-office never answer a cross-origin request.
CORS_ALLOW_ALL_ORIGINS = True
CORS_URLS_REGEX = r"^/(api|data)/.*$"
CORS_ALLOW_CREDENTIALS = False
CORS_EXPOSE_HEADERS = ["ETag", "Last-Modified", "Retry-After", "Link"]

SPECTACULAR_SETTINGS = {
    "TITLE": "Agora open-data API",
    "DESCRIPTION": (
        "Read-only, anonymous access to Agora's public data: petitions and their counts by "
        "region, country and day, official responses, departments' response records, topics, "
        "regions and site-wide statistics. No personal data. Errors are JSON; answers carry "
        "ETag and Last-Modified; rate limited per address (429 with Retry-After). "
        "Guide: docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "PREPROCESSING_HOOKS": ["core.api.schema.only_open_data"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.document_headers",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Open data (bulk files) ----------------------------------------------------------------

# Where the export writes its sets and manifest; the web processes serve it under /data/.
OPEN_DATA_ROOT = env("OPEN_DATA_ROOT", default=str(VAR_DIR / "open-data"))

# --- Branding ---------------------------------------------------------------------------
# A public body sets its colours, logo and name through the environment; the base template
# turns these into CSS custom properties.

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _colour(name: str, default: str) -> str:
    value: str = env(name, default=default)
    if not _COLOUR.match(value):
        raise ImproperlyConfigured(f"{name} must be a colour like #1d4ed8, not {value!r}.")
    return value


AGORA_BRAND = {
    "primary": _colour("BRAND_PRIMARY_COLOR", "#1b4f9c"),
    "primary_dark": _colour("BRAND_PRIMARY_DARK_COLOR", "#123a73"),
    "accent": _colour("BRAND_ACCENT_COLOR", "#b3262d"),
    "logo_url": env("BRAND_LOGO_URL", default=""),
}

# --- Security defaults (hardened further in production.py) --------------------------------

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the language switcher and forms read nothing from it; default
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# --- Logging ----------------------------------------------------------------------------

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}
