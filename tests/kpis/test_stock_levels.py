"""Stocks read their running level (`FactLevel`) less the facts after the window's end: the
levels follow every rebuild, and a stock up to any day (and a key's presence in it) is what
the facts up to that day sum to."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from smarketing.funnel.models import Deal
from smarketing.kpis.models import FactLevel
from smarketing.kpis.selectors import kpi_series, kpi_values
from smarketing.kpis.services import facts_rebuild
from smarketing.kpis.windows import window_for

from .builders import deal, member
from .test_month_sums import assert_levels_match, stored_levels

pytestmark = pytest.mark.django_db
D = dt.date.fromisoformat


def open_pipeline(end: str, *, start: str = "2025-12-01") -> tuple[float, dict[str, float]]:
    """(the total, {owner: value}) of the open pipeline at the end of `end`."""
    [result] = kpi_values(metrics=["open_pipeline"], window=window_for("custom", start=start, end=end),
                          dimension="owner")
    return result["value"], {item["key"]: item["value"] for item in result["breakdown"]}


def test_a_stock_up_to_any_day_is_its_level_less_the_facts_after_it():
    ann, bob = member("ann@example.com", "Ann"), member("bob@example.com", "Bob")
    first = deal("a", 100, "open", "2026-01-10 09:00", owner=ann)
    deal("b", 50, "open", "2026-03-05 09:00", owner=bob)
    deal("c", 30, "won", "2026-01-20 09:00", "2026-03-20 09:00", owner=ann)
    facts_rebuild()
    assert_levels_match()
    level = FactLevel.objects.get(measure="open_amount_in", dimension="owner", key="ann@example.com")
    assert (level.value, level.since) == (130.0, D("2026-01-10"))
    # Up to today every fact is in the level; earlier ends take the later facts off: the rest
    # of the end's month from the daily facts, later months from their sums.
    assert open_pipeline("2026-11-30") == (150.0, {"ann@example.com": 100.0, "bob@example.com": 50.0})
    assert open_pipeline("2026-03-20") == (150.0, {"ann@example.com": 100.0, "bob@example.com": 50.0})
    assert open_pipeline("2026-03-19") == (180.0, {"ann@example.com": 130.0, "bob@example.com": 50.0})
    assert open_pipeline("2026-03-05") == (180.0, {"ann@example.com": 130.0, "bob@example.com": 50.0})
    # Bob's first fact comes after these ends: his later facts do not list him.
    assert open_pipeline("2026-03-04") == (130.0, {"ann@example.com": 130.0})
    assert open_pipeline("2026-02-28") == (130.0, {"ann@example.com": 130.0})
    assert open_pipeline("2026-01-10") == (100.0, {"ann@example.com": 100.0})
    assert open_pipeline("2026-01-09") == (0.0, {})

    # Ann's first deal moves later: her level's first day moves with it on a day rebuild.
    first.created_at = first.created_at.replace(month=2, day=15)
    first.save()
    facts_rebuild(days=[D("2026-01-10"), D("2026-02-15")])
    assert_levels_match()
    assert FactLevel.objects.get(measure="open_amount_in", dimension="owner", key="ann@example.com").since \
        == D("2026-01-20")
    assert open_pipeline("2026-01-19") == (0.0, {})
    assert open_pipeline("2026-02-14", start="2026-02-01") == (30.0, {"ann@example.com": 30.0})
    assert open_pipeline("2026-02-15") == (130.0, {"ann@example.com": 130.0})

    # Bob's only deal goes: so do his levels.
    Deal.objects.get(external_id="b").delete()
    facts_rebuild(days=[D("2026-03-05")])
    assert_levels_match()
    assert not FactLevel.objects.filter(dimension="owner", key="bob@example.com").exists()
    assert open_pipeline("2026-11-30") == (100.0, {"ann@example.com": 100.0})


def test_a_stock_series_starts_from_its_level_less_the_later_facts():
    ann, bob = member("ann@example.com", "Ann"), member("bob@example.com", "Bob")
    deal("a", 100, "open", "2025-11-10 09:00", owner=ann)
    deal("b", 50, "open", "2026-03-05 09:00", owner=bob)
    deal("c", 30, "won", "2026-01-20 09:00", "2026-03-20 09:00", owner=ann)
    deal("d", 70, "lost", "2025-06-01 09:00", "2026-05-02 09:00", owner=bob)  # closes after every cut
    facts_rebuild()
    # Monthly to 10 March: the first piece (up to 31 Dec) is the level less everything later,
    # including c's close on 20 March and d's in May, after the last cut.
    window = window_for("custom", start="2026-01-01", end="2026-03-10")
    points = kpi_series(metric="open_pipeline", window=window, grain="month")
    assert [(p["end"], p["value"]) for p in points] == [
        (D("2026-01-31"), 200.0), (D("2026-02-28"), 200.0), (D("2026-03-10"), 250.0)]
    owner_points = kpi_series(metric="open_pipeline", window=window, grain="month",
                              filters={"owner": ["ann@example.com"]})
    assert [p["value"] for p in owner_points] == [130.0, 130.0, 130.0]
    # Every bucket equals the same window asked of kpi_values.
    later = window_for("custom", start="2026-03-01", end="2026-05-31")
    for point in kpi_series(metric="open_pipeline", window=later, grain="week"):
        bucket = window_for("custom", start=point["start"].isoformat(), end=point["end"].isoformat())
        assert point["value"] == kpi_values(metrics=["open_pipeline"], window=bucket)[0]["value"], point


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_levels_of_the_facts_already_there():
    ann = member("ann@example.com", "Ann")
    deal("a", 100, "open", "2026-01-10 09:00", owner=ann)
    deal("c", 30, "won", "2026-01-20 09:00", "2026-03-20 09:00", owner=ann)
    facts_rebuild()
    filled = stored_levels()
    assert filled[("open_amount_in", "owner", "ann@example.com", 0)] == (130.0, D("2026-01-10"))
    executor = MigrationExecutor(connection)
    [leaf] = [node for node in executor.loader.graph.leaf_nodes() if node[0] == "kpis"]
    executor.migrate([("kpis", "0009_lag_sums_emptied_index")])
    assert "kpis_factlevel" not in connection.introspection.table_names()
    executor = MigrationExecutor(connection)
    executor.migrate([leaf])
    assert stored_levels() == filled
    assert_levels_match()
