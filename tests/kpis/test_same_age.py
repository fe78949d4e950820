"""Rule 2 of "Reading the numbers": cohort rates compare with the previous cohort at the same age,
and are judged on their mature part; changes carry their significance (rule 3)."""

from __future__ import annotations

import pytest

from smarketing.kpis.selectors import kpi_values
from smarketing.kpis.services import facts_rebuild
from smarketing.kpis.windows import window_for

from .builders import activity, contact, member

pytestmark = pytest.mark.django_db


def one(metric, name="mtd", dimension=None, **window):
    return kpi_values(metrics=[metric], window=window_for(name, **window), dimension=dimension)[0]


def test_same_age_previous_at_a_month_end():
    # Mar 31's month to date compares with Feb 1–28: a February lead counts as an MQL only
    # when its MQL is dated on or before Feb 28, though the data now holds both.
    contact("feb-a", "2026-02-10 09:00", mql="2026-02-28 23:30")
    contact("feb-b", "2026-02-12 09:00", mql="2026-03-01 00:10")
    contact("feb-c", "2026-02-20 09:00")
    contact("mar-a", "2026-03-05 09:00", mql="2026-03-06 09:00")
    facts_rebuild()
    got = one("lead_to_mql_rate", as_of="2026-03-31")
    assert (got["previous"]["start"], got["previous"]["end"]) == ("2026-02-01", "2026-02-28")
    assert got["previous"]["same_age"] is True and got["previous"]["kind"] == "previous_period"
    assert (got["previous"]["numerator"], got["previous"]["denominator"]) == (1, 3)
    assert got["previous"]["value"] == pytest.approx(100 / 3, abs=1e-6)
    # As the data stands now February converted 2 of 3: the plain previous would read 66.7 %.
    feb = one("lead_to_mql_rate", as_of="2026-02-28")
    assert (feb["numerator"], feb["denominator"]) == (2, 3)


def test_same_age_previous_over_a_leap_day():
    # Mar 31, 2028's month to date compares with Feb 1–29, 2028: the 29th counts, Mar 1 not.
    contact("a", "2028-02-27 09:00", mql="2028-02-29 18:00")
    contact("b", "2028-02-28 09:00", mql="2028-03-01 08:00")
    contact("now", "2028-03-02 09:00")
    facts_rebuild()
    got = one("lead_to_mql_rate", as_of="2028-03-31")
    assert got["previous"]["end"] == "2028-02-29"
    assert (got["previous"]["numerator"], got["previous"]["denominator"], got["previous"]["value"]) == (1, 2, 50.0)
    # Mar 30, 2028 shifts back to Feb 29 too (clipped): the same count.
    assert one("lead_to_mql_rate", as_of="2028-03-30")["previous"]["numerator"] == 1


def test_sla_rates_count_attempts_dated_by_the_previous_end():
    ann = member("ann@t.com", "Ann")
    feb = contact("feb", "2026-02-01 09:00", mql="2026-02-10 09:00", owner=ann)
    for day in (11, 12, 13):
        activity(feb, f"2026-02-{day} 10:00")
    activity(feb, "2026-02-20 10:00", connected=True)  # after Feb 15: not yet at the same age
    late = contact("late", "2026-02-01 09:00", mql="2026-02-14 09:00", owner=ann)
    activity(late, "2026-02-16 10:00")  # worked only after the previous end
    contact("mar", "2026-03-01 09:00", mql="2026-03-02 09:00", owner=ann)
    facts_rebuild()
    worked = one("leads_worked_rate", as_of="2026-03-15")
    # Feb 1–15: 2 MQLs, 1 worked by Feb 15 (now both are).
    assert (worked["previous"]["numerator"], worked["previous"]["denominator"]) == (1, 2)
    connected = one("worked_to_connected_rate", as_of="2026-03-15")
    assert (connected["previous"]["numerator"], connected["previous"]["denominator"]) == (0, 1)
    compliance = one("sla_attempt_compliance", as_of="2026-03-15")
    # SLA_MIN_ATTEMPTS 5: 3 attempts by Feb 15, unconnected → a candidate, not compliant.
    assert (compliance["previous"]["numerator"], compliance["previous"]["denominator"]) == (0, 1)
    by_owner = one("leads_worked_rate", dimension="owner", as_of="2026-03-15")["breakdown"]
    assert (by_owner[0]["previous"]["numerator"], by_owner[0]["previous"]["denominator"]) == (1, 2)


