"""Which imported resources (data-contract.md names) feed each metric, beside the registry.

The dashboards' empty states use it to say what to import.
"""

from __future__ import annotations

from collections.abc import Iterable

_CONTACT_METRICS = (
    "leads", "mqls", "sqls", "opportunities", "customers", "demos", "leads_to_nurture",
    "lead_to_mql_rate", "mql_to_sql_rate", "mql_to_opportunity_rate", "opportunity_to_customer_rate",
    "lead_to_customer_rate", "lead_to_opportunity_rate", "mql_to_demo_rate", "nurture_to_mql_rate",
    "avg_days_lead_to_mql", "avg_days_mql_to_sql", "avg_days_sql_to_opportunity",
    "avg_days_opportunity_to_customer", "avg_days_lead_to_customer", "churn_rate", "leads_delivered",
    "disqualified_leads", "mql_rejection_rate", "mql_to_customer_rate", "forecast_close_rate",
)
_DEAL_METRICS = (
    "revenue", "deals_won", "new_mrr", "average_deal_size", "win_rate", "avg_sales_cycle_days",
    "open_pipeline", "pipeline_velocity",
)
_ACTIVITY_METRICS = (
    "leads_worked_rate", "worked_to_connected_rate", "sla_attempt_compliance", "sales_calls",
    "sales_emails", "sales_meetings", "speed_to_lead_hours", "leads_worked_on_time_rate",
)
_EMAIL_METRICS = (
    "emails_sent", "emails_delivered", "delivery_rate", "open_rate", "click_rate",
    "click_to_open_rate", "unsubscribe_rate",
)

METRIC_SOURCES: dict[str, tuple[str, ...]] = {
    **{key: ("contacts",) for key in _CONTACT_METRICS},
    **{key: ("deals",) for key in _DEAL_METRICS},
    **{key: ("contacts", "activities") for key in _ACTIVITY_METRICS},
    **{key: ("email_sends",) for key in _EMAIL_METRICS},
    "visits": ("web_traffic",),
    "organic_visits": ("web_traffic",),
    "blog_visits": ("web_traffic",),
    "bounce_rate": ("web_traffic",),
    "entrances": ("web_traffic",),
    "visit_to_lead_rate": ("web_traffic", "contacts"),
    "revenue_pipeline": ("contacts", "deals"),
    "leads_needed": ("contacts", "deals", "targets"),
    "paid_impressions": ("spend",),
    "paid_clicks": ("spend",),
    "paid_click_rate": ("spend",),
    "cost_per_click": ("spend",),
    "marketing_spend": ("spend",),
    "sales_spend": ("spend",),
    "roi": ("deals", "spend"),
    "cost_per_lead": ("spend", "contacts"),
    "cost_per_mql": ("spend", "contacts"),
    "customer_acquisition_cost": ("spend", "contacts"),
    "customer_lifetime_value": ("contacts", "deals"),
    "ltv_to_cac": ("contacts", "deals", "spend"),
    "reach": ("audience",),
    "blog_subscribers": ("audience",),
    "blog_subscriber_growth": ("audience",),
    "social_reach": ("audience",),
    "social_engagements": ("social_stats",),
    "engagement_rate": ("social_stats",),
    "content_published": ("content",),
    "cta_click_rate": ("cta_stats",),
    "landing_page_conversion_rate": ("landing_pages",),
    "webinar_registrations": ("webinars",),
    "webinar_attendance_rate": ("webinars",),
    "direct_mail_claim_rate": ("direct_mail",),
    "direct_mail_meeting_rate": ("direct_mail",),
    "attributed_revenue_first_touch": ("deals", "touches"),
    "attributed_revenue_last_touch": ("deals", "touches"),
    "attributed_revenue_linear": ("deals", "touches"),
    "content_assisted_customers": ("contacts", "touches", "content"),
    "feature_adoption_rate": ("feature_usage",),
    "content_to_usage_rate": ("feature_usage",),
    "feature_revenue": ("feature_usage",),
    "account_penetration": ("target_accounts", "contacts"),
}


def sources_for(metrics: Iterable[str]) -> list[str]:
    """The resources behind these metrics, first-use order, no repeats."""
    found: dict[str, None] = {}
    for metric in metrics:
        for resource in METRIC_SOURCES.get(metric, ()):
            found.setdefault(resource, None)
    return list(found)
