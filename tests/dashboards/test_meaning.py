"""Rule 7 on the page and in the digest: a breakdown or filter that breaks a metric blanks it and says why."""

from __future__ import annotations

from smarketing.dashboards.selectors import blank_not_meaningful, not_meaningful

REASON = "not meaningful for an owner: leads get an owner only when delivered"


def _result(metric, value, breakdown=None, filtered=True):
    return {"metric": metric, "label": metric, "unit": "percent", "value": value, "numerator": 1, "denominator": 1,
            "target": {"value": 33.0}, "filtered": filtered, "breakdown": breakdown or []}


def test_a_breakdown_by_owner_blanks_lead_cohort_rates_and_keeps_the_rows():
    rows = [{"key": "ann@x", "label": "Ann", "value": 100.0, "numerator": 2, "denominator": 2}]
    lead, worked = blank_not_meaningful([_result("lead_to_mql_rate", 100.0, rows), _result("leads_worked_rate", 50.0, rows)],
                                        dimension="owner", filters=None)
    assert lead["not_meaningful"] == REASON
    assert (lead["value"], lead["target"], lead["breakdown"][0]["value"], lead["breakdown"][0]["label"]) == (
        None, None, None, "Ann")
    # an SLA rate per rep is what the breakdown is for: untouched
    assert worked["value"] == 50.0 and "not_meaningful" not in worked


def test_an_owner_filter_blanks_only_what_it_filtered():
    (lead,) = blank_not_meaningful([_result("leads", 7)], dimension=None, filters={"owner": ["ann@x"]})
    assert (lead["value"], lead["not_meaningful"]) == (None, REASON)
    # a panel that could not apply the filter (shown unfiltered) keeps its number
    (visits,) = blank_not_meaningful([_result("leads", 7, filtered=False)], dimension=None,
                                     filters={"owner": ["ann@x"]})
    assert visits["value"] == 7
    assert not_meaningful("leads", {"channel": ["email"]}) is None
    assert not_meaningful("leads", None) is None
