"""Production: everything from the environment, and a refusal to start when it is unsafe.

`manage.py check --deploy` is clean with these settings (a test runs it).
"""

from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import ALLOWED_HOSTS, DATABASES, EMAIL_URL, SITE_URL, env

DEBUG = False

_secret_key = env("SECRET_KEY", default="")
if len(_secret_key) < 50 or len(set(_secret_key)) < 5 or _secret_key.startswith("django-insecure"):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters in production."
    )
SECRET_KEY = _secret_key

if not env("ALLOWED_HOSTS", default="") or "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the site's host names in production.")
if urlparse(SITE_URL).scheme != "https":
    raise ImproperlyConfigured("SITE_URL must be an https:// address in production.")
if DATABASES["default"]["ENGINE"] != "core.db.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL in production.")
if not env("REDIS_URL", default=""):
    raise ImproperlyConfigured(
        "REDIS_URL must be set in production: it backs the cache, rate limits and the broker."
    )
if not EMAIL_URL:
    raise ImproperlyConfigured("EMAIL_URL must be set in production (e.g. smtp://host:25).")
if not env("DEFAULT_FROM_EMAIL", default=""):
    raise ImproperlyConfigured("DEFAULT_FROM_EMAIL must be set in production.")

STATIC_ROOT = env.path("STATIC_ROOT", default=str(STATIC_ROOT))  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = [SITE_URL]
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"

# Webhooks carry signed payloads: only to https:// endpoints, never to internal addresses
# unless an operator says so (an endpoint on the same private network).
WEBHOOKS_REQUIRE_HTTPS = True
WEBHOOKS_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOKS_ALLOW_PRIVATE_HOSTS", default=False)