def test_compliance_at_the_same_age_stops_at_the_connection(settings):
    settings.SLA_MIN_ATTEMPTS = 2
    a = contact("a", "2026-02-01 09:00", mql="2026-02-02 09:00")
    activity(a, "2026-02-03 10:00")
    activity(a, "2026-02-04 10:00")  # 2 attempts by Feb 4: compliant while unconnected
    activity(a, "2026-02-20 10:00", connected=True)
    b = contact("b", "2026-02-01 09:00", mql="2026-02-02 09:00")
    activity(b, "2026-02-03 10:00", connected=True)
    activity(b, "2026-02-05 10:00")  # connected first: never a candidate
    contact("mar", "2026-03-01 09:00", mql="2026-03-02 09:00")
    facts_rebuild()
    got = one("sla_attempt_compliance", as_of="2026-03-15")
    assert (got["previous"]["numerator"], got["previous"]["denominator"], got["previous"]["value"]) == (1, 1, 100.0)
    # As the data stands now a is connected: February has no candidate left.
    feb = one("sla_attempt_compliance", as_of="2026-02-28")
    assert (feb["numerator"], feb["denominator"]) == (0, 0)


def test_mature_part_empty_and_not_empty():
    for i in range(3):
        contact(f"early{i}", "2026-04-02 09:00", mql="2026-04-20 09:00" if i == 0 else None)
    contact("late", "2026-04-12 09:00", mql="2026-04-13 09:00")
    facts_rebuild()
    # lead → MQL matures in 30 days: on Apr 20 nothing of April is mature.
    young = one("lead_to_mql_rate", as_of="2026-04-20")
    assert young["mature"] == {"numerator": 0, "denominator": 0, "value": None}
    # MQL → SQL needs 14 days: for a window ending May 10 (as of), April 2–26 is mature.
    for i in range(2):
        contact(f"m{i}", "2026-05-01 09:00", mql="2026-05-02 09:00", sql="2026-05-09 09:00" if i else None)
    contact("young", "2026-05-01 09:00", mql="2026-05-08 09:00")
    facts_rebuild()
    got = one("mql_to_sql_rate", as_of="2026-05-20")
    # Mature: MQLs dated May 1–6 (May 20 − 14): m0, m1, 1 of 2 an SQL; the whole cohort 1 of 3.
    assert got["mature"] == {"numerator": 1, "denominator": 2, "value": 50.0}
    assert (got["numerator"], got["denominator"]) == (1, 3)


def test_change_carries_significance_and_direction():
    for i in range(100):
        contact(f"feb{i}", "2026-02-03 09:00")
    for i in range(74):
        contact(f"mar{i}", "2026-03-03 09:00")
    facts_rebuild()
    got = one("leads", as_of="2026-03-10")
    # 74 vs 100: |−26| ≥ 1.96 √174 = 25.85 and ≥ 10: significant, down.
    assert got["change"] == {"absolute": -26.0, "relative": -0.26, "significant": True, "direction": "down"}
    contact("mar74", "2026-03-03 09:00")
    facts_rebuild()
    assert one("leads", as_of="2026-03-10")["change"]["significant"] is False  # 25 < 25.93


def test_compliance_same_age_is_unknown_for_another_minimum(settings):
    import datetime as dt
    from decimal import Decimal

    from smarketing.funnel import models as m

    settings.SLA_MIN_ATTEMPTS = 2
    a = contact("a", "2026-02-01 09:00", mql="2026-02-02 09:00")
    activity(a, "2026-02-03 10:00")
    activity(a, "2026-02-04 10:00")
    contact("mar", "2026-03-01 09:00", mql="2026-03-02 09:00")
    facts_rebuild()
    assert one("sla_attempt_compliance", as_of="2026-03-15")["previous"]["value"] == 100.0
    # February's minimum becomes 3: the facts hold the 2nd attempts only, so the same-age
    # value is unknown (null), never a made-up 0 %.
    m.Target.objects.create(metric="sla_min_attempts", period="month", period_start=dt.date(2026, 2, 1),
                            value=Decimal(3))
    got = one("sla_attempt_compliance", as_of="2026-03-15")
    assert (got["previous"]["value"], got["previous"]["numerator"], got["previous"]["denominator"]) == (None, None, 1)
    assert got["change"] is None


