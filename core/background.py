"""Enqueue Celery tasks only once the surrounding transaction has committed.

A task enqueued inside a transaction may run before the commit and find nothing, or run
for a change that is then rolled back. Every task in Agora is enqueued through here.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Task[Any, Any], *args: Any, **kwargs: Any) -> None:
    """Send ``task`` with ``args``/``kwargs`` after the current transaction commits.

    Outside a transaction the task is sent at once. A broker failure is logged rather than
    raised: the change it follows has already committed, and the periodic tasks that scan
    for unfinished work (counting, outbox sending) pick it up.
    """

    def send() -> None:
        try:
            task.apply_async(args=args, kwargs=kwargs)
        except Exception:  # the broker may be down; the committed work must not be lost
            logger.exception("Could not enqueue %s", task.name)

    transaction.on_commit(send)
