"""Targets, pace and projection (catalogue "Targets and pace") and the SLA settings' overrides."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from smarketing.funnel import models as m
from smarketing.kpis.selectors import kpi_values
from smarketing.kpis.services import facts_rebuild
from smarketing.kpis.windows import window_for

from .builders import activity, campaign, contact, deal, member

pytestmark = pytest.mark.django_db


def target(metric, period, start, value, owner=None, **slice_):
    m.Target.objects.create(metric=metric, period=period, period_start=dt.date.fromisoformat(start),
                            value=Decimal(str(value)), owner=owner, **slice_)


def result(metric, dimension=None, filters=None, today=None, **window):
    name = window.pop("window", "mtd")
    return kpi_values(metrics=[metric], window=window_for(name, **window), dimension=dimension, filters=filters,
                      today=today)[0]


def test_count_target_pace_and_projection_mid_month():
    for i in range(12):
        contact(f"c{i}", f"2026-04-{1 + i:02d} 09:00")
    target("leads", "month", "2026-04-01", 30)
    facts_rebuild()
    got = result("leads", as_of="2026-04-10")
    # 10 leads by Apr 10; pace 30 × 10 / 30 = 10 → at pace = ahead; projection 10 × 30 / 10 = 30.
    assert got["value"] == 10
    assert got["target"] == {"value": 30, "pace": 10, "projection": 30, "status": "ahead", "elapsed_days": 10}
    behind = result("leads", as_of="2026-04-20")
    # 12 leads; pace 30 × 20 / 30 = 20 → behind; projection 12 × 30 / 20 = 18.
    assert behind["target"] == {"value": 30, "pace": 20, "projection": 18, "status": "behind", "elapsed_days": 20}


def test_a_window_ending_today_counts_complete_days_only():
    for i in range(4):
        contact(f"c{i}", f"2026-04-0{1 + i} 09:00")
    target("leads", "month", "2026-04-01", 30)
    facts_rebuild()
    # On the 1st nothing is complete yet: pace 0, no projection, no status.
    first = result("leads", as_of="2026-04-01", today=dt.date(2026, 4, 1))
    assert first["target"] == {"value": 30, "pace": 0, "projection": None, "status": None, "elapsed_days": 0}
    # On the 6th, 5 complete days: pace 30 × 5 / 30 = 5, projection 4 × 30 / 5 = 24, 4 < 5 behind.
    sixth = result("leads", as_of="2026-04-06", today=dt.date(2026, 4, 6))
    assert sixth["target"] == {"value": 30, "pace": 5, "projection": 24, "status": "behind", "elapsed_days": 5}
    # The same window read the next day has 6 complete days.
    assert result("leads", as_of="2026-04-06", today=dt.date(2026, 4, 7))["target"]["elapsed_days"] == 6


def test_year_target_for_ytd_and_met_at_period_end():
    deal("d", 1000, "won", "2026-01-01 09:00", "2026-02-01 09:00")
    target("revenue", "year", "2026-01-01", 10000)
    target("revenue", "month", "2026-02-01", 900)
    facts_rebuild()
    ytd = result("revenue", window="ytd", as_of="2026-02-01")
    assert ytd["target"]["value"] == 10000.0
    assert ytd["target"]["pace"] == 876.71  # 10,000 × 32 / 365 = 876.712… to cents
    assert ytd["target"]["projection"] == 11406.25  # 1,000 × 365 / 32
    assert ytd["target"]["status"] == "ahead"  # 1000 >= 876.71
    february = result("revenue", as_of="2026-02-28")
    assert february["target"]["status"] == "met"  # the whole month: 1000 >= 900


def test_lower_is_better_metric_is_ahead_below_pace():
    from .builders import spend

    spend("s", "2026-04-02", 100)
    target("marketing_spend", "month", "2026-04-01", 3000)
    facts_rebuild()
    # pace on Apr 15: 3000 × 15 / 30 = 1500; 100 spent is ahead for a "down" metric.
    assert result("marketing_spend", as_of="2026-04-15")["target"]["status"] == "ahead"


def test_a_young_cohort_is_maturing_not_behind():
    contact("a", "2026-04-01 09:00", mql="2026-04-02 09:00")
    contact("b", "2026-04-01 09:00")
    target("lead_to_mql_rate", "month", "2026-04-01", 60)
    facts_rebuild()
    # Apr 10 − 30 days of maturity is before the window: no mature part.
    got = result("lead_to_mql_rate", as_of="2026-04-10")
    assert got["mature"] == {"numerator": 0, "denominator": 0, "value": None}
    assert got["target"] == {"value": 60.0, "pace": None, "projection": None, "status": "maturing",
                             "elapsed_days": 10}


def test_rate_target_by_the_wilson_rule():
    for i in range(100):
        deal(f"d{i}", 100, "won" if i < 25 else "lost", "2026-03-01 09:00", "2026-04-02 09:00")
    target("win_rate", "month", "2026-04-01", 35)
    facts_rebuild()
    # 25 of 100: Wilson upper bound 34.3 % < 35 %.
    got = result("win_rate", as_of="2026-04-10")
    assert (got["value"], got["target"]["status"], got["target"]["pace"]) == (25.0, "below_target", None)
    m.Deal.objects.filter(external_id="d25").update(status="won")
    facts_rebuild()
    # 26 of 100: upper bound 35.4 %: the target is inside the interval.
    assert result("win_rate", as_of="2026-04-10")["target"]["status"] == "inconclusive"


def test_a_filtered_value_is_judged_against_its_slice_target_or_none():
    spring = campaign("cp-1", "Spring")
    ann = member("ann@t.com", "Ann")
    for i in range(8):
        contact(f"b{i}", f"2026-04-0{1 + i % 5} 09:00", channel="blog", campaign=spring if i < 3 else None)
    for i in range(4):
        contact(f"e{i}", "2026-04-02 09:00", channel="email")
    deal("d1", 188900, "won", "2026-03-01 09:00", "2026-04-03 09:00", owner=ann)
    target("leads", "month", "2026-04-01", 1000)
    target("leads", "month", "2026-04-01", 20, channel="blog")
    target("leads", "month", "2026-04-01", 6, campaign=spring)
    target("revenue", "month", "2026-04-01", 698000)
    target("revenue", "month", "2026-04-01", 81000, owner=ann)
    facts_rebuild()
    blog = result("leads", filters={"channel": ["blog"]}, as_of="2026-04-10")
    # 8 blog leads against the blog's 20 (pace 20 × 10 / 30 = 6.67 → 7): ahead; never the team's 1,000.
    assert (blog["value"], blog["target"]["value"], blog["target"]["pace"], blog["target"]["status"]) == \
        (8, 20, 7, "ahead")
    assert result("leads", filters={"channel": ["email"]}, as_of="2026-04-10")["target"] is None
    assert result("leads", filters={"channel": ["blog", "email"]}, as_of="2026-04-10")["target"] is None
    assert result("leads", filters={"campaign": ["cp-1"]}, as_of="2026-04-10")["target"]["value"] == 6
    rep = result("revenue", filters={"owner": ["ann@t.com"]}, as_of="2026-04-10")
    assert (rep["value"], rep["target"]["value"]) == (188900.0, 81000.0)
    # Every breakdown row carries its own target or null; (none) has none.
    rows = {row["key"]: row["target"] for row in result("leads", dimension="channel", as_of="2026-04-10")["breakdown"]}
    assert rows["blog"]["value"] == 20 and rows["email"] is None
    by_campaign = {row["key"]: row["target"]
                   for row in result("leads", dimension="campaign", as_of="2026-04-10")["breakdown"]}
    assert by_campaign["cp-1"]["value"] == 6 and by_campaign["(none)"] is None
    assert result("leads", as_of="2026-04-10")["target"]["value"] == 1000


def test_no_target_row_means_no_target():
    facts_rebuild()
    assert result("revenue", as_of="2026-04-10")["target"] is None
    assert result("revenue", window="last_30", as_of="2026-04-10")["target"] is None


def test_leads_delivered_by_owner_uses_the_sla_unless_the_owner_has_a_row(settings):
    settings.SLA_LEADS_PER_REP_PER_MONTH = 10
    ann, bob = member("ann@t.com", "Ann"), member("bob@t.com", "Bob")
    for i in range(6):
        contact(f"a{i}", "2026-04-01 09:00", owner=ann, mql=f"2026-04-{2 + i:02d} 09:00")
    contact("b0", "2026-04-01 09:00", owner=bob, mql="2026-04-02 09:00")
    target("leads_delivered", "month", "2026-04-01", 4, owner=bob)
    facts_rebuild()
    got = result("leads_delivered", dimension="owner", as_of="2026-04-15")
    items = {item["key"]: item["target"] for item in got["breakdown"]}
    # Ann: SLA 10, pace 10 × 15 / 30 = 5, 6 delivered → ahead. Bob: his row 4, pace 2, 1 → behind.
    assert items["ann@t.com"] == {"value": 10, "pace": 5, "projection": 12, "status": "ahead", "elapsed_days": 15}
    assert items["bob@t.com"] == {"value": 4, "pace": 2, "projection": 2, "status": "behind", "elapsed_days": 15}
    # Team-wide leads_delivered has a target only from a row.
    assert got["target"] is None
    year = result("leads_delivered", dimension="owner", window="ytd", as_of="2026-04-15")
    items = {item["key"]: item["target"]["value"] for item in year["breakdown"]}
    # A year of monthly SLAs; Bob's April row replaces one of his months.
    assert items == {"ann@t.com": 120, "bob@t.com": 114}


def test_worked_target_defaults_to_the_setting_and_a_row_overrides_it(settings):
    settings.SLA_WORKED_TARGET_PCT = 80
    ann = member("ann@t.com", "Ann")
    for i in range(40):
        lead = contact(f"a{i}", "2026-04-01 09:00", mql="2026-04-02 09:00", owner=ann)
        if i < 20:
            activity(lead, "2026-04-03 09:00")
    facts_rebuild()
    got = result("leads_worked_rate", as_of="2026-04-15")
    # 20 of 40 worked, all delivered on Apr 2 (mature: on or before Apr 15 − 7): Wilson (35.2 %, 64.8 %) < 80 %.
    assert (got["target"]["value"], got["target"]["status"]) == (80.0, "below_target")
    assert got["mature"] == {"numerator": 20, "denominator": 40, "value": 50.0}
    target("leads_worked_rate", "month", "2026-04-01", 50)
    assert result("leads_worked_rate", as_of="2026-04-15")["target"]["status"] == "inconclusive"
    # A rep is judged against the setting (or his own row), never the team's row.
    rows = result("leads_worked_rate", dimension="owner", as_of="2026-04-15")["breakdown"]
    assert rows[0]["target"]["value"] == 80.0
    target("leads_worked_rate", "month", "2026-04-01", 30, owner=ann)
    rows = result("leads_worked_rate", dimension="owner", as_of="2026-04-15")["breakdown"]
    assert (rows[0]["target"]["value"], rows[0]["target"]["status"]) == (30.0, "on_target")


def test_min_attempts_setting_and_its_targets_override(settings):
    settings.SLA_MIN_ATTEMPTS = 3
    lead = contact("a", "2026-04-01 09:00", mql="2026-04-02 09:00")
    for d in (2, 3, 4):
        activity(lead, f"2026-04-{d:02d} 10:00")
    facts_rebuild()
    assert result("sla_attempt_compliance", as_of="2026-04-15")["value"] == 100.0
    target("sla_min_attempts", "month", "2026-04-01", 4)
    assert result("sla_attempt_compliance", as_of="2026-04-15")["value"] == 0.0


def test_a_page_reads_the_target_rows_of_its_periods_once():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from smarketing.kpis.selectors import reads_once

    for i in range(12):
        contact(f"c{i}", f"2026-04-{1 + i:02d} 09:00")
    target("leads", "month", "2026-04-01", 30)
    target("mqls", "month", "2026-04-01", 9)
    target("leads", "month", "2026-03-01", 5)  # the previous month's: read, not used for April
    facts_rebuild()
    alone = [result("leads", as_of="2026-04-10")["target"], result("mqls", as_of="2026-04-10")["target"]]
    with reads_once(), CaptureQueriesContext(connection) as queries:
        together = [result("leads", as_of="2026-04-10")["target"], result("mqls", as_of="2026-04-10")["target"]]
    # The same judgements, from one read of the targets of April and March (the previous period).
    assert together == alone
    assert alone[0]["value"] == 30 and alone[1]["value"] == 9
    assert sum('"funnel_target"' in query["sql"] for query in queries.captured_queries) == 1
    # Outside the block every question reads its own rows again.
    with CaptureQueriesContext(connection) as queries:
        result("leads", as_of="2026-04-10")
    assert sum('"funnel_target"' in query["sql"] for query in queries.captured_queries) == 1
