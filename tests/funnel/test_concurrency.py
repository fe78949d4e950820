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
