"""Which metrics and charts each dashboard shows, as data (kpi-catalogue.md, Dashboards).

The web views and the email digest both render these, in this order, so a dashboard
reads the same in the browser and in the inbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

PANEL_KINDS = ("tiles", "funnel", "breakdown", "sla", "velocity", "series")

FUNNEL_METRICS = ("visits", "leads", "mqls", "sqls", "opportunities", "customers")
VELOCITY_METRICS = (
    "avg_days_lead_to_mql",
    "avg_days_mql_to_sql",
    "avg_days_sql_to_opportunity",
    "avg_days_opportunity_to_customer",
    "avg_days_lead_to_customer",
)
# leads delivered per rep vs the SLA line, % worked vs SLA_WORKED_TARGET_PCT, attempt compliance
SLA_METRICS = ("leads_delivered", "leads_worked_rate", "sla_attempt_compliance")
# The sales SLA's frequency beside how much of it is met (first attempt within SLA_FIRST_ATTEMPT_HOURS).
SALES_SLA_METRICS = ("leads_worked_rate", "leads_worked_on_time_rate", "speed_to_lead_hours", "sla_attempt_compliance")
# Close rates by type of lead: the window's cohorts and the mature MQL → customer rate.
LEAD_TYPE_METRICS = ("leads", "lead_to_mql_rate", "mql_to_customer_rate", "lead_to_customer_rate", "forecast_close_rate")
REJECTION_METRICS = ("mql_rejection_rate", "disqualified_leads")
PAID_METRICS = ("paid_impressions", "paid_clicks", "paid_click_rate", "cost_per_click")
CLOSED_LOOP_METRICS = ("attributed_revenue_linear", "attributed_revenue_first_touch", "attributed_revenue_last_touch")
SEED_METRICS = (
    "reach",
    "leads",
    "revenue_pipeline",
    "revenue",
    "visit_to_lead_rate",
    "lead_to_mql_rate",
    "leads_worked_rate",
    "worked_to_connected_rate",
    "mql_to_opportunity_rate",
    "opportunity_to_customer_rate",
    "lead_to_customer_rate",
    "average_deal_size",
)


@dataclass(frozen=True)
class Panel:
    kind: str  # one of PANEL_KINDS
    title: str
    metrics: tuple[str, ...]
    dimension: str | None = None
    filters: dict[str, tuple[str, ...]] | None = None  # e.g. {"channel": ("email",)}
    # A breakdown of cohort rates read on their mature part only (the cohorts old enough to have
    # converted, "Reading the numbers" rule 2), with the counts behind each rate.
    mature: bool = False
    # Own boards only: a window the panel always shows whatever the reader picks ("ytd"),
    # and its width in thirds of a row; None keeps the role dashboards' automatic layout.
    window: str | None = None
    width: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in PANEL_KINDS:
            raise ValueError(f"panel kind {self.kind!r}: use one of {', '.join(PANEL_KINDS)}")
        if self.kind in ("breakdown", "sla") and not self.dimension:
            raise ValueError(f"a {self.kind} panel needs a dimension ({self.title!r})")

    @property
    def filters_for_query(self) -> dict[str, list[str]] | None:
        """The panel's filters in the shape kpi_values takes (lists, not tuples)."""
        if not self.filters:
            return None
        return {name: list(values) for name, values in self.filters.items()}


@dataclass(frozen=True)
class Dashboard:
    key: str
    title: str
    description: str
    panels: tuple[Panel, ...]
    # Windows shown side by side in each tile (the shared view: detailed and high level
    # at once); empty = the one window the reader picked.
    side_by_side: tuple[str, ...] = field(default=())

    @property
    def metrics(self) -> tuple[str, ...]:
        """Every metric the dashboard shows, first appearance order, no repeats."""
        seen: dict[str, None] = {}
        for panel in self.panels:
            for key in panel.metrics:
                seen.setdefault(key, None)
        return tuple(seen)


