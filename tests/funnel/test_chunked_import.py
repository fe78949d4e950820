"""Inputs bigger than one chunk: the same answers whatever the chunking, errors by input row.

On PostgreSQL every chunk after the first is read and validated by a forked process and
staged by binary COPY; on SQLite the rows go through the ORM in this process. These tests
run on both (the services pass is the PostgreSQL one) with chunks of 4 rows.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.db import connection

from smarketing.funnel import models as m
from smarketing.funnel import services
from smarketing.funnel.signals import records_changed

from .rows import store_examples

pytestmark = pytest.mark.django_db(transaction=True)

CHUNK = 4


def contact(i: int, **cells: str) -> dict[str, str]:
    return {"external_id": f"C{i:03d}", "email": f"lead{i}@acme{i % 3}.com", "source_channel": "email",
            "lead_at": f"2026-01-{i % 28 + 1:02d}T09:30:00", **cells}


def children() -> set[int]:
    """This process's live child processes (the forked reader must not outlive an import)."""
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        found.update(int(pid) for pid in (task / "children").read_text().split())
    return found


@pytest.fixture(autouse=True)
def no_reader_left_behind():
    """The forked reader never outlives an import (other tests' processes may be running)."""
    before = children()
    yield
    assert children() <= before


def upsert(resource: str, rows: list[dict[str, str]], **kwargs) -> services.UpsertResult:
    return services.records_upsert(resource=resource, rows=rows, chunk_rows=CHUNK, **kwargs)


def test_referrals_to_earlier_and_later_rows_resolve_across_chunks():
    # C005 names a referrer four chunks later, C017 one in an earlier chunk, C018 one stored before.
    store_examples("contacts")
    rows = [contact(i) for i in range(1, 22)]
    rows[4]["referred_by"] = "C020"
    rows[16]["referred_by"] = "C002"
    rows[17]["referred_by"] = "contacts-1"
    positions: list[int] = []
    result = upsert("contacts", rows, progress=lambda done, position: positions.append(position),
                    position=os.getpid)
    assert result.ok, result.errors
    assert (result.created, result.updated, result.rows) == (21, 0, 21)
    referrer = dict(m.Contact.objects.filter(referred_by__isnull=False).values_list("external_id",
                                                                                    "referred_by__external_id"))
    assert referrer == {"C005": "C020", "C017": "C002", "C018": "contacts-1", "contacts-2": "contacts-1"}
    assert m.Contact.objects.get(external_id="C007").email_domain == "acme1.com"
    assert m.Contact.objects.get(external_id="C007").lead_on == dt.date(2026, 1, 8)
    assert len(positions) == 6  # chunks of 4 rows
    if connection.vendor == "postgresql":
        # Later chunks were read by another process.
        assert positions[0] == os.getpid() and set(positions[1:]) - {os.getpid()}


def test_second_import_of_the_same_rows_updates_and_counts_them():
    rows = [contact(i) for i in range(1, 11)]
    assert upsert("contacts", rows).created == 10
    rows[3]["company"] = "Changed Inc"
    again = upsert("contacts", rows)
    assert (again.created, again.updated) == (0, 10)
    assert m.Contact.objects.count() == 10
    assert m.Contact.objects.get(external_id="C004").company == "Changed Inc"


def test_errors_in_late_chunks_name_their_input_rows_and_nothing_is_written():
    store_examples("campaigns")
    rows = [contact(i, campaign_id="campaigns-1") for i in range(1, 30)]
    rows[9]["source_channel"] = "carrier_pigeon"  # row 10, chunk 3
    rows[17]["external_id"] = "C002"  # row 18 repeats row 2
    rows[22]["campaign_id"] = "CMP-404"  # row 23, chunk 6
    rows[25]["referred_by"] = "C999"  # row 26: a referrer that appears nowhere
    result = upsert("contacts", rows)
    assert [(e["row"], e["field"]) for e in result.errors] == [
        (10, "source_channel"), (18, "external_id"), (23, "campaign_id"), (26, "referred_by")]
    assert result.errors[1]["message"] == "duplicate key: the same record as row 2"
    assert result.errors[2]["message"] == "unknown campaigns record 'CMP-404'"
    assert result.errors[3]["message"] == "unknown contacts record 'C999'"
    assert result.rows == 29
    assert m.Contact.objects.count() == 0


def test_unknown_referrer_alone_is_reported_after_the_whole_input():
    rows = [contact(i) for i in range(1, 14)]
    rows[11]["referred_by"] = "C777"
    result = upsert("contacts", rows)
    assert [(e["row"], e["field"], e["message"]) for e in result.errors] == [
        (12, "referred_by", "unknown contacts record 'C777'")]
    assert m.Contact.objects.count() == 0


def test_activities_resolve_contacts_and_owners_and_name_their_contacts_to_kpis():
    store_examples("team_members")
    upsert("contacts", [contact(i, mql_at="2026-02-01T10:00:00") for i in range(1, 6)])
    rows = [{"external_id": f"A{i:03d}", "contact_id": f"C{i % 5 + 1:03d}", "owner_email": "person1@example.com",
             "activity_type": "call", "occurred_at": f"2026-02-{i:02d}T11:00:00", "connected": "true"}
            for i in range(1, 13)]
    calls: list[dict] = []

    def receiver(sender, **kwargs):
        calls.append(kwargs)

    records_changed.connect(receiver)
    try:
        result = upsert("activities", rows)
    finally:
        records_changed.disconnect(receiver)
    assert result.ok, result.errors
    assert result.created == 12
    stored = m.Activity.objects.get(external_id="A007")
    assert (stored.contact.external_id, stored.owner.email, stored.connected) == ("C003", "person1@example.com", True)
    assert stored.occurred_on == dt.date(2026, 2, 7)
    assert calls[0]["days"] == [dt.date(2026, 2, day) for day in range(1, 13)]
    assert calls[0]["contact_ids"] == sorted(m.Contact.objects.values_list("pk", flat=True))


def test_an_input_with_more_errors_than_reported_stops_reading():
    rows = [contact(i, source_channel="nowhere") for i in range(1, services.MAX_ERRORS + 200)]
    result = upsert("contacts", rows)
    assert len(result.errors) == services.MAX_ERRORS
    assert result.errors[-1]["row"] == services.MAX_ERRORS
    assert m.Contact.objects.count() == 0


def test_a_failing_reader_fails_the_import_and_writes_nothing():
    def rows():
        for i in range(1, 10):
            yield contact(i)
        raise OSError("the upload was cut off")

    with pytest.raises((OSError, RuntimeError), match="the upload was cut off"):
        upsert("contacts", rows())
    assert m.Contact.objects.count() == 0
