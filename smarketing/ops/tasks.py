"""Celery tasks of operations: thin and idempotent."""

from celery import shared_task

from smarketing.ops.auth import password_reset_mail
from smarketing.ops.health import heartbeat_record


@shared_task(name="smarketing.ops.tasks.worker_heartbeat")
def worker_heartbeat() -> str:
    """Beat sends it every minute: a worker that runs it proves broker, beat and worker work."""
    return heartbeat_record().isoformat()


@shared_task(name="smarketing.ops.tasks.password_reset_send")
def password_reset_send(*, email: str, domain: str, use_https: bool) -> None:
    password_reset_mail(email=email, domain=domain, use_https=use_https)
