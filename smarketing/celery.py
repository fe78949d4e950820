"""The Celery app: a Redis broker in services mode, eager in-process execution otherwise."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarketing.settings")

app = Celery("smarketing")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="smarketing.services_check")
def services_check() -> dict:
    """A round trip through the broker: which database the worker sees and what it holds."""
    from smarketing.funnel.services_status import database_status

    return database_status()
