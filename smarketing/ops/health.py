"""`/healthz` (the process answers) and `/readyz` (what it needs answers too), as JSON.

Load balancers and orchestrators poll them without signing in, so they say which check
failed but nothing about the data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from smarketing.kpis.selectors import facts_as_of

HEARTBEAT_KEY = "ops:worker-heartbeat"


def heartbeat_record() -> dt.datetime:
    now = timezone.now()
    cache.set(HEARTBEAT_KEY, now.isoformat(), timeout=None)
    return now


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def _redis() -> dict[str, Any]:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    finally:
        client.close()
    return {"ok": True}


def _age(value: dt.datetime | None, now: dt.datetime) -> float | None:
    return None if value is None else round((now - value).total_seconds(), 1)


def _worker(now: dt.datetime) -> dict[str, Any]:
    raw = cache.get(HEARTBEAT_KEY)
    age = _age(dt.datetime.fromisoformat(raw) if raw else None, now)
    limit = settings.READYZ_WORKER_MAX_AGE_SECONDS
    ok = age is not None and age <= limit
    return {"ok": ok, "heartbeat_age_seconds": age, "max_age_seconds": limit}


def _facts(now: dt.datetime) -> dict[str, Any]:
    age = _age(facts_as_of(), now)
    limit = settings.READYZ_FACTS_MAX_AGE_HOURS * 3600
    return {"ok": age is not None and age <= limit, "age_seconds": age, "max_age_seconds": limit}


def readiness() -> tuple[bool, dict[str, dict[str, Any]]]:
    """Each configured check's outcome; a check that raises is failed with its error."""
    now = timezone.now()
    checks: dict[str, Any] = {"database": _database}
    if settings.REDIS_URL:
        checks["redis"] = _redis
    if settings.READYZ_WORKER_MAX_AGE_SECONDS:
        checks["worker"] = lambda: _worker(now)
    if settings.READYZ_FACTS_MAX_AGE_HOURS:
        checks["facts"] = lambda: _facts(now)
    results: dict[str, dict[str, Any]] = {}
    for name, check in checks.items():
        try:
            results[name] = check()
        except Exception as exc:  # the probe reports any failure, it must not become one
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return all(result["ok"] for result in results.values()), results


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    ok, checks = readiness()
    return JsonResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503)
