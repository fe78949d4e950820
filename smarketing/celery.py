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


# What an unreachable broker (or result backend) raises when a task is sent.
def broker_errors() -> tuple[type[BaseException], ...]:
    from kombu.exceptions import OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return OperationalError, RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError


def unreachable(exc: BaseException) -> bool:
    """Whether `exc` comes from an unreachable broker or result backend. Celery's Redis result
    backend wraps the connection error in a RuntimeError ("retry limit exceeded")."""
    errors = broker_errors()
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, errors):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def task_send(task, *args, **kwargs) -> bool:
    """`task.delay(*args, **kwargs)`; False (and a warning) when the broker cannot be reached.

    Every task the project sends has its work recorded in the database first (dirty days,
    a queued import job), and the beat sweep sends it again once Redis is back, so the
    caller's write stands and is reported as done, with the recompute or check queued.
    """
    import logging

    try:
        task.delay(*args, **kwargs)
    except Exception as exc:
        if not unreachable(exc):
            raise
        logging.getLogger("smarketing").warning(
            "task queue unreachable (%s): %s stays queued in the database; the sweep sends it when "
            "Redis is back", exc, task.name)
        return False
    return True
