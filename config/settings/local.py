"""A developer's machine: `make run`. SQLite, no Redis, mail kept in var/mail."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = env.bool("DEBUG", default=True)
# A developer's webhook receiver runs on this machine.
WEBHOOKS_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOKS_ALLOW_PRIVATE_HOSTS", default=True)

# The counting task runs every 2 seconds: keep its "received/succeeded" lines out of the
# terminal so the demo logins and real problems stay readable. Failures still show.
LOGGING["loggers"].update(  # noqa: F405
    {
        "celery.app.trace": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
    }
)
