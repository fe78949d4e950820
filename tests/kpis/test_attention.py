"""The one attention list (rule 6, precise reading 7): kinds in order, each metric and slice once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from smarketing.funnel import models as m
from smarketing.kpis.attention import Watch, attention_items
from smarketing.kpis.services import facts_rebuild
from smarketing.kpis.windows import window_for

from .builders import activity, contact, deal, member

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 4, 16)


def brief(items):
    return [(i["kind"], i["metric"], i["dimension"], i["key"], i["value"], i["reference"]) for i in items]


@pytest.fixture
def april(settings):
    settings.SLA_LEADS_PER_REP_PER_MONTH = 30  # pace on Apr 15: 30 × 15 / 30 = 15
    settings.SLA_WORKED_TARGET_PCT = 90
    ann, bob = member("ann@t.com", "Ann"), member("bob@t.com", "Bob")
    member("cid@t.com", "Cid")  # in team sales, nothing delivered
    member("mia@t.com", "Mia", team="marketing")
    for i in range(10):  # Ann: 10 delivered, all worked
        lead = contact(f"a{i}", "2026-04-01 09:00", mql="2026-04-02 09:00", owner=ann)
        activity(lead, "2026-04-03 09:00")
    for i in range(40):  # Bob: 40 delivered, 10 worked
        lead = contact(f"b{i}", "2026-04-01 09:00", mql="2026-04-02 09:00", owner=bob)
        if i < 10:
            activity(lead, "2026-04-03 09:00")
    for i in range(100):  # March had 100 leads by the 15th
        contact(f"mar{i}", "2026-03-03 09:00")
    deal("won-mar", 10000, "won", "2026-02-01 09:00", "2026-03-05 09:00")
    deal("won-apr", 5000, "won", "2026-03-01 09:00", "2026-04-05 09:00")
    for metric, value in (("leads_delivered", 200), ("leads", 300)):
        m.Target.objects.create(metric=metric, period="month", period_start=dt.date(2026, 4, 1), value=Decimal(value))
    facts_rebuild()


WATCHES = [Watch("leads"), Watch("revenue"), Watch("leads_delivered", "owner"), Watch("leads_worked_rate", "owner")]


def test_items_in_rule_order_each_slice_once(april):
    items = attention_items(watches=WATCHES, window=window_for("mtd", as_of="2026-04-15"), today=TODAY)
    assert brief(items) == [
        # Marketing's side: the team's 50 delivered against a pace of 200 × 15 / 30 = 100, and each
        # rep short of 15 (Ann 10, Cid 0); Bob's 40 is ahead.
        ("sla", "leads_delivered", None, None, 50, 100),
        ("sla", "leads_delivered", "owner", "ann@t.com", 10, 15),
        ("sla", "leads_delivered", "owner", "cid@t.com", 0, 15),
        # Sales' side: 20 of 50 worked, Wilson (27.6 %, 53.8 %) < 90 %; Bob 10 of 40 (14.2 %, 40.2 %).
        # Ann's 10 of 10 is too few to judge; Cid has nothing to work.
        ("sla", "leads_worked_rate", None, None, 40.0, 90.0),
        ("sla", "leads_worked_rate", "owner", "bob@t.com", 25.0, 90.0),
        # 50 leads, pace 150, projection 50 × 30 / 15 = 100 < 95 % of 300. Its fall from 100 is
        # significant too, but a slice appears once: as its first kind.
        ("target", "leads", None, None, 50, 150),
        # Revenue 5,000 from 10,000 on the same days of March: a quarter or more.
        ("change", "revenue", None, None, 5000.0, 10000.0),
    ]
    assert "Marketing's side" in items[1]["message"] and "Ann" in items[1]["message"]
    assert "Sales' side" in items[4]["message"] and "Bob" in items[4]["message"]


def test_a_rep_short_of_leads_is_marketings_item_not_his(april):
    items = attention_items(watches=[Watch("leads_delivered", "owner"), Watch("leads_worked_rate", "owner")],
                            window=window_for("mtd", as_of="2026-04-15"), today=TODAY)
    ann = [i for i in items if i["key"] == "ann@t.com"]
    assert [(i["kind"], i["metric"]) for i in ann] == [("sla", "leads_delivered")]
    assert ann[0]["message"].startswith("Marketing's side: 10 leads delivered to Ann")
    # A marketing member is never a rep slice.
    assert not [i for i in items if i["key"] == "mia@t.com"]


def test_behind_needs_seven_days_and_a_projection_short_of_95_percent(april):
    # Apr 6: 50 leads against a pace of 300 × 6 / 30 = 60 is behind, but after 6 days only: not a
    # target item; its fall from March's 100 still is a change.
    items = attention_items(watches=[Watch("leads")], window=window_for("mtd", as_of="2026-04-06"), today=TODAY)
    assert brief(items) == [("change", "leads", None, None, 50, 100)]
    # Apr 7: pace 70, projection 50 × 30 / 7 = 214 < 285: flagged against the pace.
    items = attention_items(watches=[Watch("leads")], window=window_for("mtd", as_of="2026-04-07"), today=TODAY)
    assert brief(items) == [("target", "leads", None, None, 50, 70)]


def test_funnel_step_and_its_repeat(settings):
    for i in range(100):
        contact(f"mar{i}", "2026-03-02 09:00", mql="2026-03-03 09:00" if i < 60 else None)
        contact(f"apr{i}", "2026-04-02 09:00", mql="2026-04-03 09:00" if i < 20 else None)
    facts_rebuild()
    window = window_for("mtd", as_of="2026-04-15")
    # Lead → MQL fell from 60 % to 20 % at the same age: z = −5.8, a two-thirds fall.
    items = attention_items(watches=[Watch("leads")], window=window, funnel_step=True, today=TODAY)
    assert brief(items) == [("funnel", "lead_to_mql_rate", None, None, 20.0, 60.0)]
    assert items[0]["message"].startswith("Weakest funnel step, leads → mqls")
    # Shown as a tile too, it is a change item first and the funnel item is dropped.
    items = attention_items(watches=[Watch("lead_to_mql_rate")], window=window, funnel_step=True, today=TODAY)
    assert brief(items) == [("change", "lead_to_mql_rate", None, None, 20.0, 60.0)]
