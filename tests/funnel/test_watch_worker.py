"""Services mode: the watched folder imported by a real Celery worker, killed mid-import."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from smarketing.funnel import models as m
from smarketing.funnel.tasks import import_folder_poll
from tests.funnel.rows import to_csv
from tests.kpis.test_services import wait_for

pytestmark = pytest.mark.services
ROWS = 50_000
LOCKED = "C25000"


@pytest.fixture
def inbox(tmp_path, monkeypatch, settings) -> Path:
    # The worker process reads it from its environment.
    monkeypatch.setenv("IMPORT_WATCH_DIR", str(tmp_path))
    settings.IMPORT_WATCH_DIR = str(tmp_path)
    return tmp_path


def test_a_worker_killed_mid_import_leaves_nothing_and_the_file_is_then_imported_once_whole(
    transactional_db, inbox, request
):
    worker = request.getfixturevalue("celery_worker")
    m.Contact.objects.create(external_id=LOCKED, source_channel="email",
                             lead_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    path = inbox / "contacts.csv"
    path.write_bytes(to_csv([{"external_id": f"C{i}", "source_channel": "email", "lead_at": "2026-01-05T09:00:00"}
                             for i in range(ROWS)]))
    path.with_name("contacts.csv.ready").write_text("")
    db = connection.settings_dict
    params = {"dbname": db["NAME"], "user": db["USER"] or "postgres", "host": db["HOST"] or "127.0.0.1",
              "port": db["PORT"] or 5432}
    blocker = psycopg.connect(**params)
    watcher = psycopg.connect(**params, autocommit=True)
    try:
        # The worker's upsert of the chunk holding this contact waits here, mid-transaction.
        blocker.execute("SELECT id FROM funnel_contact WHERE external_id = %s FOR UPDATE", [LOCKED])
        import_folder_poll.delay()

        def waiting() -> bool:
            return watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' "
                "AND query ILIKE '%%INSERT INTO \"funnel_contact\"%%'", [db["NAME"]]).fetchone()[0] > 0

        wait_for(waiting)
        worker.kill()
    finally:
        blocker.rollback()
        blocker.close()
        watcher.close()
    assert m.Contact.objects.count() == 1
    assert not m.ImportLog.objects.exists()
    assert path.exists()
    worker.start()

    def polled() -> bool:
        # What the beat does each minute. Until PostgreSQL notices the killed worker's session is
        # gone, that session still holds the content's lock and a poll leaves the file ("busy").
        import_folder_poll.delay()
        time.sleep(1)
        return not path.exists()

    wait_for(polled)
    import_folder_poll.delay()
    wait_for(lambda: m.ImportLog.objects.exists())
    time.sleep(2)  # the later polls ran or are running: they must not import again
    assert m.Contact.objects.count() == ROWS
    log = m.ImportLog.objects.get()
    assert (log.source, log.rows, log.created, log.updated, log.errors) == ("folder", ROWS, ROWS - 1, 1, 0)
    assert [p.name.split("_", 1)[1] for p in (inbox / "done").iterdir()] == ["contacts.csv"]
    assert sorted(p.name for p in inbox.iterdir()) == ["done"]
