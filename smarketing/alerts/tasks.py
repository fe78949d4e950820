"""Celery tasks of alerts: thin and idempotent (the outbox's claims make a second run a no-op)."""

from celery import shared_task

from .services import alerts_deliver_due, rules_after_live_records


@shared_task(name="smarketing.alerts.tasks.alerts_deliver")
def alerts_deliver() -> dict:
    report = alerts_deliver_due()
    return {"claimed": report.claimed, "sent": report.sent, "retrying": report.retrying, "failed": report.failed}


@shared_task(name="smarketing.alerts.tasks.alerts_after_live_records")
def alerts_after_live_records() -> dict:
    report = rules_after_live_records()
    return {"evaluated": report.evaluated}
