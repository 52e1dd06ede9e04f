"""The Celery application: queues `default`, `counting` and `mail` (see config/settings/base.py).

Separate queues keep a million-recipient mailing from starving the counting of signatures
and the routing of petitions.
"""

import logging
import os
from pathlib import Path
from typing import Any

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

logger = logging.getLogger(__name__)

app = Celery("agora")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def ensure_broker_folders() -> None:
    """kombu's filesystem transport (used without Redis) needs its folders to exist."""
    if not str(app.conf.broker_url).startswith("filesystem://"):
        return
    options = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@worker_ready.connect
def release_claims_of_previous_life(sender: Any = None, **_: Any) -> None:
    """A worker starting under a name frees the rows its killed predecessor had claimed.

    Otherwise they would wait for their lease to run out (minutes) before another sender
    takes them; see core.claims. Two live workers must never share a name (Celery's
    default, ``celery@<host>``, differs per machine; deploy/ names each unit's worker).
    """
    from core.claims import release_claims_of

    hostname = str(getattr(sender, "hostname", "") or "")
    released = release_claims_of(hostname)
    if released:
        logger.warning("Released %s rows claimed by %s before it restarted", released, hostname)
        # It died at work: the mailings it was sending lost their senders too.
        from responses.tasks import restart_mailings

        try:
            restart_mailings()
        except Exception:  # the broker may be down; resume_mailings runs every minute
            logger.exception("Could not restart the unfinished mailings")
