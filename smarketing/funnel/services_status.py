"""What `check_services` and the `services_check` task report about the running services."""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from smarketing.funnel.models import Contact, TeamMember


def database_status() -> dict:
    """The database this process talks to, and how many records it holds (proves it is live)."""
    connection.ensure_connection()
    return {
        "vendor": connection.vendor,
        "name": str(connection.settings_dict["NAME"]),
        "team_members": TeamMember.objects.count(),
        "contacts": Contact.objects.count(),
    }


def redis_status() -> dict:
    """Ping the broker; `configured` is False in the embedded mode (no REDIS_URL)."""
    if not settings.REDIS_URL:
        return {"configured": False, "ok": True}
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3, socket_timeout=3)
    try:
        return {"configured": True, "ok": bool(client.ping())}
    finally:
        client.close()


def worker_status(*, timeout: float = 3.0) -> dict:
    """Ping the Celery workers, then run `services_check` through one and return its answer."""
    from smarketing.celery import app, services_check

    if app.conf.task_always_eager:
        return {"mode": "eager", "workers": [], "answer": services_check.apply().get()}
    replies = app.control.ping(timeout=timeout)
    workers = sorted(name for reply in replies for name in reply)
    if not workers:
        return {"mode": "broker", "workers": [], "answer": None}
    answer = services_check.apply_async().get(timeout=max(timeout, 10.0))
    return {"mode": "broker", "workers": workers, "answer": answer}
