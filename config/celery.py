"""The Celery application: queues `default`, `counting` and `mail` (see config/settings/base.py).

Separate queues keep a million-recipient mailing from starving the counting of signatures
and the routing of petitions.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("agora")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
