"""The dashboards as data: every catalogue dashboard, in catalogue order, with its metrics."""

from __future__ import annotations

import pytest

from smarketing.dashboards.layouts import DASHBOARDS, Panel, dashboard_get
from smarketing.funnel.models import Role

CATALOGUE_ORDER = [
    "shared", "executive", "email_marketing", "blog", "sales_enablement", "social_media",
    "product_marketing", "conversion_optimization", "campaigns", "sales_manager", "channels",
]


def test_every_catalogue_dashboard_is_laid_out_in_catalogue_order():
    assert list(DASHBOARDS) == CATALOGUE_ORDER


def test_every_team_member_role_has_a_dashboard():
    assert set(Role.values) == set(DASHBOARDS)


def test_dashboard_get_raises_key_error_naming_the_known_keys():
    assert dashboard_get("blog").title == "Blog"
    with pytest.raises(KeyError, match="shared"):
        dashboard_get("nope")


def test_shared_shows_the_twelve_seed_metrics_and_the_sla_by_owner_mtd_next_to_ytd():
    shared = dashboard_get("shared")
    tiles = shared.panels[0]
    assert tiles.kind == "tiles"
    assert tiles.metrics == (
        "reach", "leads", "revenue_pipeline", "revenue", "visit_to_lead_rate", "lead_to_mql_rate",
        "leads_worked_rate", "worked_to_connected_rate", "mql_to_opportunity_rate",
        "opportunity_to_customer_rate", "lead_to_customer_rate", "average_deal_size",
    )
    sla = [panel for panel in shared.panels if panel.kind == "sla"]
    assert len(sla) == 1 and sla[0].dimension == "owner"
    assert {"leads_delivered", "sla_attempt_compliance"} <= set(sla[0].metrics)
    assert shared.side_by_side == ("mtd", "ytd")
    assert any(panel.kind == "funnel" for panel in shared.panels)


def _panels_with(key: str, metric: str) -> list[Panel]:
    return [panel for panel in dashboard_get(key).panels if metric in panel.metrics]


def test_email_marketing_counts_mqls_opportunities_and_pipeline_from_email_only():
    for metric in ("mqls", "opportunities", "open_pipeline"):
        panels = _panels_with("email_marketing", metric)
        assert panels and all(panel.filters == {"channel": ("email",)} for panel in panels)
    assert _panels_with("email_marketing", "demos")[0].filters is None


def test_social_media_counts_leads_from_social_and_paid_social():
    (panel,) = _panels_with("social_media", "leads")
    assert panel.filters == {"channel": ("social", "paid_social")}
    assert panel.filters_for_query == {"channel": ["social", "paid_social"]}


def test_blog_counts_leads_from_the_blog():
    (panel,) = _panels_with("blog", "leads")
    assert panel.filters == {"channel": ("blog",)}


@pytest.mark.parametrize(
    ("key", "metric", "dimension"),
    [
        ("executive", "attributed_revenue_linear", "channel"),
        ("sales_enablement", "opportunity_to_customer_rate", "owner"),
        ("sales_enablement", "content_assisted_customers", "content"),
        ("product_marketing", "feature_adoption_rate", "feature"),
        ("product_marketing", "feature_revenue", "feature"),
        ("conversion_optimization", "cta_click_rate", "placement"),
        ("conversion_optimization", "entrances", "page"),
        ("campaigns", "leads", "campaign"),
        ("campaigns", "landing_page_conversion_rate", "source"),
        ("campaigns", "lead_to_opportunity_rate", "campaign"),
        ("campaigns", "cost_per_lead", "campaign"),
        ("sales_manager", "leads_delivered", "owner"),
        ("sales_manager", "revenue", "owner"),
        ("sales_manager", "deals_won", "owner"),
        ("sales_manager", "sales_meetings", "owner"),
        ("channels", "cost_per_mql", "channel"),
        ("channels", "mql_to_demo_rate", "channel"),
    ],
)
def test_catalogue_breakdowns_are_present(key, metric, dimension):
    assert dimension in {panel.dimension for panel in _panels_with(key, metric)}


@pytest.mark.parametrize(
    ("key", "metrics"),
    [
        ("executive", ["roi", "revenue", "marketing_spend", "cost_per_lead", "customer_acquisition_cost",
                       "customer_lifetime_value", "ltv_to_cac", "churn_rate", "pipeline_velocity",
                       "avg_days_lead_to_mql", "avg_days_opportunity_to_customer", "visits", "customers"]),
        ("email_marketing", ["delivery_rate", "open_rate", "click_rate", "click_to_open_rate",
                             "unsubscribe_rate", "leads_to_nurture", "nurture_to_mql_rate",
                             "mql_to_demo_rate"]),
        ("blog", ["blog_visits", "blog_subscribers", "blog_subscriber_growth", "content_published"]),
        ("social_media", ["social_reach", "social_engagements", "engagement_rate"]),
        ("product_marketing", ["content_to_usage_rate"]),
        ("conversion_optimization", ["organic_visits", "visit_to_lead_rate", "lead_to_customer_rate",
                                     "landing_page_conversion_rate", "bounce_rate"]),
        ("campaigns", ["lead_to_mql_rate", "webinar_registrations", "webinar_attendance_rate",
                       "direct_mail_claim_rate", "direct_mail_meeting_rate"]),
        ("sales_manager", ["new_mrr", "sales_calls", "sales_emails", "leads_worked_rate",
                           "sla_attempt_compliance"]),
        ("channels", ["account_penetration", "leads", "lead_to_mql_rate", "cost_per_lead"]),
    ],
)
def test_each_dashboard_shows_its_catalogue_metrics(key, metrics):
    shown = set(dashboard_get(key).metrics)
    assert set(metrics) <= shown, set(metrics) - shown


def test_breakdown_and_sla_panels_need_a_dimension():
    with pytest.raises(ValueError, match="dimension"):
        Panel("breakdown", "x", ("leads",))
    with pytest.raises(ValueError, match="kind"):
        Panel("pie", "x", ("leads",))


def test_every_panel_metric_is_in_the_registry_and_carries_the_panel_dimension_and_filter():
    from smarketing.kpis.registry import METRICS

    for dashboard in DASHBOARDS.values():
        for panel in dashboard.panels:
            for key in panel.metrics:
                metric = METRICS[key]
                if panel.dimension:
                    assert panel.dimension in metric.dimensions, (dashboard.key, key, panel.dimension)
                for name in panel.filters or {}:
                    assert name in metric.dimensions, (dashboard.key, key, name)
