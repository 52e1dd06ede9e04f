"""The test suite. Uses DATABASE_URL and REDIS_URL when CI provides them."""

import os
import tempfile
from pathlib import Path

from config.settings.base import *  # noqa: F403
from config.settings.base import CELERY_BROKER_URL, DATABASES, VAR_DIR, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Unit tests run tasks in-process; integration tests switch this off and start a real worker.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
# Every signature asks for its email at once, so a test sees its message without waiting
# for beat (tests/petitions/test_signature_mail.py covers the quiet period itself).
AGORA_SIGNATURE_MAIL_QUIET_SECONDS = 0.0
# Tests change data and read the API at once; tests/api/test_answers.py turns this on.
AGORA_API_ANSWER_CACHE = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "test-celerybeat-schedule")
# The webhook tests' receivers listen on loopback.
WEBHOOKS_ALLOW_PRIVATE_HOSTS = True

if not env("REDIS_URL", default=""):
    # A worker started by the integration tests shares the test process's cache through
    # files in TEST_CACHE_DIR (set by tests/integration/conftest.py); otherwise memory.
    _test_cache_dir = env("TEST_CACHE_DIR", default="")
    CACHES = {
        "default": (
            {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": _test_cache_dir,
            }
            if _test_cache_dir
            else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
        )
    }

# Per process, so two test runs in one checkout never share (and delete) each other's files.
_run = f"test-{os.getpid()}"

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so the Celery worker process of the integration tests can open
    # the very database the tests write to. pytest-django deletes it at the end of the run.
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"{_run}.sqlite3")}

if CELERY_BROKER_URL.startswith("filesystem://"):
    # Apart from var/broker, so a developer's running `make run` worker never eats test tasks;
    # in the temporary folder, as every run creates it (config.celery.ensure_broker_folders).
    # The integration tests' worker is given this folder through CELERY_FILESYSTEM_DIR.
    _default_broker_dir = Path(tempfile.gettempdir()) / f"agora-{_run}-broker"
    _broker_dir = Path(env("CELERY_FILESYSTEM_DIR", default=str(_default_broker_dir)))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "messages"),
        "data_folder_out": str(_broker_dir / "messages"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }

# WhiteNoise looks for collected files here; an empty folder keeps it from warning.
(VAR_DIR / "static").mkdir(parents=True, exist_ok=True)