def _dashboards() -> tuple[Dashboard, ...]:
    email = {"channel": ("email",)}
    social = {"channel": ("social", "paid_social")}
    blog = {"channel": ("blog",)}
    return (
        Dashboard(
            key="shared",
            title=_("Shared sales & marketing"),
            description=_("The twelve metrics sales and marketing agreed on, the lead handover SLA "
            "and the funnel, month to date next to year to date."),
            side_by_side=("mtd", "ytd"),
            panels=(
                Panel("tiles", _("The agreed metrics"), SEED_METRICS),
                Panel("sla", _("Lead handover SLA by rep"), SLA_METRICS, dimension="owner"),
                Panel("breakdown", _("Sales SLA by rep: worked, first attempt within 24 h, speed to lead"),
                      SALES_SLA_METRICS, dimension="owner"),
                Panel("breakdown", _("Why MQLs are rejected"), REJECTION_METRICS, dimension="disqualification_reason"),
                Panel("funnel", _("Funnel vs the previous period"), FUNNEL_METRICS),
                Panel("series", _("Leads and MQLs over time"), ("leads", "mqls")),
            ),
        ),
        Dashboard(
            key="executive",
            title=_("Executive"),
            description=_("Return on spend, acquisition cost and lifetime value, pipeline "
            "velocity, how fast leads move and which channels earn the revenue."),
            panels=(
                Panel(
                    "tiles",
                    _("Business health"),
                    (
                        "roi",
                        "revenue",
                        "marketing_spend",
                        "cost_per_lead",
                        "customer_acquisition_cost",
                        "customer_lifetime_value",
                        "ltv_to_cac",
                        "churn_rate",
                        "pipeline_velocity",
                    ),
                ),
                Panel("velocity", _("Stage velocity (days between stages)"), VELOCITY_METRICS),
                Panel(
                    "breakdown",
                    _("Attributed revenue by channel"),
                    (
                        "attributed_revenue_first_touch",
                        "attributed_revenue_last_touch",
                        "attributed_revenue_linear",
                    ),
                    dimension="channel",
                ),
                Panel("funnel", _("Funnel"), FUNNEL_METRICS),
                Panel("series", _("Revenue and marketing spend over time"), ("revenue", "marketing_spend")),
            ),
        ),
        Dashboard(
            key="email_marketing",
            title=_("Email marketing"),
            description=_("Delivery and engagement of the sends, nurture, and the pipeline that "
            "email brings in."),
            panels=(
                Panel(
                    "tiles",
                    _("Delivery and engagement"),
                    ("delivery_rate", "open_rate", "click_rate", "click_to_open_rate", "unsubscribe_rate"),
                ),
                Panel("tiles", _("Nurture"), ("leads_to_nurture", "nurture_to_mql_rate")),
                Panel("tiles", _("MQLs from email"), ("mqls",), filters=email),
                Panel("tiles", _("Demos"), ("demos", "mql_to_demo_rate")),
                Panel("tiles", _("Pipeline from email"), ("opportunities", "open_pipeline"), filters=email),
                Panel("breakdown", _("Engagement by email type"), ("open_rate", "click_rate"), dimension="email_type"),
                Panel("series", _("Open and click rate over time"), ("open_rate", "click_rate")),
            ),
        ),
        Dashboard(
            key="blog",
            title=_("Blog"),
            description=_("Readers, subscribers, what was published and the leads the blog brings."),
            panels=(
                Panel("tiles", _("Blog visits"), ("blog_visits",)),
                Panel("tiles", _("Leads from the blog"), ("leads",), filters=blog),
                Panel(
                    "tiles",
                    _("Subscribers and publishing"),
                    ("blog_subscribers", "blog_subscriber_growth", "content_published"),
                ),
                Panel("series", _("Blog visits over time"), ("blog_visits",)),
                Panel("breakdown", _("Revenue by content (closed loop)"), CLOSED_LOOP_METRICS, dimension="content"),
            ),
        ),
        Dashboard(
            key="sales_enablement",
            title=_("Sales enablement"),
            description=_("How leads become customers, by rep, and which content helps close."),
            panels=(
                Panel(
                    "tiles",
                    _("Conversion"),
                    ("lead_to_customer_rate", "opportunity_to_customer_rate", "content_assisted_customers"),
                ),
                Panel(
                    "breakdown",
                    _("Opportunity → customer by rep"),
                    ("opportunity_to_customer_rate",),
                    dimension="owner",
                ),
                Panel(
                    "breakdown",
                    _("Customers assisted, by content"),
                    ("content_assisted_customers",),
                    dimension="content",
                ),
                Panel("breakdown", _("Close rates by offer (type of lead)"), LEAD_TYPE_METRICS, dimension="offer",
                      mature=True),
                Panel("breakdown", _("Close rates by industry"), LEAD_TYPE_METRICS, dimension="industry",
                      mature=True),
                Panel("breakdown", _("Revenue by content (closed loop)"), CLOSED_LOOP_METRICS, dimension="content"),
            ),
        ),
        Dashboard(
            key="social_media",
            title=_("Social media"),
            description=_("Audience, engagement and the leads social brings in."),
            panels=(
                Panel("tiles", _("Audience"), ("social_reach",)),
                Panel("tiles", _("Leads from social and paid social"), ("leads",), filters=social),
                Panel("tiles", _("Engagement"), ("social_engagements", "engagement_rate")),
                Panel("breakdown", _("Engagement rate by network"), ("engagement_rate",), dimension="network"),
                Panel("series", _("Engagements over time"), ("social_engagements",)),
                Panel("tiles", _("Paid social media"), (*PAID_METRICS, "cost_per_lead", "cost_per_mql"),
                      filters={"channel": ("paid_social",)}),
            ),
        ),
        Dashboard(
            key="product_marketing",
            title=_("Product marketing"),
            description=_("Feature adoption, content that drives usage, and upgrade revenue per feature."),
            panels=(
                Panel(
                    "tiles",
                    _("Adoption"),
                    ("feature_adoption_rate", "content_to_usage_rate", "feature_revenue"),
                ),
                Panel("breakdown", _("Adoption by feature"), ("feature_adoption_rate",), dimension="feature"),
                Panel("breakdown", _("Feature revenue by feature"), ("feature_revenue",), dimension="feature"),
            ),
        ),
        Dashboard(
            key="conversion_optimization",
            title=_("Conversion optimization"),
            description=_("Traffic, the rates that turn it into leads and customers, calls to "
            "action, landing pages and entry pages."),
            panels=(
                Panel(
                    "tiles",
                    _("Conversion"),
                    (
                        "organic_visits",
                        "visit_to_lead_rate",
                        "lead_to_customer_rate",
                        "cta_click_rate",
                        "landing_page_conversion_rate",
                        "bounce_rate",
                    ),
                ),
                Panel("breakdown", _("CTA click rate by placement"), ("cta_click_rate",), dimension="placement"),
                Panel("breakdown", _("Top entry pages"), ("entrances",), dimension="page"),
                Panel("series", _("Visit → lead rate over time"), ("visit_to_lead_rate",)),
            ),
        ),
        Dashboard(
            key="campaigns",
            title=_("Campaigns"),
            description=_("Leads, conversion and cost per campaign, landing pages by source, "
            "webinars and direct mail."),
            panels=(
                Panel("breakdown", _("Leads by campaign"), ("leads",), dimension="campaign"),
                Panel(
                    "breakdown",
                    _("Landing page conversion by source"),
                    ("landing_page_conversion_rate",),
                    dimension="source",
                ),
                Panel(
                    "breakdown",
                    _("Conversion by campaign"),
                    ("lead_to_mql_rate", "lead_to_opportunity_rate", "lead_to_customer_rate"),
                    dimension="campaign",
                ),
                Panel("breakdown", _("Cost per lead by campaign"), ("cost_per_lead",), dimension="campaign"),
                Panel("breakdown", _("Revenue, ROI and CAC by campaign (closed loop)"),
                      ("attributed_revenue_linear", "roi", "customer_acquisition_cost"), dimension="campaign"),
                Panel("breakdown", _("Why MQLs are rejected"), REJECTION_METRICS, dimension="disqualification_reason"),
                Panel("breakdown", _("MQL rejection by campaign"), REJECTION_METRICS, dimension="campaign"),
                Panel("breakdown", _("Close rates by offer (type of lead)"), LEAD_TYPE_METRICS, dimension="offer",
                      mature=True),
                Panel("breakdown", _("Close rates by industry"), LEAD_TYPE_METRICS, dimension="industry",
                      mature=True),
                Panel(
                    "tiles",
                    _("Webinars and direct mail"),
                    (
                        "webinar_registrations",
                        "webinar_attendance_rate",
                        "direct_mail_claim_rate",
                        "direct_mail_meeting_rate",
                    ),
                ),
            ),
        ),
        Dashboard(
            key="sales_manager",
            title=_("Sales manager"),
            description=_("Lead handover SLA, revenue and deals against quota, and each rep's activity."),
            panels=(
                Panel("sla", _("Lead handover SLA by rep"), SLA_METRICS, dimension="owner"),
                Panel("breakdown", _("Marketing SLA: leads delivered vs leads needed from quota"),
                      ("leads_delivered", "leads_needed"), dimension="owner"),
                Panel("breakdown", _("Sales SLA by rep: worked, first attempt within 24 h, speed to lead"),
                      SALES_SLA_METRICS, dimension="owner"),
                Panel("tiles", _("Bookings"), ("revenue", "deals_won", "new_mrr")),
                Panel("breakdown", _("Revenue by rep vs quota"), ("revenue",), dimension="owner"),
                Panel("breakdown", _("Deals won by rep vs quota"), ("deals_won",), dimension="owner"),
                Panel(
                    "breakdown",
                    _("Sales activity by rep"),
                    ("sales_calls", "sales_emails", "sales_meetings"),
                    dimension="owner",
                ),
            ),
        ),
        Dashboard(
            key="channels",
            title=_("Channels"),
            description=_("Per channel: leads, conversion to MQL and demo, cost per lead and per "
            "MQL; and how far into the target accounts we reach."),
            panels=(
                Panel(
                    "tiles",
                    _("All channels"),
                    ("leads", "lead_to_mql_rate", "cost_per_lead", "cost_per_mql", "mql_to_demo_rate", "account_penetration"),
                ),
                Panel(
                    "breakdown",
                    _("Per channel"),
                    ("leads", "lead_to_mql_rate", "cost_per_lead", "cost_per_mql", "mql_to_demo_rate"),
                    dimension="channel",
                ),
                Panel("breakdown", _("Paid media by channel"), (*PAID_METRICS, "cost_per_lead", "cost_per_mql"),
                      dimension="channel"),
                Panel("breakdown", _("Paid media by campaign"), (*PAID_METRICS, "cost_per_lead", "cost_per_mql"),
                      dimension="campaign"),
                Panel("breakdown", _("Close rates by offer (type of lead)"), LEAD_TYPE_METRICS, dimension="offer",
                      mature=True),
                Panel("breakdown", _("Close rates by industry"), LEAD_TYPE_METRICS, dimension="industry",
                      mature=True),
            ),
        ),
    )


DASHBOARDS: dict[str, Dashboard] = {dashboard.key: dashboard for dashboard in _dashboards()}


def dashboard_get(key: str) -> Dashboard:
    """The dashboard with that role key; KeyError (naming the known keys) otherwise."""
    try:
        return DASHBOARDS[key]
    except KeyError:
        raise KeyError(f"unknown dashboard {key!r}: use one of {', '.join(DASHBOARDS)}") from None
