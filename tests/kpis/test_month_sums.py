"""Month sums (`FactMonth`): always the month totals of the daily facts, after full and day
rebuilds; a window reads its whole months there and its end days from the daily facts."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

import pytest

from smarketing.kpis.facts import LAG_SCALE, families, level_measures, rolls_up
from smarketing.kpis.models import Fact, FactLagDay, FactLagMonth, FactLevel, FactMonth
from smarketing.kpis.selectors import kpi_values, whole_months
from smarketing.kpis.services import facts_rebuild
from smarketing.kpis.windows import window_for

from .builders import activity, contact, deal, ts

pytestmark = pytest.mark.django_db
D = dt.date.fromisoformat


def month_totals_of_the_daily_facts() -> dict[tuple, float]:
    lags = {m for family in families().values() if not rolls_up(family) for m in family.measures}
    totals: dict[tuple, float] = defaultdict(float)
    for measure, day, dimension, key, bucket, value in Fact.objects.values_list(
            "measure", "day", "dimension", "key", "bucket", "value"):
        if measure not in lags:
            totals[(measure, day.replace(day=1), dimension, key, bucket)] += value
    return dict(totals)


def month_sums() -> dict[tuple, float]:
    return {(measure, month, dimension, key, bucket): value for measure, month, dimension, key, bucket, value
            in FactMonth.objects.values_list("measure", "month", "dimension", "key", "bucket", "value")}


def lag_totals_of_the_daily_facts() -> tuple[dict[tuple, float], dict[tuple, float]]:
    """(by cohort month and conversion month, by cohort month and conversion day) of the lag
    facts; zero totals are not stored (a lag sum is read as a number, never as presence)."""
    lags = {m for family in families().values() if not rolls_up(family) for m in family.measures}
    by_month: dict[tuple, float] = defaultdict(float)
    by_day: dict[tuple, float] = defaultdict(float)
    for measure, day, dimension, key, bucket, value in Fact.objects.filter(measure__in=lags).values_list(
            "measure", "day", "dimension", "key", "bucket", "value"):
        converted = day + dt.timedelta(days=bucket // LAG_SCALE)
        grain = (measure, dimension, key, bucket % LAG_SCALE, day.replace(day=1))
        by_month[(*grain, converted.replace(day=1))] += value
        by_day[(*grain, converted)] += value
    return ({k: v for k, v in by_month.items() if v}, {k: v for k, v in by_day.items() if v})


def lag_sums(model) -> dict[tuple, float]:
    return {row[:-1]: row[-1] for row in model.objects.values_list(
        "measure", "dimension", "key", "number", "month", "converted", "value")}


def levels_of_the_daily_facts() -> dict[tuple, tuple[float, dt.date]]:
    """(sum of every fact, day of the first) per grain of the stock measures."""
    levels: dict[tuple, tuple[float, dt.date]] = {}
    for measure, day, dimension, key, bucket, value in Fact.objects.filter(measure__in=level_measures()).values_list(
            "measure", "day", "dimension", "key", "bucket", "value"):
        total, since = levels.get((measure, dimension, key, bucket), (0.0, day))
        levels[(measure, dimension, key, bucket)] = (total + value, min(since, day))
    return levels


def stored_levels() -> dict[tuple, tuple[float, dt.date]]:
    return {row[:4]: row[4:] for row in FactLevel.objects.values_list(
        "measure", "dimension", "key", "bucket", "value", "since")}


def assert_levels_match() -> None:
    got, expected = stored_levels(), levels_of_the_daily_facts()
    assert got.keys() == expected.keys()
    assert all(abs(got[k][0] - expected[k][0]) < 1e-9 and got[k][1] == expected[k][1] for k in got)


def assert_equal_sums(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    assert all(abs(got[k] - expected[k]) < 1e-9 for k in got)


def assert_month_sums_match() -> None:
    assert_equal_sums(month_sums(), month_totals_of_the_daily_facts())
    assert_levels_match()
    by_month, by_day = lag_totals_of_the_daily_facts()
    assert by_month and by_day  # the changes below make lag facts: the check is not vacuous
    assert_equal_sums(lag_sums(FactLagMonth), by_month)
    assert_equal_sums(lag_sums(FactLagDay), by_day)


@pytest.mark.parametrize(("lo", "hi", "months"), [
    ("2026-01-15", "2026-03-31", ("2026-02-01", "2026-03-01")),  # half a January: not whole
    ("2026-01-01", "2026-01-31", ("2026-01-01", "2026-01-01")),
    ("2026-01-02", "2026-02-27", None),  # no month wholly inside
    ("2026-02-01", "2026-02-28", ("2026-02-01", "2026-02-01")),  # February of a common year
    ("2024-02-01", "2024-02-28", None),  # ... but 2024 has a leap day still to come
    ("2024-02-01", "2024-02-29", ("2024-02-01", "2024-02-01")),
    (None, "2026-02-28", (None, "2026-02-01")),  # a stock: every month up to the end
    (None, "2026-02-27", (None, "2026-01-01")),
    ("2025-12-31", "2026-01-31", ("2026-01-01", "2026-01-01")),  # across a year end
])
def test_whole_months_inside_a_range(lo, hi, months):
    expected = None if months is None else (months[0] and D(months[0]), D(months[1]))
    assert whole_months(lo and D(lo), D(hi)) == expected


def test_month_sums_follow_full_and_day_rebuilds_on_random_changes():
    rng = random.Random(7)
    leads = []
    for i in range(30):
        lead_at = dt.datetime(2026, 1, 1, 9) + dt.timedelta(days=rng.randrange(100), hours=rng.randrange(12))
        mql = lead_at + dt.timedelta(days=rng.randrange(1, 30)) if rng.random() < 0.6 else None
        leads.append(contact(f"c{i}", lead_at.strftime("%Y-%m-%d %H:%M"),
                             mql=mql.strftime("%Y-%m-%d %H:%M") if mql else None))
    facts_rebuild()
    assert FactMonth.objects.exists()
    assert_month_sums_match()
    assert not FactLevel.objects.exists()  # no stock yet: the checks below would be vacuous
    # Late conversions and new deals, recomputed on their days only (the daily path).
    for i, lead in enumerate(rng.sample(leads, 8)):
        lead.customer_at = ts("2026-05-20 09:00")
        lead.save()
        deal(f"d{i}", 100 * (i + 1), "won", "2026-04-30 23:00", "2026-05-20 09:00", contact=lead)
        activity(lead, "2026-05-21 10:00")
    facts_rebuild(days=[D("2026-04-30"), D("2026-05-20"), D("2026-05-21"),
                        *{lead.lead_at.date() for lead in leads}])
    assert_month_sums_match()
    # Every March lead moves to December before: March's sums must go, not stay behind at zero; and a
    # deal won for $0 keeps its zero revenue sum (its row is the owner's presence in May).
    march = [lead for lead in leads if lead.lead_at.month == 3]
    assert march and FactMonth.objects.filter(measure="entered_lead", dimension="", month=D("2026-03-01")).exists()
    for lead in march:
        lead.lead_at = lead.lead_at.replace(year=2025, month=12)
        lead.save()
    deal("free", 0, "won", "2026-05-02 10:00", "2026-05-22 10:00", contact=leads[0])
    facts_rebuild(days=[*{lead.lead_at.date() for lead in leads}, *{lead.lead_at.replace(year=2026, month=3).date()
                                                                    for lead in march},
                        D("2026-05-02"), D("2026-05-22")])
    assert not FactMonth.objects.filter(measure="entered_lead", dimension="", month=D("2026-03-01")).exists()
    assert FactMonth.objects.filter(measure="revenue", dimension="", month=D("2026-05-01")).exists()
    assert_month_sums_match()


def test_a_long_window_reads_whole_months_from_the_month_sums():
    # Leads on Jan 31, Feb 1, Feb 28, Mar 1 and Mar 15; window Jan 31 – Mar 15: February whole.
    for i, day in enumerate(["2026-01-31", "2026-02-01", "2026-02-28", "2026-03-01", "2026-03-15"]):
        contact(f"c{i}", f"{day} 12:00")
    facts_rebuild()
    window = window_for("custom", start="2026-01-31", end="2026-03-15")
    assert kpi_values(metrics=["leads"], window=window)[0]["value"] == 5
    # February's two leads come from its month sum (a changed sum shows), the other three days
    # from the daily facts.
    assert FactMonth.objects.filter(measure="entered_lead", dimension="", month=D("2026-02-01")).update(value=20) == 1
    assert kpi_values(metrics=["leads"], window=window)[0]["value"] == 23
    # A window without a whole month reads only days.
    assert kpi_values(metrics=["leads"], window=window_for("custom", start="2026-02-02",
                                                          end="2026-02-28"))[0]["value"] == 1


def test_same_age_previous_across_months_reads_each_part_once():
    # Year to date as of 15 Mar 2026: the previous cohort is leads of 1 Jan – 15 Mar 2025,
    # counted as converted when their MQL came by 15 Mar 2025.
    stages = {
        "a": ("2025-01-10", "2025-03-10"),  # January cohort (the start's month: daily facts)
        "g": ("2025-01-31", "2025-02-01"),  # the start month's last day
        "d": ("2025-02-25", "2025-02-27"),  # a later cohort month, converted in a whole month
        "b": ("2025-02-05", "2025-03-14"),  # converted in the end's month, before the end
        "c": ("2025-02-20", "2025-03-16"),  # ... the day after the end: not yet
        "e": ("2025-03-05", "2025-04-01"),  # converted the month after
        "f": ("2025-03-15", "2025-03-15"),  # entered and converted on the end day
    }
    for name, (lead, mql) in stages.items():
        contact(name, f"{lead} 12:00", mql=f"{mql} 12:00")
    facts_rebuild()
    [result] = kpi_values(metrics=["lead_to_mql_rate"], window=window_for("ytd", as_of="2026-03-15"))
    previous = result["previous"]
    assert previous["same_age"] is True
    # converted by 15 Mar 2025: a, g, d, b, f = 5 of the 7 leads
    assert (previous["numerator"], previous["denominator"]) == (5, 7)


def test_a_read_plans_one_arm_per_table_however_many_ranges():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i, day in enumerate(["2025-03-14", "2025-12-31", "2026-01-31", "2026-02-01", "2026-03-01", "2026-03-15"]):
        contact(f"c{i}", f"{day} 12:00", mql=f"{day} 13:00")
    deal("d", 150, "won", "2026-02-01 09:00", "2026-03-05 09:00")
    facts_rebuild()
    # Year to date and its previous year: flows, stocks, the 365 days, mature parts and whole
    # months with days at either end (about twenty ranges), each over several measures.
    with CaptureQueriesContext(connection) as captured:
        results = kpi_values(metrics=["reach", "leads", "revenue", "lead_to_mql_rate", "average_deal_size"],
                             window=window_for("ytd", as_of="2026-03-15"))
    [read] = [query["sql"] for query in captured.captured_queries if "kpis_fact " in query["sql"]]
    # One arm reads every month-sum range, one every day range (planning one arm per range
    # and table was a third of a page's query time); the lag tables have their own arms.
    assert read.count("JOIN kpis_factmonth f") == 1 and read.count("JOIN kpis_fact f") == 1
    assert "FROM kpis_fact " not in read and "FROM kpis_factmonth " not in read
    values = {result["metric"]: result["value"] for result in results}
    assert (values["leads"], values["revenue"], values["lead_to_mql_rate"]) == (4, 150.0, 100.0)
    assert results[1]["previous"]["value"] == 1  # the lead of 14 Mar 2025


def test_a_read_writes_its_pieces_as_literals_and_refuses_a_measure_that_is_not_a_name():
    """The pieces' measures and days are written into the query, not bound: only a
    registry-style measure name may be written."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from smarketing.kpis.selectors import _fetch_rows

    contact("c", "2026-03-02 12:00", mql="2026-03-03 13:00")
    facts_rebuild()
    with CaptureQueriesContext(connection) as captured:
        rows = _fetch_rows({(dt.date(2026, 1, 1), dt.date(2026, 3, 15)): {"entered_lead", "entered_mql"}},
                           dimension="", keys=None, aged=None)
    assert {(index[1], total) for index, total in rows.items()} == {("entered_lead", (1.0, 1)),
                                                                    ("entered_mql", (1.0, 1))}
    [sql] = [query["sql"] for query in captured.captured_queries]
    assert "'entered_lead'" in sql and "2026-01-01" in sql
    with pytest.raises(ValueError, match="not a measure name"):
        _fetch_rows({(dt.date(2026, 1, 1), dt.date(2026, 3, 15)): {"leads') OR (1=1"}},
                    dimension="", keys=None, aged=None)
