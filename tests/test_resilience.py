"""A Redis outage, a lost task, a busy user: the site degrades cleanly and catches up.

These tests start and stop a Redis server of their own on a free loopback port (never the
shared one), and point the cache and the Celery broker at it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import OperationalError
from django.urls import reverse

from smarketing.celery import app as celery_app
from smarketing.funnel import models as m
from smarketing.funnel.jobs import import_jobs_requeue
from smarketing.kpis.models import DirtyDay
from smarketing.kpis.selectors import kpi_values
from smarketing.kpis.services import facts_rebuild, facts_sweep
from smarketing.kpis.windows import window_for
from tests.funnel.rows import to_csv

pytestmark = pytest.mark.django_db(transaction=True)

MARCH = window_for("custom", start="2026-03-01", end="2026-03-31")
ROWS = [{"external_id": f"C{i}", "source_channel": "email", "lead_at": "2026-03-05T09:00:00"} for i in range(3)]


class OwnRedis:
    """A redis-server on a free port, without persistence, that a test may stop and start."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def forget_connections() -> None:
    """Celery keeps its broker connections, producers and result backend: the next task opens new ones."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app._backend_cache = None
    celery_app._local.backend = None


@pytest.fixture
def own_redis(settings) -> Iterator[OwnRedis]:
    """The cache and the broker on a Redis of the test's own (tasks are sent, not run eagerly)."""
    server = OwnRedis()
    server.start()
    settings.CACHES = {"default": {"BACKEND": "smarketing.cache.ResilientRedisCache", "LOCATION": server.url}}
    settings.REDIS_URL = server.url
    old_broker, old_backend = celery_app.conf.broker_url, celery_app.conf.result_backend
    # Broker and result backend on one Redis, as in production: both go down together.
    celery_app.conf.broker_url = celery_app.conf.result_backend = server.url
    celery_app.conf.task_always_eager = False
    forget_connections()
    try:
        yield server
    finally:
        server.stop()
        celery_app.conf.broker_url, celery_app.conf.result_backend = old_broker, old_backend
        celery_app.conf.task_always_eager = True
        forget_connections()


def leads_in_march() -> float | None:
    return kpi_values(metrics=["leads"], window=MARCH)[0]["value"]


def test_with_redis_down_writes_commit_and_the_sweep_recomputes_once_it_is_back(
        own_redis, manager_client, data_manager, django_user_model):
    facts_rebuild()
    own_redis.stop()
    started = time.monotonic()
    response = manager_client.post("/api/v1/contacts/bulk/", ROWS, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 3, "updated": 0, "recompute": "queued"}
    assert time.monotonic() - started < 15, "a write with Redis down must not wait on it"
    assert m.Contact.objects.count() == 3
    assert DirtyDay.objects.exists()

    # Dashboards answer from the database without the cache.
    page = manager_client.get("/dashboards/shared/?window=custom&start=2026-03-01&end=2026-03-31")
    assert page.status_code == 200
    assert leads_in_march() == 0  # the old facts, until the recompute

    # Redis back: the sweep finds the marks the lost task left.
    own_redis.start()
    assert facts_sweep(older_than=dt.timedelta(0)) is not None
    assert not DirtyDay.objects.exists()
    assert leads_in_march() == 3


def test_import_csv_with_redis_down_reports_the_committed_import(own_redis, tmp_path, capsys):
    path = tmp_path / "contacts.csv"
    path.write_bytes(to_csv(ROWS))
    own_redis.stop()
    call_command("import_csv", "contacts", str(path))  # raises SystemExit / CommandError on failure
    out = capsys.readouterr()
    assert "3 rows in" in out.out and "KPI recompute queued" in out.out
    assert "Traceback" not in out.err
    assert m.Contact.objects.count() == 3


def test_upload_job_with_redis_down_waits_visibly_and_runs_when_it_is_back(own_redis, manager_client):
    own_redis.stop()
    response = manager_client.post(reverse("funnel:upload"), {
        "resource": "contacts", "file": SimpleUploadedFile("contacts.csv", to_csv(ROWS))})
    job = m.ImportJob.objects.get()
    assert response["Location"] == reverse("funnel:job", args=[job.pk])
    assert job.status == m.ImportJob.Status.PREVIEW_QUEUED
    page = manager_client.get(reverse("funnel:job", args=[job.pk])).content.decode()
    assert "The task queue cannot be reached right now" in page

    own_redis.start()
    # The sweep sends it again; run it here as a worker would.
    celery_app.conf.task_always_eager = True
    assert import_jobs_requeue(older_than=dt.timedelta(0)) == 1
    job.refresh_from_db()
    assert (job.status, job.message, job.report["created"]) == (m.ImportJob.Status.PREVIEWED, "", 3)
    # A job that already ran is not sent again.
    assert import_jobs_requeue(older_than=dt.timedelta(0)) == 0


