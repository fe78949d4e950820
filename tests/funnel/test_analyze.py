"""After a bulk write PostgreSQL gets its statistics and visibility map at once (VACUUM ANALYZE), not when autovacuum gets to it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from smarketing.funnel import demo
from smarketing.funnel import models as m
from smarketing.funnel.services import records_upsert

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _reltuples(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        return cursor.fetchone()[0]


def _pages(table: str) -> tuple[int, int]:
    """(pages the visibility map marks all-visible, pages) as the last VACUUM or ANALYZE counted them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT relallvisible, relpages FROM pg_class WHERE oid = %s::regclass", [table])
        return cursor.fetchone()


def _contacts(prefix: str, count: int) -> list[dict[str, str]]:
    return [{"external_id": f"{prefix}-{i}", "email": f"{prefix}{i}@example.com",
             "source_channel": "email", "lead_at": "2026-03-10T09:30:00"} for i in range(count)]


def test_an_import_of_a_tenth_of_the_table_or_more_analyses_it():
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE funnel_contact")
    assert _reltuples("funnel_contact") == 0
    assert records_upsert(resource="contacts", rows=_contacts("a", 100)).ok
    assert _reltuples("funnel_contact") == 100  # 100 rows ≥ a tenth of 0
    # Vacuumed too: index-only scans of the new rows need not visit their pages.
    visible, pages = _pages("funnel_contact")
    assert pages > 0 and visible == pages
    assert records_upsert(resource="contacts", rows=_contacts("b", 9)).ok
    assert _reltuples("funnel_contact") == 100  # 9 < 10: left to autovacuum
    assert records_upsert(resource="contacts", rows=_contacts("c", 11)).ok
    assert _reltuples("funnel_contact") == 120  # 11 ≥ 10.9
    # A failed import wrote nothing and analyses nothing.
    assert not records_upsert(resource="contacts", rows=[{**_contacts("d", 1)[0], "lead_at": "soon"}] * 50).ok
    assert m.Contact.objects.count() == 120


def test_seed_demo_analyses_every_table_it_wrote():
    counts = demo.demo_seed(contacts=150, seed=1, today=dt.date(2026, 3, 15))
    assert _reltuples("funnel_contact") == counts["contacts"] == 150
    assert _reltuples("funnel_activity") == counts["activities"] > 0
    for table in ("funnel_contact", "funnel_activity"):
        visible, pages = _pages(table)
        assert pages > 0 and visible == pages, table
    assert _reltuples("funnel_deal") == counts["deals"] > 0
