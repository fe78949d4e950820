"""Celery tasks of the dashboards: thin and idempotent."""

from __future__ import annotations

from celery import shared_task

from smarketing.dashboards.selectors import dashboards_warm


@shared_task(name="smarketing.dashboards.tasks.dashboards_warm_pages")
def dashboards_warm_pages() -> dict:
    """Beat, every few minutes: after a recompute, compute the common pages before anyone asks."""
    return {"computed": dashboards_warm()}
