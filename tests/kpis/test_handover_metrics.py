"""Handover quality, lead types and paid media (kpi-catalogue.md), values computed by hand.

Window: mtd as of 2026-03-15 (Mar 1–15), company time zone UTC. The forecast cohort of that
window is the MQLs (or leads) dated 2024-11-16 … 2025-11-15 (365 days ending 120 days before
the end); the deal size reads the won deals closed 2025-03-16 … 2026-03-15.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from smarketing.funnel import models as m
from smarketing.kpis.selectors import kpi_values, metric_records
from smarketing.kpis.services import facts_rebuild
from smarketing.kpis.windows import window_for

from .builders import activity, campaign, contact, deal, member, spend

pytestmark = pytest.mark.django_db


def values(metrics, *, dimension=None, filters=None, window="mtd", as_of="2026-03-15"):
    w = window_for(window, as_of=as_of)
    return {r["metric"]: r for r in kpi_values(metrics=list(metrics), window=w, dimension=dimension, filters=filters)}


def rows(result):
    return {item["key"]: (item["value"], item["numerator"], item["denominator"]) for item in result["breakdown"]}


def test_first_attempt_exactly_at_24_hours_is_on_time_a_second_later_is_not(db):
    ann = member("ann@t.com", "Ann")
    on_time = contact("k1", "2026-03-01 08:00", owner=ann, mql="2026-03-02 10:00")
    late = contact("k2", "2026-03-01 08:00", owner=ann, mql="2026-03-03 10:00")
    contact("k3", "2026-03-01 08:00", owner=ann, mql="2026-03-04 10:00")  # never attempted
    early = contact("k4", "2026-03-01 08:00", mql="2026-03-05 10:00")
    activity(on_time, "2026-03-03 10:00")  # exactly 24 h
    activity(on_time, "2026-03-03 09:00", kind="email")  # (earlier, also at or after the MQL: the first)
    activity(late, "2026-03-04 10:00:01")  # 24 h and 1 s
    activity(early, "2026-03-05 09:00")  # before the MQL: not an attempt
    activity(early, "2026-03-05 10:30")
    facts_rebuild()

    result = values(["leads_worked_on_time_rate", "speed_to_lead_hours"], dimension="owner")
    on_time_rate = result["leads_worked_on_time_rate"]
    # k1 (23 h) and k4 (0.5 h) on time; k2 late; k3 never attempted stays in the denominator.
    assert (on_time_rate["value"], on_time_rate["numerator"], on_time_rate["denominator"]) == (50.0, 2, 4)
    # Mean over the attempted MQLs only: (23 + (24 + 1/3600) + 0.5) / 3.
    assert result["speed_to_lead_hours"]["value"] == pytest.approx((23 + 24 + 1 / 3600 + 0.5) / 3, abs=1e-6)
    assert rows(on_time_rate)["ann@t.com"] == (pytest.approx(100 / 3), 1, 3)
    assert rows(on_time_rate)["(none)"] == (100.0, 1, 1)
    assert rows(result["speed_to_lead_hours"])["ann@t.com"][0] == pytest.approx((23 + 24 + 1 / 3600) / 2, abs=1e-6)


def test_on_time_follows_the_setting(db, settings):
    settings.SLA_FIRST_ATTEMPT_HOURS = 2
    k1 = contact("k1", "2026-03-01 08:00", mql="2026-03-02 10:00")
    k2 = contact("k2", "2026-03-01 08:00", mql="2026-03-02 10:00")
    activity(k1, "2026-03-02 12:00")
    activity(k2, "2026-03-02 12:01")
    facts_rebuild()
    assert values(["leads_worked_on_time_rate"])["leads_worked_on_time_rate"]["value"] == 50.0


def test_a_lead_disqualified_and_later_an_sql_is_not_a_rejection(db):
    contact("k1", "2026-03-01 08:00", mql="2026-03-02 10:00", disqualified="2026-03-03 10:00", reason="no_budget")
    contact("k2", "2026-03-01 08:00", mql="2026-03-02 10:00", disqualified="2026-03-03 10:00",
            sql="2026-03-06 10:00", reason="bad_timing")  # ruled out, then came back as an SQL
    contact("k3", "2026-03-01 08:00", mql="2026-03-04 10:00", disqualified="2026-04-20 10:00", reason="no_need")
    contact("k4", "2026-03-01 08:00", mql="2026-03-04 10:00")
    contact("k5", "2026-02-01 08:00", disqualified="2026-03-10 10:00", reason="bad_data")  # never an MQL
    contact("k6", "2026-03-01 08:00", mql="2026-03-05 10:00", disqualified="2026-03-06 10:00", reason="no_budget")
    facts_rebuild()

    result = values(["mql_rejection_rate", "disqualified_leads"], dimension="disqualification_reason")
    rejection = result["mql_rejection_rate"]
    # k1, k3 (rejected after the window: counts, as the data stands now), k6 of k1…k4, k6.
    assert (rejection["value"], rejection["numerator"], rejection["denominator"]) == (60.0, 3, 5)
    # Each reason keeps the whole cohort as denominator: the rows add up to the total.
    assert rows(rejection) == {"no_budget": (40.0, 2, 5), "no_need": (20.0, 1, 5)}
    # Disqualified in March whatever the stage: k1, k2, k5, k6 (k3's is in April).
    disqualified = result["disqualified_leads"]
    assert disqualified["value"] == 4
    assert {key: value for key, value, _, _ in
            ((i["key"], i["value"], 0, 0) for i in disqualified["breakdown"])} == {
        "no_budget": 2, "bad_timing": 1, "bad_data": 1}


def test_rejection_filtered_by_reason_divides_by_the_whole_cohort_and_drills_to_the_rejected(db):
    contact("k1", "2026-03-01 08:00", mql="2026-03-02 10:00", disqualified="2026-03-03 10:00", reason="no_budget")
    contact("k2", "2026-03-01 08:00", mql="2026-03-02 10:00", disqualified="2026-03-03 10:00", reason="competitor")
    contact("k3", "2026-03-01 08:00", mql="2026-03-02 10:00")
    contact("k4", "2026-03-01 08:00", mql="2026-03-02 10:00")
    facts_rebuild()
    result = values(["mql_rejection_rate"], filters={"disqualification_reason": ["competitor"]})["mql_rejection_rate"]
    assert (result["value"], result["numerator"], result["denominator"]) == (25.0, 1, 4)
    window = window_for("mtd", as_of="2026-03-15")
    records = metric_records(metric="mql_rejection_rate", window=window)
    assert sorted(row["external_id"] for row in records.rows) == ["k1", "k2"]
    narrowed = metric_records(metric="mql_rejection_rate", window=window, dimension="disqualification_reason",
                              key="competitor")
    assert [row["external_id"] for row in narrowed.rows] == ["k2"]


def test_industry_and_offer_break_down_every_contact_metric(db):
    contact("k1", "2026-03-01 08:00", industry="Health care", offer="demo_request", mql="2026-03-02 10:00",
            customer="2026-03-10 10:00")
    contact("k2", "2026-03-01 08:00", industry="Health care", offer="ebook", mql="2026-03-02 10:00")
    contact("k3", "2026-03-01 08:00", offer="ebook")
    contact("k4", "2026-03-01 08:00", offer="ebook")
    facts_rebuild()
    by_offer = values(["lead_to_customer_rate", "lead_to_mql_rate"], dimension="offer")
    assert rows(by_offer["lead_to_customer_rate"]) == {"demo_request": (100.0, 1, 1), "ebook": (0.0, 0, 3)}
    by_industry = values(["leads", "mql_to_customer_rate"], dimension="industry")
    assert rows(by_industry["mql_to_customer_rate"]) == {"Health care": (50.0, 1, 2)}
    assert {i["key"]: i["value"] for i in by_industry["leads"]["breakdown"]} == {"Health care": 2, "(none)": 2}


@pytest.fixture
def forecast(db):
    """MQLs around the edges of the forecast cohort of mtd 2026-03-15 and the year's won deals."""
    ann, bob = member("ann@t.com", "Ann"), member("bob@t.com", "Bob")
    edges = (
        ("in-last", "2025-11-15 23:59", True, ann),  # last day of the cohort
        ("out-late", "2025-11-16 00:00", True, ann),  # one day too young
        ("in-first", "2024-11-16 00:00", False, ann),  # first day of the cohort
        ("out-early", "2024-11-15 23:59", True, bob),  # one day too old
        ("in-mid", "2025-06-01 12:00", False, ann),
        ("in-bob", "2025-06-01 12:00", True, bob),
        ("in-bob-2", "2025-06-02 12:00", False, bob),
    )
    for external_id, mql, won, owner in edges:
        lead = (dt.datetime.fromisoformat(mql) - dt.timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
        contact(external_id, lead, owner=owner, mql=mql, customer="2026-01-10 10:00" if won else None)
    deal("D1", 1000, "won", "2025-12-01 10:00", "2026-01-10 10:00", owner=ann)
    deal("D2", 2000, "won", "2025-12-01 10:00", "2026-01-10 10:00", owner=ann)
    deal("D3", 3000, "won", "2025-12-01 10:00", "2026-01-10 10:00", owner=bob)
    deal("D4", 9000, "won", "2025-01-01 10:00", "2025-03-15 10:00", owner=bob)  # the day before the year
    facts_rebuild()
    return ann, bob


def test_forecast_close_rate_reads_only_the_mature_cohort_edges_included(forecast):
    result = values(["forecast_close_rate"], dimension="owner")["forecast_close_rate"]
    # in-last, in-first, in-mid, in-bob, in-bob-2: 2 customers (in-last, in-bob) of 5.
    assert (result["value"], result["numerator"], result["denominator"]) == (40.0, 2, 5)
    assert rows(result) == {"ann@t.com": (pytest.approx(100 / 3), 1, 3), "bob@t.com": (50.0, 1, 2)}


def target(metric, value, owner=None, period="month", start="2026-03-01"):
    m.Target.objects.create(metric=metric, period=period, period_start=dt.date.fromisoformat(start),
                            value=Decimal(value), owner=owner)


def test_leads_needed_is_the_revenue_target_over_rate_times_deal_size_rounded_up(forecast):
    ann, bob = forecast
    # Team: rate 2/5, deal size (1000 + 2000 + 3000) / 3 = 2000: 8000 / (0.4 × 2000) = exactly 10.
    target("revenue", "8000")
    # Ann: rate 1/3, size 1500: 5000 / 500 = exactly 10; one cent more needs 11.
    target("revenue", "5000.01", owner=ann)
    # Bob: rate 1/2, size 3000: 3000 / 1500 = 2.
    target("revenue", "3000", owner=bob)
    result = values(["leads_needed"], dimension="owner")["leads_needed"]
    assert result["value"] == 10
    assert {i["key"]: i["value"] for i in result["breakdown"]} == {"ann@t.com": 11, "bob@t.com": 2}


def test_leads_needed_filtered_to_reps_reads_their_own_quota_never_the_teams(forecast):
    ann, bob = forecast
    target("revenue", "8000")  # the team's: 10 leads for the team, never for Ann alone
    target("revenue", "5000.01", owner=ann)
    ann_only = values(["leads_needed"], filters={"owner": ["ann@t.com"]})["leads_needed"]
    assert ann_only["value"] == 11  # 5000.01 / (1/3 × 1500), as in her breakdown row
    # Bob has no quota this month: his slice has no leads_needed, not the team's 10.
    assert values(["leads_needed"], filters={"owner": ["bob@t.com"]})["leads_needed"]["value"] is None
    target("revenue", "3000", owner=bob)
    # Both: (5000.01 + 3000) over their joint rate 2/5 and deal size 2000 -> ceil(10.0000125) = 11.
    both = values(["leads_needed"], filters={"owner": ["ann@t.com", "bob@t.com"]})["leads_needed"]
    assert both["value"] == 11


def test_leads_needed_exists_only_with_a_revenue_target_of_the_windows_period(forecast):
    ann, _ = forecast
    target("revenue", "5000", owner=ann)
    target("revenue", "8000", period="quarter", start="2026-01-01")
    result = values(["leads_needed"], dimension="owner")["leads_needed"]
    assert result["value"] is None  # the month has no team-wide revenue target
    assert [i["key"] for i in result["breakdown"]] == ["ann@t.com"]  # Bob has none
    assert values(["leads_needed"], window="qtd")["leads_needed"]["value"] == 10
    assert values(["leads_needed"], window="last_30")["leads_needed"]["value"] is None


def test_revenue_pipeline_uses_the_mature_lead_to_customer_rate(db):
    # Forecast cohort (leads 2024-11-16 … 2025-11-15): 4 leads, 1 customer -> 25 %.
    contact("old-1", "2025-01-10 10:00", customer="2025-04-01 10:00")
    contact("old-2", "2025-02-10 10:00")
    contact("old-3", "2025-03-10 10:00")
    contact("old-4", "2025-11-15 10:00")
    # Young leads that have not closed yet: they no longer drag the rate down.
    for i in range(4):
        contact(f"young-{i}", f"2026-01-0{i + 1} 10:00")
    for i in range(2):
        contact(f"now-{i}", f"2026-03-0{i + 2} 10:00")  # 2 leads in the window
    deal("D1", 4000, "won", "2025-03-01 10:00", "2025-04-01 10:00")
    deal("D2", 8000, "won", "2025-06-01 10:00", "2025-07-01 10:00")
    facts_rebuild()
    # 2 leads × 25 % × (4000 + 8000) / 2 = 3000 (the trailing-year rate would be 1 / 10 -> 1200).
    assert values(["revenue_pipeline"])["revenue_pipeline"]["value"] == pytest.approx(3000.0)


def test_paid_media_metrics_sum_every_category_and_divide_over_rows_with_both_counts(db):
    c1 = campaign("C1", "Search", "paid_search")
    spend("S1", "2026-03-02", 100, channel="paid_search", campaign=c1, impressions=1000, clicks=40)
    spend("S2", "2026-03-03", 50, channel="paid_search", campaign=c1, clicks=10)  # clicks without impressions
    spend("S3", "2026-03-04", 30, channel="paid_social", impressions=500)  # impressions without clicks
    spend("S4", "2026-03-05", 20, channel="paid_social", category="sales", impressions=200, clicks=2)
    spend("S5", "2026-02-28", 999, channel="paid_search", impressions=9, clicks=9)  # before the window
    facts_rebuild()
    result = values(["paid_impressions", "paid_clicks", "paid_click_rate", "cost_per_click"], dimension="channel")
    assert result["paid_impressions"]["value"] == 1700
    assert result["paid_clicks"]["value"] == 52
    # (40 + 2) / (1000 + 200): S2 and S3 lack one of the counts.
    rate = result["paid_click_rate"]
    assert (rate["value"], rate["numerator"], rate["denominator"]) == (3.5, 42, 1200)
    # (100 + 50 + 20) / (40 + 10 + 2): S3 has no clicks.
    assert result["cost_per_click"]["value"] == pytest.approx(170 / 52)
    assert rows(result["paid_click_rate"])["paid_social"] == (1.0, 2, 200)
    assert rows(result["cost_per_click"])["paid_search"][0] == pytest.approx(3.0)


def test_marketing_sla_order_row_then_quota_then_the_monthly_setting(forecast, settings):
    ann, bob = forecast
    carl = member("carl@t.com", "Carl")
    for rep in (ann, bob, carl):
        contact(f"now-{rep.email}", "2026-03-02 09:00", owner=rep, mql="2026-03-03 09:00")
    facts_rebuild()
    target("revenue", "5000", owner=ann)  # leads_needed 10
    target("revenue", "3000", owner=bob)  # leads_needed 2, but Bob has his own leads_delivered row
    target("leads_delivered", "7", owner=bob)
    settings.SLA_LEADS_PER_REP_PER_MONTH = 40

    def sla_targets():
        result = values(["leads_delivered"], dimension="owner")["leads_delivered"]
        return {item["key"]: item["target"]["value"] for item in result["breakdown"] if item.get("target")}

    settings.SLA_LEADS_FROM_QUOTA = True
    assert sla_targets() == {"ann@t.com": 10, "bob@t.com": 7, "carl@t.com": 40}
    settings.SLA_LEADS_FROM_QUOTA = False
    assert sla_targets() == {"ann@t.com": 40, "bob@t.com": 7, "carl@t.com": 40}
