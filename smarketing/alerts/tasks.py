"""Celery tasks of alerts: thin and idempotent (the outbox's claims make a second run a no-op)."""

from celery import shared_task

from .services import alerts_deliver_due


@shared_task(name="smarketing.alerts.tasks.alerts_deliver")
def alerts_deliver() -> dict:
    report = alerts_deliver_due()
    return {"claimed": report.claimed, "sent": report.sent, "retrying": report.retrying, "failed": report.failed}
