"""On PostgreSQL a rebuild of everything fills fresh copies of the fact tables, indexes them
once full and swaps them in: the numbers are the same, and the schema keeps the names and
definitions the migrations gave it, so later migrations and day rebuilds find what they expect."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from smarketing.kpis.facts import FACT_TABLES, NEXT
from smarketing.kpis.models import Fact, FactLevel, FactMonth
from smarketing.kpis.selectors import kpi_values
from smarketing.kpis.services import facts_rebuild
from smarketing.kpis.windows import window_for

from .builders import contact, deal, facts_snapshot

pytestmark = [pytest.mark.services, pytest.mark.django_db]


def leads(as_of: str) -> float:
    return kpi_values(metrics=["leads"], window=window_for("mtd", as_of=as_of))[0]["value"]


def table_oid(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::regclass::oid", [table])
        return cursor.fetchone()[0]


def index_definitions() -> list:
    """Every index of the fact tables as PostgreSQL prints it, and each table's storage settings."""
    tables = [model._meta.db_table for model in FACT_TABLES.values()]
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY indexname", [tables])
        indexes = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s) ORDER BY relname", [tables])
        return [*indexes, *cursor.fetchall()]


def test_a_full_rebuild_swaps_in_fresh_tables_with_the_migrations_names():
    assert connection.vendor == "postgresql"
    migrated = index_definitions()
    # A primary key and a unique grain per table, the lag sums' index of emptied sums, the settings.
    assert len(migrated) == 10 + 2 + 5
    assert any("factlagday_emptied" in index and "WHERE" in index for index in migrated)
    assert ("kpis_fact", ["parallel_workers=0"]) in migrated
    for i in range(3):
        contact(f"c{i}", f"2026-03-0{i + 1} 09:00", customer=f"2026-03-2{i} 09:00")
    deal("d", 500, "won", "2026-03-02 09:00", "2026-03-20 09:00")
    facts_rebuild()
    before = {table: table_oid(table) for table in (m._meta.db_table for m in FACT_TABLES.values())}
    contact("c3", "2026-03-09 09:00")
    facts_rebuild()
    # New tables (new oids) under the old names, holding the new numbers and their month sums.
    assert all(table_oid(table) != oid for table, oid in before.items())
    assert index_definitions() == migrated
    assert leads("2026-03-31") == 4
    assert FactMonth.objects.get(measure="entered_lead", dimension="", month=dt.date(2026, 3, 1)).value == 4
    assert FactLevel.objects.get(measure="entered_customer", dimension="").value == 3
    with connection.cursor() as cursor:
        for model in FACT_TABLES.values():
            table = model._meta.db_table
            constraints = connection.introspection.get_constraints(cursor, table)
            assert constraints[f"{table}_pkey"]["primary_key"]
            for constraint in model._meta.constraints:
                assert constraints[constraint.name]["unique"]
                assert constraints[constraint.name]["columns"] == [*constraint.fields, *constraint.include]
            cursor.execute("SELECT to_regclass(%s)", [f"{table}{NEXT}"])
            assert cursor.fetchone()[0] is None  # no copy left behind
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            assert cursor.fetchone()[0] == f"public.{table}_id_seq"
    # The unique grain holds, and a day's rebuild after the swap writes through the same schema.
    with pytest.raises(IntegrityError, match="fact_grain"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {Fact._meta.db_table} (measure, day, dimension, key, bucket, value) "
                       f"SELECT measure, day, dimension, key, bucket, value FROM {Fact._meta.db_table} LIMIT 1")
    contact("c4", "2026-03-10 09:00")
    facts_rebuild(days=[dt.date(2026, 3, 10)])
    assert leads("2026-03-31") == 5



def test_the_first_recompute_into_an_empty_store_fills_fresh_tables_and_later_ones_rebuild_days():
    from smarketing.kpis.models import DirtyDay, FactsState
    from smarketing.kpis.services import dirty_mark, facts_recompute_dirty

    contact("c1", "2026-03-02 09:00", customer="2026-03-20 09:00")
    contact("c2", "2026-03-05 09:00")  # on a day no mark names
    deal("d", 500, "won", "2026-03-02 09:00", "2026-03-20 09:00")
    dirty_mark(resource="contacts", days=[dt.date(2026, 3, 2)], contact_ids=None)
    assert not Fact.objects.exists()
    before = {table: table_oid(table) for table in (m._meta.db_table for m in FACT_TABLES.values())}
    result = facts_recompute_dirty()
    # Every family over every day, into new tables: the facts a full rebuild makes.
    assert result.days is None
    assert all(table_oid(table) != oid for table, oid in before.items())
    assert not DirtyDay.objects.exists()
    assert FactsState.objects.get().full_rebuild_at is not None
    filled = facts_snapshot()
    assert leads("2026-03-31") == 2
    facts_rebuild()
    assert facts_snapshot() == filled
    # With facts stored, a recompute rebuilds its marked days in place.
    full_at = FactsState.objects.get().full_rebuild_at
    kept = {table: table_oid(table) for table in (m._meta.db_table for m in FACT_TABLES.values())}
    contact("c3", "2026-03-09 09:00")
    dirty_mark(resource="contacts", days=[dt.date(2026, 3, 9)], contact_ids=None)
    result = facts_recompute_dirty()
    assert result.days == 1
    assert {table: table_oid(table) for table in kept} == kept
    assert FactsState.objects.get().full_rebuild_at == full_at
    assert leads("2026-03-31") == 3
