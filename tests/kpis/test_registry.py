"""The registry is the catalogue: every key once, in order, each metric backed by real facts."""

from __future__ import annotations

import pytest

from smarketing.kpis.facts import families, measure_dimensions
from smarketing.kpis.registry import (
    DIMENSIONS,
    KINDS,
    METRICS,
    UNITS,
    UnknownMetric,
    metric_get,
    target_key_valid,
)

# kpi-catalogue.md, "Metrics", every key in the order the tables list them (a public contract).
CATALOGUE_KEYS = [
    "visits", "organic_visits", "leads", "mqls", "sqls", "opportunities", "customers", "demos",
    "leads_to_nurture", "visit_to_lead_rate", "lead_to_mql_rate", "mql_to_sql_rate",
    "mql_to_opportunity_rate", "opportunity_to_customer_rate", "lead_to_customer_rate",
    "lead_to_opportunity_rate", "mql_to_demo_rate", "nurture_to_mql_rate", "revenue", "deals_won",
    "new_mrr", "average_deal_size", "win_rate", "avg_sales_cycle_days", "open_pipeline",
    "revenue_pipeline", "pipeline_velocity", "avg_days_lead_to_mql", "avg_days_mql_to_sql",
    "avg_days_sql_to_opportunity", "avg_days_opportunity_to_customer", "avg_days_lead_to_customer",
    "marketing_spend", "sales_spend", "roi", "cost_per_lead", "cost_per_mql",
    "customer_acquisition_cost", "customer_lifetime_value", "ltv_to_cac", "churn_rate", "reach",
    "content_published", "bounce_rate", "entrances", "attributed_revenue_first_touch",
    "attributed_revenue_last_touch", "attributed_revenue_linear", "account_penetration",
    "leads_delivered", "leads_worked_rate", "worked_to_connected_rate", "sla_attempt_compliance",
    "sales_calls", "sales_emails", "sales_meetings", "emails_sent", "emails_delivered",
    "delivery_rate", "open_rate", "click_rate", "click_to_open_rate", "unsubscribe_rate",
    "blog_visits", "blog_subscribers", "blog_subscriber_growth", "social_reach",
    "social_engagements", "engagement_rate", "cta_click_rate", "landing_page_conversion_rate",
    "webinar_registrations", "webinar_attendance_rate", "direct_mail_claim_rate",
    "direct_mail_meeting_rate", "content_assisted_customers", "feature_adoption_rate",
    "content_to_usage_rate", "feature_revenue", "speed_to_lead_hours", "leads_worked_on_time_rate",
    "disqualified_leads", "mql_rejection_rate", "mql_to_customer_rate", "forecast_close_rate", "leads_needed",
    "paid_impressions", "paid_clicks", "paid_click_rate", "cost_per_click",
]


def test_every_catalogue_key_once_in_catalogue_order():
    assert list(METRICS) == CATALOGUE_KEYS


def test_metric_fields_use_known_values():
    for metric in METRICS.values():
        assert metric.unit in UNITS and metric.kind in KINDS and metric.direction in ("up", "down")
        assert metric.help and metric.label
        assert set(metric.dimensions) <= set(DIMENSIONS)


def test_every_measure_is_built_by_a_family_with_the_metric_dimensions():
    built = measure_dimensions()
    for metric in METRICS.values():
        for measure in metric.measures:
            assert measure in built, (metric.key, measure)
            assert "" in built[measure], (metric.key, measure)
            # A `whole` measure is read from the total under its `whole_dims`.
            sliced = set(metric.dimensions) - (set(metric.whole_dims) if measure in metric.whole else set())
            assert sliced <= built[measure], (metric.key, measure, metric.dimensions)


def test_no_two_families_write_the_same_measure_and_dimension():
    seen: set[tuple[str, str]] = set()
    for family in families().values():
        for measure in family.measures:
            for dim in family.written_dims:
                assert (measure, dim) not in seen
                seen.add((measure, dim))


def test_unknown_metric_is_a_value_error_naming_the_key():
    with pytest.raises(UnknownMetric, match="unknown metric 'nope'") as error:
        metric_get("nope")
    assert isinstance(error.value, ValueError)
    assert metric_get("roi").label == "ROI"


def test_targets_may_name_metrics_and_the_sla_attempts_override():
    assert target_key_valid("revenue") and target_key_valid("sla_min_attempts")
    assert not target_key_valid("revenu")


def test_filter_breaks_lead_metrics_by_owner_and_nothing_else():
    from smarketing.kpis.registry import METRICS, filter_breaks

    broken = {key for key in METRICS if filter_breaks(key, "owner")}
    # owners arrive at delivery (MQL): what counts contacts at the lead or nurture stage breaks
    assert broken == {"leads", "leads_to_nurture", "lead_to_mql_rate", "lead_to_opportunity_rate",
                      "lead_to_customer_rate", "nurture_to_mql_rate"}
    assert filter_breaks("lead_to_mql_rate", "owner") == (
        "not meaningful for an owner: leads get an owner only when delivered")
    # the same metrics read fine by channel or campaign, and without a filter
    assert not any(filter_breaks(key, dimension) for key in broken for dimension in ("channel", "campaign", None))
    # delivered and later stages have owners: MQLs, SLA rates, revenue per rep keep their numbers
    assert not any(filter_breaks(key, "owner") for key in ("mqls", "leads_delivered", "leads_worked_rate",
                                                           "mql_to_sql_rate", "revenue", "sales_calls"))
