"""Targets, pace and projection (catalogue "Targets and pace") and the SLA settings' overrides."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from smarketing.funnel import models as m
from smarketing.kpis.selectors import kpi_values
from smarketing.kpis.services import facts_rebuild
from smarketing.kpis.windows import window_for

from .builders import activity, contact, deal, member

pytestmark = pytest.mark.django_db


def target(metric, period, start, value, owner=None):
    m.Target.objects.create(metric=metric, period=period, period_start=dt.date.fromisoformat(start),
                            value=Decimal(str(value)), owner=owner)


def result(metric, dimension=None, **window):
    name = window.pop("window", "mtd")
    return kpi_values(metrics=[metric], window=window_for(name, **window), dimension=dimension)[0]


def test_count_target_pace_and_projection_mid_month():
    for i in range(12):
        contact(f"c{i}", f"2026-04-{1 + i:02d} 09:00")
    target("leads", "month", "2026-04-01", 30)
    facts_rebuild()
    got = result("leads", as_of="2026-04-10")
    # 10 leads by Apr 10; pace 30 × 10 / 30 = 10 → at pace = ahead; projection 10 × 30 / 10 = 30.
    assert got["value"] == 10
    assert got["target"] == {"value": 30, "pace": 10, "projection": 30, "status": "ahead"}
    behind = result("leads", as_of="2026-04-20")
    # 12 leads; pace 30 × 20 / 30 = 20 → behind; projection 12 × 30 / 20 = 18.
    assert behind["target"] == {"value": 30, "pace": 20, "projection": 18, "status": "behind"}


def test_year_target_for_ytd_and_met_at_period_end():
    deal("d", 1000, "won", "2026-01-01 09:00", "2026-02-01 09:00")
    target("revenue", "year", "2026-01-01", 10000)
    target("revenue", "month", "2026-02-01", 900)
    facts_rebuild()
    ytd = result("revenue", window="ytd", as_of="2026-02-01")
    assert ytd["target"]["value"] == 10000.0
    assert ytd["target"]["pace"] == pytest.approx(10000 * 32 / 365)
    assert ytd["target"]["status"] == "ahead"  # 1000 >= 876.7
    february = result("revenue", as_of="2026-02-28")
    assert february["target"]["status"] == "met"  # the whole month: 1000 >= 900


def test_lower_is_better_metric_is_ahead_below_pace():
    from .builders import spend

    spend("s", "2026-04-02", 100)
    target("marketing_spend", "month", "2026-04-01", 3000)
    facts_rebuild()
    # pace on Apr 15: 3000 × 15 / 30 = 1500; 100 spent is ahead for a "down" metric.
    assert result("marketing_spend", as_of="2026-04-15")["target"]["status"] == "ahead"


def test_rate_target_compares_directly_without_pace():
    contact("a", "2026-04-01 09:00", mql="2026-04-02 09:00")
    contact("b", "2026-04-01 09:00")
    target("lead_to_mql_rate", "month", "2026-04-01", 60)
    facts_rebuild()
    got = result("lead_to_mql_rate", as_of="2026-04-10")
    assert got["target"] == {"value": 60.0, "pace": None, "projection": None, "status": "behind"}


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
    assert items["ann@t.com"] == {"value": 10, "pace": 5, "projection": 12, "status": "ahead"}
    assert items["bob@t.com"] == {"value": 4, "pace": 2, "projection": 2, "status": "behind"}
    year = result("leads_delivered", dimension="owner", window="ytd", as_of="2026-04-15")
    items = {item["key"]: item["target"]["value"] for item in year["breakdown"]}
    # A year of monthly SLAs; Bob's April row replaces one of his months.
    assert items == {"ann@t.com": 120, "bob@t.com": 114}


def test_worked_target_defaults_to_the_setting_and_a_row_overrides_it(settings):
    settings.SLA_WORKED_TARGET_PCT = 80
    lead = contact("a", "2026-04-01 09:00", mql="2026-04-02 09:00")
    contact("b", "2026-04-01 09:00", mql="2026-04-02 09:00")
    activity(lead, "2026-04-03 09:00")
    facts_rebuild()
    assert result("leads_worked_rate", as_of="2026-04-15")["target"]["value"] == 80.0
    assert result("leads_worked_rate", as_of="2026-04-15")["target"]["status"] == "behind"  # 50 < 80
    target("leads_worked_rate", "month", "2026-04-01", 50)
    assert result("leads_worked_rate", as_of="2026-04-15")["target"]["status"] == "ahead"


def test_min_attempts_setting_and_its_targets_override(settings):
    settings.SLA_MIN_ATTEMPTS = 3
    lead = contact("a", "2026-04-01 09:00", mql="2026-04-02 09:00")
    for d in (2, 3, 4):
        activity(lead, f"2026-04-{d:02d} 10:00")
    facts_rebuild()
    assert result("sla_attempt_compliance", as_of="2026-04-15")["value"] == 100.0
    target("sla_min_attempts", "month", "2026-04-01", 4)
    assert result("sla_attempt_compliance", as_of="2026-04-15")["value"] == 0.0
