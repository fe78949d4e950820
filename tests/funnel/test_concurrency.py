"""Concurrent imports of overlapping keys on PostgreSQL never create duplicates."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from smarketing.funnel import models as m
from smarketing.funnel import services

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_two_imports_of_overlapping_keys_at_once():
    assert connection.vendor == "postgresql"
    first = [{"external_id": f"C{i:05d}", "source_channel": "email", "lead_at": "2026-01-05T09:00:00"}
             for i in range(0, 6000)]
    second = [{"external_id": f"C{i:05d}", "source_channel": "blog", "lead_at": "2026-01-06T09:00:00"}
              for i in range(3000, 9000)]
    start = threading.Barrier(2)
    results, failures = [], []

    def run(rows):
        try:
            start.wait()
            results.append(services.records_upsert(resource="contacts", rows=rows, chunk_rows=1000))
        except Exception as exc:  # surfaced by the assertion below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(rows,)) for rows in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert all(r.ok for r in results)
    assert m.Contact.objects.count() == 9000
    assert m.Contact.objects.values("external_id").distinct().count() == 9000
    # The overlap was written by both: 3000 rows created by one import and updated by the other.
    assert sum(r.created for r in results) == 9000
    assert sum(r.updated for r in results) == 3000
    overlap = m.Contact.objects.filter(external_id__gte="C03000", external_id__lt="C06000")
    assert set(overlap.values_list("source_channel", flat=True)) <= {"email", "blog"}


def test_two_import_commands_of_the_same_rows_in_opposite_orders(tmp_path):
    """Issue 14: the same 30,000 contacts imported twice at once, in opposite orders (three
    chunks each, read by a forked reader) deadlocked one import; now both run, one after the other."""
    import os
    import subprocess
    import sys

    from smarketing.celery import app as celery_app
    from tests.conftest import ROOT, _test_database_url
    from tests.funnel.rows import write_csv

    rows = [{"external_id": f"C{i:05d}", "source_channel": "email", "lead_at": "2026-01-05T09:00:00"}
            for i in range(30_000)]
    forward = write_csv(tmp_path / "forward.csv", rows)
    backward = write_csv(tmp_path / "backward.csv", rows[::-1])
    env = {**os.environ, "DATABASE_URL": _test_database_url()}
    runs = [subprocess.Popen([sys.executable, "manage.py", "import_csv", "contacts", str(path)], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for path in (forward, backward)]
    outputs = [run.communicate(timeout=300) for run in runs]
    celery_app.control.purge()  # the recomputes they sent: no worker runs in this test
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert "Traceback" not in err and "deadlock" not in (out + err).lower(), err
        if run.returncode:
            # The clean, retryable refusal is the only other answer allowed.
            assert "Try again" in err and "nothing was written" in err, err
        else:
            assert "30000 rows in" in out
    assert sum(run.returncode == 0 for run in runs) >= 1
    assert m.Contact.objects.count() == 30_000
