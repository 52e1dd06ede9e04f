"""A developer's machine: `make run`. SQLite, no Redis, mail kept in var/mail."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = env.bool("DEBUG", default=True)
