"""On a database PostgreSQL has never analysed, a small import still recomputes only its days.

A never-analysed table has no row estimate (pg_class.reltuples is -1): a choice made from
planner statistics takes it for empty and turns a 1,000-row import into a rebuild of every
day. Autovacuum is switched off on the tables here, as on a server where it lags or is off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction

from smarketing.funnel import models as m
from smarketing.funnel.services import records_upsert
from smarketing.kpis.models import DirtyDay, FactsState
from smarketing.kpis.selectors import kpi_values
from smarketing.kpis.services import facts_rebuild
from smarketing.kpis.windows import window_for

from .builders import ts

pytestmark = pytest.mark.services

TABLES = ("funnel_contact", "funnel_deal", "funnel_activity")


def _use(name: str) -> None:
    connection.close()
    connection.settings_dict["NAME"] = settings.DATABASES["default"]["NAME"] = name


@pytest.fixture
def fresh_database(transactional_db) -> Iterator[str]:
    """A database created and migrated for this test, its funnel tables never analysed."""
    original = connection.settings_dict["NAME"]
    fresh = f"{original}_fresh"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{fresh}"')
        cursor.execute(f'CREATE DATABASE "{fresh}"')
    _use(fresh)
    try:
        call_command("migrate", verbosity=0, interactive=False)
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        yield fresh
    finally:
        _use(original)
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')


def _reltuples(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        return cursor.fetchone()[0]


def _statistics_forget(table: str) -> None:
    """The table as PostgreSQL knows one it never analysed (its row estimate -1)."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE oid = %s::regclass", [table])


def test_a_1000_row_import_on_a_never_analysed_database_recomputes_only_its_days(fresh_database):
    # 3,000 older contacts over 300 days, each tenth with a deal: their days are not the import's.
    start = dt.date(2025, 3, 1)
    old = []
    for i in range(3000):
        contact = m.Contact(external_id=f"old-{i}", email=f"old{i}@example.com", source_channel="email",
                            lead_at=ts(f"{start + dt.timedelta(days=i % 300)} 10:00"))
        contact.fill_local_dates()
        old.append(contact)
    m.Contact.objects.bulk_create(old, batch_size=1000)
    deals = []
    for i, contact in enumerate(m.Contact.objects.order_by("pk")[::10]):
        deal = m.Deal(external_id=f"deal-{i}", contact=contact, amount=100, status="won",
                      created_at=ts(f"{contact.lead_on + dt.timedelta(days=5)} 11:00"),
                      closed_at=ts(f"{contact.lead_on + dt.timedelta(days=20)} 11:00"))
        deal.fill_local_dates()
        deals.append(deal)
    m.Deal.objects.bulk_create(deals)
    assert _reltuples("funnel_contact") == -1  # never analysed
    # Their facts exist (an empty store's first recompute rebuilds everything). A recompute plans
    # on statistics: it analyses the tables the planner never analysed before it starts.
    facts_rebuild()
    full_at = FactsState.objects.get().full_rebuild_at
    assert _reltuples("funnel_contact") == 3000 and _reltuples("funnel_deal") == 300
    # Statistics lost again (as after a restore into a server with autovacuum off): the import's
    # choice of days must not read them.
    _statistics_forget("funnel_contact")
    assert _reltuples("funnel_contact") == -1

    rows = [{"external_id": f"new-{i}", "email": f"new{i}@example.com", "source_channel": "organic_search",
             "lead_at": f"2026-03-{10 + i % 2}T09:30:00"} for i in range(1000)]
    with transaction.atomic():
        result = records_upsert(resource="contacts", rows=rows)
        assert result.ok and result.created == 1000
        # The choice of days was made before the commit, still without statistics.
        assert _reltuples("funnel_contact") == -1
        assert set(DirtyDay.objects.values_list("day", flat=True)) == {dt.date(2026, 3, 10), dt.date(2026, 3, 11)}
    # On commit: the table was analysed, and the two days recomputed (the embedded recompute
    # ran in this process and cleared the marks).
    assert _reltuples("funnel_contact") == 4000
    assert not DirtyDay.objects.exists()
    leads = kpi_values(metrics=["leads"], window=window_for("mtd", as_of="2026-03-31"))[0]["value"]
    assert leads == 1000
    # A recompute of days, not a full rebuild; the older facts stand.
    assert FactsState.objects.get().full_rebuild_at == full_at
    assert kpi_values(metrics=["leads"], window=window_for("custom", start="2025-03-01", end="2025-12-31"))[0][
        "value"] == 3000