def _rejections():
    # February, the previous period of Mar 31's month to date (Feb 1–28):
    contact("a", "2026-02-01 09:00", mql="2026-02-03 09:00", disqualified="2026-02-10 09:00", reason="no_budget")
    contact("b", "2026-02-01 09:00", mql="2026-02-05 09:00", disqualified="2026-03-02 09:00", reason="bad_timing")
    contact("c", "2026-02-01 09:00", mql="2026-02-06 09:00", disqualified="2026-02-08 09:00",
            sql="2026-03-05 09:00", reason="no_need")
    contact("d", "2026-02-01 09:00", mql="2026-02-07 09:00", disqualified="2026-02-09 09:00",
            sql="2026-02-20 09:00", reason="no_need")
    contact("e", "2026-02-01 09:00", mql="2026-02-08 09:00", sql="2026-02-09 09:00",
            disqualified="2026-02-15 09:00", reason="bad_fit")
    contact("f", "2026-02-01 09:00", mql="2026-02-10 09:00")
    # March: one mature rejection, one young one, one MQL kept.
    contact("m1", "2026-03-01 09:00", mql="2026-03-02 09:00", disqualified="2026-03-10 09:00", reason="no_budget")
    contact("m2", "2026-03-01 09:00", mql="2026-03-03 09:00")
    contact("m3", "2026-03-01 09:00", mql="2026-03-28 09:00", disqualified="2026-03-29 09:00", reason="no_budget")
    facts_rebuild()


def test_rejection_rate_previous_counts_rejections_as_they_stood_at_the_previous_end():
    _rejections()
    got = one("mql_rejection_rate", as_of="2026-03-31")
    assert got["previous"]["same_age"] is True
    # By Feb 28: a (disqualified Feb 10) and c (disqualified Feb 8, its SQL only on Mar 5) were
    # rejections; b was disqualified after the end, d became an SQL by the end, e was an SQL
    # before it was disqualified (never a rejection). 2 of 6 February MQLs.
    assert (got["previous"]["numerator"], got["previous"]["denominator"]) == (2, 6)
    assert got["previous"]["value"] == pytest.approx(100 / 3, abs=1e-6)
    # As the data stands now February reads a and b: 2 of 6 as well, by other contacts.
    feb = one("mql_rejection_rate", as_of="2026-02-28")
    assert (feb["numerator"], feb["denominator"]) == (2, 6)
    # March now: m1 and m3 of 3; the mature part (MQLs of Mar 1–24, 7 days) m1 of m1, m2.
    assert (got["numerator"], got["denominator"]) == (2, 3)
    assert got["mature"] == {"numerator": 1, "denominator": 2, "value": 50.0}


def test_rejection_rate_by_reason_keeps_the_whole_cohort_at_the_same_age():
    _rejections()
    rows = {item["key"]: item for item in one("mql_rejection_rate", dimension="disqualification_reason",
                                              as_of="2026-03-31")["breakdown"]}
    assert set(rows) == {"no_budget"}  # the only reason with a March rejection
    budget = rows["no_budget"]
    assert (budget["numerator"], budget["denominator"]) == (2, 3)
    # February by Feb 28: only a was rejected for no budget, of the 6 MQLs of the cohort.
    assert (budget["previous"]["numerator"], budget["previous"]["denominator"]) == (1, 6)
    assert budget["mature"] == {"numerator": 1, "denominator": 2, "value": 50.0}
    # Filtered to one reason, the same numbers.
    filtered = kpi_values(metrics=["mql_rejection_rate"], window=window_for("mtd", as_of="2026-03-31"),
                          filters={"disqualification_reason": ["no_budget"]})[0]
    assert (filtered["previous"]["numerator"], filtered["previous"]["denominator"]) == (1, 6)
    assert filtered["mature"] == {"numerator": 1, "denominator": 2, "value": 50.0}


def test_rejection_rate_without_a_mature_part_is_maturing():
    import datetime as dt
    from decimal import Decimal

    from smarketing.funnel import models as m

    for i in range(40):
        contact(f"x{i}", "2026-03-01 09:00", mql="2026-03-02 09:00", disqualified="2026-03-03 09:00",
                reason="no_need")
    facts_rebuild()
    m.Target.objects.create(metric="mql_rejection_rate", period="month", period_start=dt.date(2026, 3, 1),
                            value=Decimal(10))
    # On Mar 5 (complete days: 4), MQLs of Mar 2 are 3 days old: no mature part, so 100 %
    # rejected is not yet judged against the 10 % target.
    young = one("mql_rejection_rate", as_of="2026-03-05")
    assert young["mature"] == {"numerator": 0, "denominator": 0, "value": None}
    assert young["target"]["status"] == "maturing"
    # On Mar 10 they are 8 days old: 40 of 40 against at most 10 % is a real shortfall.
    assert one("mql_rejection_rate", as_of="2026-03-10")["target"]["status"] == "below_target"
