"""Celery tasks of the facts: thin and idempotent (running one twice rebuilds the same facts)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings

from .services import facts_rebuild, facts_recompute_dirty, facts_sweep, recompute_last_record
from .windows import company_today

RECHECK_DAYS = 400


@shared_task(name="smarketing.kpis.tasks.facts_recompute_days")
def facts_recompute_days(days: list[str] | None = None) -> dict:
    """Rebuild the given days (ISO dates) for every measure, or, without days, the dirty ones."""
    if days is None:
        result = facts_recompute_dirty()
    else:
        result = facts_rebuild(days=[dt.date.fromisoformat(day) for day in days])
    recompute_last_record(result)
    return {"families": result.families, "days": result.days, "seconds": round(result.seconds, 3)}


@shared_task(name="smarketing.kpis.tasks.facts_sweep_dirty")
def facts_sweep_dirty() -> dict | None:
    """Beat, every SWEEP_INTERVAL seconds: rebuild dirty days whose recompute got lost."""
    result = facts_sweep(older_than=dt.timedelta(seconds=settings.SWEEP_AFTER))
    if result is None:
        return None
    return {"families": result.families, "days": result.days, "seconds": round(result.seconds, 3)}


@shared_task(name="smarketing.kpis.tasks.facts_recheck_recent")
def facts_recheck_recent() -> dict:
    """Nightly: rebuild the last 400 days so that nothing can drift."""
    today = company_today()
    days = [today - dt.timedelta(days=offset) for offset in range(RECHECK_DAYS)]
    result = facts_rebuild(days=days)
    recompute_last_record(result)
    return {"families": result.families, "days": result.days, "seconds": round(result.seconds, 3)}