def test_api_errors_of_a_failing_service_are_json_503_with_retry_after(signed_in_client, monkeypatch):
    def down(**kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed")

    monkeypatch.setattr("smarketing.api.kpis.kpi_report_cached", down)
    response = signed_in_client.get("/api/v1/kpis/", {"metrics": "leads"})
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {"errors": [{"message": "A service the site needs (database or task queue) is "
                                                      "not answering. Try again in a minute."}]}
    monkeypatch.setattr("smarketing.dashboards.views.dashboard_page_cached", down)
    page = signed_in_client.get("/dashboards/shared/")
    assert (page.status_code, page["Retry-After"]) == (503, "30")
    assert "smarketing is busy for a moment" in page.content.decode()
    assert "127.0.0.1 failed" not in page.content.decode()


@pytest.fixture
def limit_window(monkeypatch) -> None:
    """The limiter's clock held one second into the current minute: its counts are per fixed
    minute, and a test's requests that straddled the minute's end started counting afresh."""
    from smarketing.kpis import limits

    held = time.time() // 60 * 60 + 1
    monkeypatch.setattr(limits, "clock", lambda: held)


def test_heavy_kpi_queries_are_limited_per_user(settings, signed_in_client, client, django_user_model,
                                                limit_window):
    settings.KPI_HEAVY_QUERY_RATE = "3/minute"
    # Windows no earlier run can have left in a shared cache (Redis outlives the test).
    base = dt.date(2000, 1, 1) + dt.timedelta(days=random.randrange(9000))

    def custom(offset: int) -> dict:
        start = base + dt.timedelta(days=offset)
        return {"metrics": "leads", "window": "custom", "start": start, "end": start + dt.timedelta(days=90)}

    answers = [signed_in_client.get("/api/v1/kpis/", custom(offset)).status_code for offset in range(4)]
    assert answers == [200, 200, 200, 429]
    refused = signed_in_client.get("/api/v1/kpis/", {"metrics": "leads", "dimension": "channel",
                                                     "as_of": base.isoformat()})
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60
    filtered = {"metrics": "leads", "window": "ytd", "channel": "email", "as_of": base.isoformat()}
    assert signed_in_client.get("/api/v1/kpis/", filtered).status_code == 429
    # An answer already computed is served from the cache, not counted; nor are standard
    # windows without a breakdown, nor another user's queries.
    assert signed_in_client.get("/api/v1/kpis/", custom(0)).status_code == 200
    assert signed_in_client.get("/api/v1/kpis/", {"metrics": "leads", "window": "ytd"}).status_code == 200
    other = django_user_model.objects.create_user("other", password="other-pass-123")
    client.force_login(other)
    assert client.get("/api/v1/kpis/", custom(5)).status_code == 200


def test_uncached_custom_dashboards_are_limited_and_cached_ones_are_not(settings, signed_in_client, limit_window):
    settings.KPI_HEAVY_QUERY_RATE = "2/minute"
    # Windows no earlier run can have left in a shared cache (Redis outlives the test).
    base = dt.date(2000, 1, 1) + dt.timedelta(days=random.randrange(9000))

    def custom(offset: int) -> str:
        start = base + dt.timedelta(days=offset)
        return f"/dashboards/shared/?window=custom&start={start}&end={start + dt.timedelta(days=30)}"

    first = custom(0)
    assert signed_in_client.get(first).status_code == 200
    assert signed_in_client.get(custom(1)).status_code == 200
    refused = signed_in_client.get(custom(2))
    assert refused.status_code == 429
    assert "Too many custom views at once" in refused.content.decode()
    assert int(refused["Retry-After"]) >= 1
    # Already computed: served from the cache, no limit; standard windows never are.
    assert signed_in_client.get(first).status_code == 200
    assert signed_in_client.get("/dashboards/shared/?window=ytd").status_code == 200


def test_exactly_one_beat_sends_the_schedule(own_redis, tmp_path, monkeypatch):
    from celery.beat import PersistentScheduler

    from smarketing.beat import LeaderLock, SingleBeatScheduler

    sent = []
    monkeypatch.setattr(PersistentScheduler, "tick", lambda self, *a, **k: sent.append(self) or 1.0)
    first, second = (SingleBeatScheduler(app=celery_app, schedule_filename=str(tmp_path / name), lazy=True)
                     for name in ("a", "b"))
    for _ in range(3):
        first.tick()
        second.tick()
    assert sent == [first] * 3
    assert second.tick() == 15.0  # waits, then looks again
    # The holder stops: the other takes over at its next look.
    first.close()
    second.tick()
    assert sent[-1] is second

    # A holder that dies without letting go loses the lock when it expires.
    dying, heir = LeaderLock(own_redis.url, key="t", ttl=1), LeaderLock(own_redis.url, key="t", ttl=1)
    assert dying.hold() and not heir.hold()
    assert dying.hold()  # refreshed by its holder
    time.sleep(1.2)
    assert heir.hold() and not dying.hold()
    own_redis.stop()
    assert not heir.hold()  # no Redis, no schedule sent


@pytest.mark.services
def test_a_web_request_cannot_hold_the_database_past_the_timeout(settings, signed_in_client, monkeypatch):
    from django.db import connection

    settings.WEB_STATEMENT_TIMEOUT = 0.3

    def stalls(**kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(5)")

    monkeypatch.setattr("smarketing.api.kpis.kpi_report_cached", stalls)
    started = time.monotonic()
    response = signed_in_client.get("/api/v1/kpis/", {"metrics": "leads"})
    assert time.monotonic() - started < 3
    assert (response.status_code, response["Retry-After"]) == (503, "30")
    assert "took too long" in response.json()["errors"][0]["message"]
    # Only the request was limited: the connection serves other code without a limit again.
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"
