"""With PostgreSQL, Redis and a real worker: ingest → recompute through Redis → query; and a crash."""

from __future__ import annotations

import datetime as dt
import time

import psycopg
import pytest
from django.db import connection, transaction

from smarketing.funnel.signals import records_changed
from smarketing.kpis.models import Fact
from smarketing.kpis.selectors import kpi_values, recompute_pending
from smarketing.kpis.services import facts_rebuild
from smarketing.kpis.tasks import facts_recompute_days
from smarketing.kpis.windows import window_for

from .builders import activity, contact, facts_snapshot, ts

pytestmark = pytest.mark.services

MARCH = window_for("mtd", as_of="2026-03-31")


def value(metric: str) -> float | None:
    return kpi_values(metrics=[metric], window=MARCH)[0]["value"]


def wait_for(check, *, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("the worker did not finish in time")


def ingest_conversion(lead) -> None:
    """What ingest does: write, say which days changed, commit (the recompute is enqueued on commit)."""
    with transaction.atomic():
        lead.mql_at = ts("2026-04-02 09:00")
        lead.save()
        activity(lead, "2026-04-03 09:00")
        # Every day field of the record, the unchanged lead day too, as ingest sends them.
        records_changed.send(sender=None, resource="contacts", days=[dt.date(2026, 3, 2), dt.date(2026, 4, 2)],
                             contact_ids=[lead.pk])
        records_changed.send(sender=None, resource="activities", days=[dt.date(2026, 4, 3)], contact_ids=[lead.pk])


def grain_rows() -> list[tuple]:
    return list(Fact.objects.values_list("measure", "dimension", "day", "key", "bucket"))


def test_ingest_recomputes_through_redis_and_the_worker(celery_worker):
    lead = contact("a", "2026-03-02 09:00")
    contact("b", "2026-03-03 09:00")
    facts_rebuild()
    assert value("lead_to_mql_rate") == 0.0
    ingest_conversion(lead)
    wait_for(lambda: not recompute_pending())
    assert value("lead_to_mql_rate") == 50.0
    assert kpi_values(metrics=["leads_worked_rate"], window=window_for("mtd", as_of="2026-04-30"))[0]["value"] == 100.0
    rows = grain_rows()
    assert len(rows) == len(set(rows))


def kill_worker_mid_recompute(celery_worker) -> None:
    """Two leads with facts, then a conversion whose recompute the worker is killed in the
    middle of (SIGKILL to its whole process group)."""
    lead = contact("a", "2026-03-02 09:00")
    contact("b", "2026-03-03 09:00")
    facts_rebuild()
    settings = connection.settings_dict
    params = {"dbname": settings["NAME"], "user": settings["USER"] or "postgres",
              "host": settings["HOST"] or "127.0.0.1", "port": settings["PORT"] or 5432}
    blocker = psycopg.connect(**params)
    # A separate autocommit session: pg_stat_activity is a snapshot per transaction.
    watcher = psycopg.connect(**params, autocommit=True)
    try:
        # Hold off every write to the facts: the worker takes its recompute lock and the marks,
        # then waits here at its first change of a fact, in the middle of its transaction. (A
        # day's rebuild writes only the facts that change, so no one fact row is sure to be hit.)
        blocker.execute("LOCK TABLE kpis_fact IN SHARE MODE")
        ingest_conversion(lead)

        def worker_is_waiting() -> bool:
            # By the lock it waits for: its statement's text can be longer than PostgreSQL keeps
            # (track_activity_query_size), the table named past the cut.
            row = watcher.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'kpis_fact'::regclass").fetchone()
            return row[0] > 0

        wait_for(worker_is_waiting)
        celery_worker.kill()
    finally:
        blocker.rollback()
        blocker.close()
        watcher.close()


def test_killed_worker_leaves_old_facts_and_the_next_run_completes(celery_worker):
    kill_worker_mid_recompute(celery_worker)
    # The killed transaction is rolled back: the old facts stand, the days stay dirty.
    assert recompute_pending()
    assert value("lead_to_mql_rate") == 0.0
    celery_worker.start()
    facts_recompute_days.delay()
    wait_for(lambda: not recompute_pending())
    assert value("lead_to_mql_rate") == 50.0
    rows = grain_rows()
    assert len(rows) == len(set(rows))



def test_worker_killed_mid_recompute_is_caught_up_by_the_sweep_within_minutes(celery_worker, monkeypatch, tmp_path):
    """Issue 14: kill -9 of the worker's process group mid-recompute, then a restart. The lost
    task's message comes back only after Redis's visibility timeout (hours); the beat sweep
    finds the dirty days instead, and the facts equal a full recompute."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import ROOT, _test_database_url

    kill_worker_mid_recompute(celery_worker)
    assert recompute_pending()

    # Restart the worker, and beat with a short sweep (production: every minute, marks 2 minutes old).
    monkeypatch.setenv("SWEEP_INTERVAL", "1")
    monkeypatch.setenv("SWEEP_AFTER", "2")
    restarted = time.monotonic()
    celery_worker.start()
    celery_bin = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    beat = subprocess.Popen(
        [celery_bin, "-A", "smarketing", "beat", "--loglevel=INFO", "--schedule", str(tmp_path / "beat")],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": _test_database_url()},
        stdout=(tmp_path / "beat.log").open("wb"), stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: not recompute_pending(), seconds=300)
    finally:
        beat.terminate()
        beat.wait(timeout=30)
    assert time.monotonic() - restarted < 300
    assert value("lead_to_mql_rate") == 50.0
    swept = facts_snapshot()
    facts_rebuild()
    assert swept == facts_snapshot()
