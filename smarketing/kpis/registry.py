"""The one registry of metrics: every kpi-catalogue.md key, declared once, in catalogue order.

A metric names the fact measures it reads (`flow` summed over the window, `cum` summed
over all days up to the window end = a stock, `before` summed up to the day before the
window start, `year` summed over the 365 days ending at the window end, `forecast` summed
over the mature cohort days `[end − 484, end − 120]`) and a `compute`
that turns those sums into (value, numerator, denominator). Everything else — query,
API, dashboards, digests, targets — looks metrics up here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from typing import Protocol

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

UNITS = ("count", "percent", "currency", "days", "hours", "ratio", "currency_per_day")
KINDS = ("flow", "stock", "cohort", "ratio", "average", "derived")

CONTACT_DIMS = ("channel", "campaign", "owner", "industry", "offer")
DISQUALIFIED_DIMS = (*CONTACT_DIMS, "disqualification_reason")
DEAL_DIMS = ("owner", "channel", "campaign")
ACTIVITY_DIMS = ("owner", "activity_type")
SPEND_DIMS = ("channel", "campaign")
WEB_DIMS = ("source", "section", "page")
LANDING_DIMS = ("source", "page", "campaign")
EMAIL_DIMS = ("email_type", "campaign")
ATTRIBUTION_DIMS = ("channel", "campaign", "content")

DIMENSIONS = (
    "channel",
    "campaign",
    "owner",
    "activity_type",
    "source",
    "section",
    "page",
    "placement",
    "network",
    "email_type",
    "feature",
    "content",
    "industry",
    "offer",
    "disqualification_reason",
)
NONE_KEY = "(none)"
# The names people read for the dimensions (keys stay English: they are the API's).
DIMENSION_LABELS = {
    "channel": _("Channel"), "campaign": _("Campaign"), "owner": _("Rep"), "activity_type": _("Activity"),
    "source": _("Source"), "section": _("Section"), "page": _("Page"), "placement": _("Placement"),
    "network": _("Network"), "email_type": _("Email type"), "feature": _("Feature"), "content": _("Content"),
    "industry": _("Industry"), "offer": _("Offer (type of lead)"), "disqualification_reason": _("Reason"),
}

# Targets may also carry this key: it overrides SLA_MIN_ATTEMPTS for its period.
SLA_MIN_ATTEMPTS_KEY = "sla_min_attempts"
# The cohort `forecast` sums read: leads or MQLs old enough to have closed (days before the end).
FORECAST_MATURITY_DAYS = 120
FORECAST_SPAN_DAYS = 365
# What `leads_needed` divides: the revenue target of the window's period (`Sums.setting`).
REVENUE_TARGET = "REVENUE_TARGET"


class UnknownMetric(ValueError):
    """A metric key that the catalogue does not define."""


class Sums(Protocol):
    """What a metric's compute reads: fact sums for one window and one breakdown key."""

    def flow(self, measure: str) -> float: ...
    def cum(self, measure: str) -> float: ...
    def before(self, measure: str) -> float: ...
    def year(self, measure: str) -> float: ...
    def forecast(self, measure: str) -> float: ...
    def flow_from_bucket(self, measure: str, bucket: int) -> float: ...
    def setting(self, name: str) -> float | None: ...


class AgedSums(Protocol):
    """What a same-age compute reads: the previous window's flows, and conversions dated on or
    before its end (`by_end`; `by_end_n` for the events of the n-th SLA attempt)."""

    def flow(self, measure: str) -> float: ...
    def by_end(self, measure: str) -> float: ...
    def by_end_n(self, measure: str, number: int) -> float | None: ...
    def setting(self, name: str) -> float: ...


Result = tuple[float | None, float | None, float | None]


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    direction: str
    kind: str
    help: str
    dimensions: tuple[str, ...]
    measures: tuple[str, ...] = ()
    flow: tuple[str, ...] = ()
    cum: tuple[str, ...] = ()
    before: tuple[str, ...] = ()
    year: tuple[str, ...] = ()
    forecast: tuple[str, ...] = ()
    # Broken down (or filtered) by one of `whole_dims`, these measures are read from the
    # unsliced total: each reason's rejection rate keeps the whole MQL cohort as denominator.
    whole_dims: tuple[str, ...] = ()
    whole: tuple[str, ...] = ()
    compute: Callable[[Sums], Result] = field(default=lambda s: (None, None, None), repr=False, compare=False)
    # Same-age metrics (rule 2): the lag measures they read and how the previous period's
    # cohort is computed as it stood at the previous window's end.
    lags: tuple[str, ...] = ()
    aged: Callable[[AgedSums], Result] | None = field(default=None, repr=False, compare=False)

    @property
    def is_rate(self) -> bool:
        """Rates (percent, ratio, days, per-day) compare with a target directly, no pace."""
        return self.unit not in ("count", "currency")


def _div(numerator: float | None, denominator: float | None, scale: float = 1.0) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator * scale


def _metric(key: str, label: str, unit: str, kind: str, help: str, dimensions: tuple[str, ...],
            compute: Callable[[Sums], Result], *, direction: str = "up", flow: tuple[str, ...] = (),
            cum: tuple[str, ...] = (), before: tuple[str, ...] = (), year: tuple[str, ...] = (),
            forecast: tuple[str, ...] = (), whole_dims: tuple[str, ...] = (),
            whole: tuple[str, ...] = ()) -> Metric:
    measures = tuple(dict.fromkeys((*flow, *cum, *before, *year, *forecast)))
    return Metric(key=key, label=label, unit=unit, direction=direction, kind=kind, help=help,
                  dimensions=dimensions, measures=measures, flow=flow, cum=cum, before=before,
                  year=year, forecast=forecast, whole_dims=whole_dims, whole=whole, compute=compute)


def flow_sum(key: str, label: str, measure: str, dimensions: tuple[str, ...], help: str, *,
             unit: str = "count", direction: str = "up") -> Metric:
    return _metric(key, label, unit, "flow", help, dimensions,
                   lambda s: (s.flow(measure), None, None), direction=direction, flow=(measure,))


def ratio(key: str, label: str, numerator: str, denominator: str, dimensions: tuple[str, ...],
          help: str, *, kind: str = "ratio", unit: str = "percent", direction: str = "up") -> Metric:
    scale = 100.0 if unit == "percent" else 1.0

    def compute(s: Sums) -> Result:
        n, d = s.flow(numerator), s.flow(denominator)
        return _div(n, d, scale), n, d

    return _metric(key, label, unit, kind, help, dimensions, compute, direction=direction,
                   flow=(numerator, denominator))


def _aged_ratio(numerator: Callable[[AgedSums], float], denominator: Callable[[AgedSums], float]):
    def aged(s: AgedSums) -> Result:
        n, d = numerator(s), denominator(s)
        return _div(n, d, 100.0), n, d

    return aged


def _same_age(metric: Metric, lags: tuple[str, ...], aged: Callable[[AgedSums], Result]) -> Metric:
    return replace(metric, lags=lags, aged=aged)


def cohort(key: str, label: str, a: str, b: str, a_label: str, b_label: str) -> Metric:
    metric = ratio(key, label, f"coh_{a}_{b}", f"entered_{a}", CONTACT_DIMS,
                   format_lazy(_("Of the contacts who became {a} in the window, the share that has "
                                 "become {b} (as the data stands now, also after the window)."),
                               a=a_label, b=b_label),
                   kind="cohort")
    lag = f"lag_{a}_{b}"
    return _same_age(metric, (lag,), _aged_ratio(lambda s: s.by_end(lag), lambda s: s.flow(f"entered_{a}")))


def average(key: str, label: str, total: str, count: str, dimensions: tuple[str, ...], help: str,
            *, direction: str = "down", unit: str = "days") -> Metric:
    return _metric(key, label, unit, "average", help, dimensions,
                   lambda s: (_div(s.flow(total), s.flow(count)), None, None),
                   direction=direction, flow=(total, count))


# --- compute functions of the metrics that are not a plain sum or ratio -----------------


def _roi(s: Sums) -> Result:
    spend = s.flow("marketing_spend")
    gain = s.flow("revenue") - spend
    return _div(gain, spend, 100.0), gain, spend


def _cac(s: Sums) -> Result:
    spend = s.flow("marketing_spend") + s.flow("sales_spend")
    customers = s.flow("entered_customer")
    return _div(spend, customers), spend, customers


def _open_pipeline(s: Sums) -> Result:
    return s.cum("open_amount_in") - s.cum("open_amount_out"), None, None


def _customer_lifetime_value(s: Sums) -> float | None:
    return _div(s.cum("clv_revenue") * s.setting("GROSS_MARGIN"), s.cum("entered_customer"))


def _clv(s: Sums) -> Result:
    return _customer_lifetime_value(s), None, None


def _ltv_to_cac(s: Sums) -> Result:
    ltv = _customer_lifetime_value(s)
    cac = _cac(s)[0]
    return _div(ltv, cac), ltv, cac


def _revenue_pipeline(s: Sums) -> Result:
    leads = s.flow("entered_lead")
    # The mature close rate: young leads that have not had time to close would bias it low.
    rate = _div(s.forecast("coh_lead_customer"), s.forecast("entered_lead"))
    size = _div(s.year("revenue"), s.year("deals_won"))
    if rate is None or size is None:
        return None, None, None
    return leads * rate * size, None, None


def _pipeline_velocity(s: Sums) -> Result:
    open_deals = s.cum("open_count_in") - s.cum("open_count_out")
    size = _div(s.flow("revenue"), s.flow("deals_won"))
    win = _div(s.flow("deals_won"), s.flow("deals_won") + s.flow("deals_lost"))
    cycle = _div(s.flow("cycle_days_total"), s.flow("deals_won"))
    if size is None or win is None or cycle is None or cycle == 0:
        return None, None, None
    return open_deals * size * win / cycle, None, None


def _win_rate(s: Sums) -> Result:
    won, lost = s.flow("deals_won"), s.flow("deals_lost")
    return _div(won, won + lost, 100.0), won, won + lost


def _churn_rate(s: Sums) -> Result:
    churned = s.flow("entered_churned")
    base = s.before("entered_customer") - s.before("churned_customers")
    return _div(churned, base, 100.0), churned, base


def _stock(measure: str) -> Callable[[Sums], Result]:
    return lambda s: (s.cum(measure), None, None)


def _blog_subscribers(s: Sums) -> Result:
    if s.cum("blog_subscriber_readings") == 0:
        return None, None, None
    return s.cum("blog_subscribers_delta"), None, None


def _blog_subscriber_growth(s: Sums) -> Result:
    return s.cum("blog_subscribers_delta") - s.before("blog_subscribers_delta"), None, None


def _account_penetration(s: Sums) -> Result:
    hit, accounts = s.cum("accounts_penetrated"), s.cum("target_accounts")
    return _div(hit, accounts, 100.0), hit, accounts


def _feature_adoption(s: Sums) -> Result:
    activated, total = s.cum("feature_activated_delta"), s.cum("feature_total_delta")
    return _div(activated, total, 100.0), activated, total


def _mql_rejection_rate(s: Sums) -> Result:
    rejected, mqls = s.flow("coh_mql_rejected"), s.flow("entered_mql")
    return _div(rejected, mqls, 100.0), rejected, mqls


def _forecast_close_rate(s: Sums) -> Result:
    customers, mqls = s.forecast("coh_mql_customer"), s.forecast("entered_mql")
    return _div(customers, mqls, 100.0), customers, mqls


def _exact(value: float) -> Fraction:
    # Sums of cents and counts, read as the decimals they were written as.
    return Fraction(Decimal(repr(value)))


def _leads_needed(s: Sums) -> Result:
    """ceil(target ÷ (close rate × deal size)) = ceil(target × mqls × deals ÷ (customers × revenue))."""
    target = s.setting(REVENUE_TARGET)
    customers, mqls = s.forecast("coh_mql_customer"), s.forecast("entered_mql")
    revenue, deals = s.year("revenue"), s.year("deals_won")
    if target is None or not customers or not mqls or not revenue or not deals:
        return None, None, None
    needed = _exact(target) * _exact(mqls) * _exact(deals) / (_exact(customers) * _exact(revenue))
    return float(math.ceil(needed)), None, None


def _sla_attempt_compliance(s: Sums) -> Result:
    candidates = s.flow("sla_worked_not_connected")
    compliant = s.flow_from_bucket("sla_worked_not_connected", int(s.setting("SLA_MIN_ATTEMPTS")))
    return _div(compliant, candidates, 100.0), compliant, candidates


MAX_ATTEMPTS_BUCKET = 100  # facts.MAX_BUCKET: a minimum above it reads as 100


def _worked_by_end(s: AgedSums) -> float:
    return s.by_end("sla_worked_lag")


def _connected_by_end(s: AgedSums) -> float:
    return s.by_end("sla_connected_lag")


def _aged_attempt_compliance(s: AgedSums) -> Result:
    # Worked and not connected by the end; of those, the ones whose n-th attempt came by the
    # end while still unconnected (an n-th attempt event that a connection has not stopped).
    number = min(max(int(s.setting("SLA_MIN_ATTEMPTS")), 1), MAX_ATTEMPTS_BUCKET)
    candidates = _worked_by_end(s) - _connected_by_end(s)
    start, stop = s.by_end_n("sla_nth_start", number), s.by_end_n("sla_nth_stop", number)
    if start is None or stop is None:
        return None, None, candidates
    compliant = start - stop
    return _div(compliant, candidates, 100.0), compliant, candidates


def _declare() -> tuple[Metric, ...]:
    c = CONTACT_DIMS
    return (
        # --- Funnel and company-wide -------------------------------------------------
        flow_sum("visits", _("Visits"), "visits", WEB_DIMS, _("Sum of web-traffic visits dated in the window.")),
        flow_sum("organic_visits", _("Organic visits"), "organic_visits", WEB_DIMS,
                 _("Sum of web-traffic visits from organic search dated in the window.")),
        flow_sum("leads", _("Leads"), "entered_lead", c, _("Contacts whose lead date is in the window.")),
        flow_sum("mqls", _("MQLs"), "entered_mql", c, _("Contacts who became an MQL in the window.")),
        flow_sum("sqls", _("SQLs"), "entered_sql", c, _("Contacts who became an SQL in the window.")),
        flow_sum("opportunities", _("Opportunities"), "entered_opportunity", c,
                 _("Contacts who became an opportunity in the window.")),
        flow_sum("customers", _("Customers"), "entered_customer", c,
                 _("Contacts who became a customer in the window.")),
        flow_sum("demos", _("Demos"), "entered_demo", c, _("Contacts who had a demo in the window.")),
        flow_sum("leads_to_nurture", _("Leads to nurture"), "entered_nurture", c,
                 _("Contacts moved to nurture in the window.")),
        ratio("visit_to_lead_rate", _("Visit → lead"), "entered_lead", "visits", (),
              _("Leads in the window divided by web visits in the window.")),
        cohort("lead_to_mql_rate", _("Lead → MQL"), "lead", "mql", _("leads"), _("an MQL")),
        cohort("mql_to_sql_rate", _("MQL → SQL"), "mql", "sql", _("MQLs"), _("an SQL")),
        cohort("mql_to_opportunity_rate", _("MQL → opportunity"), "mql", "opportunity", _("MQLs"),
               _("an opportunity")),
        cohort("opportunity_to_customer_rate", _("Opportunity → customer"), "opportunity", "customer",
               _("opportunities"), _("a customer")),
        cohort("lead_to_customer_rate", _("Lead → customer"), "lead", "customer", _("leads"), _("a customer")),
        cohort("lead_to_opportunity_rate", _("Lead → opportunity"), "lead", "opportunity", _("leads"),
               _("an opportunity")),
        cohort("mql_to_demo_rate", _("MQL → demo"), "mql", "demo", _("MQLs"), _("a demo")),
        cohort("nurture_to_mql_rate", _("Nurture → MQL"), "nurture", "mql", _("nurtured leads"), _("an MQL")),
        flow_sum("revenue", _("Revenue"), "revenue", DEAL_DIMS,
                 _("Sum of the amounts of won deals closed in the window."), unit="currency"),
        flow_sum("deals_won", _("Deals won"), "deals_won", DEAL_DIMS, _("Won deals closed in the window.")),
        flow_sum("new_mrr", _("New MRR"), "new_mrr", DEAL_DIMS,
                 _("Sum of the MRR of won deals closed in the window."), unit="currency"),
        ratio("average_deal_size", _("Average deal size"), "revenue", "deals_won", DEAL_DIMS,
              _("Revenue divided by the number of won deals, deals closed in the window."),
              unit="currency"),
        _metric("win_rate", _("Win rate"), "percent", "ratio",
                _("Won deals divided by won plus lost deals, deals closed in the window."), DEAL_DIMS,
                _win_rate, flow=("deals_won", "deals_lost")),
        average("avg_sales_cycle_days", _("Average sales cycle"), "cycle_days_total", "deals_won",
                DEAL_DIMS, _("Mean days from creation to close of the won deals closed in the window.")),
        _metric("open_pipeline", _("Open pipeline"), "currency", "stock",
                _("Sum of the amounts of deals created on or before the window end that were still "
                "open at its end."), DEAL_DIMS, _open_pipeline,
                cum=("open_amount_in", "open_amount_out", "open_count_in", "open_count_out")),
        _metric("revenue_pipeline", _("Revenue pipeline"), "currency", "derived",
                _("Leads in the window × mature lead → customer rate (leads of the 365 days ending 120 days "
                "before the window end, old enough to have closed) × average deal size over the 365 days "
                "ending at the window end."), ("channel", "campaign"), _revenue_pipeline,
                flow=("entered_lead",), year=("revenue", "deals_won"),
                forecast=("entered_lead", "coh_lead_customer")),
        _metric("pipeline_velocity", _("Pipeline velocity"), "currency_per_day", "derived",
                _("Open deals at the window end × average deal size × win rate ÷ average sales cycle "
                "(days), the last three over the window."), DEAL_DIMS, _pipeline_velocity,
                flow=("revenue", "deals_won", "deals_lost", "cycle_days_total"),
                cum=("open_count_in", "open_count_out")),
        average("avg_days_lead_to_mql", _("Days lead → MQL"), "days_lead_mql_total", "days_lead_mql_count",
                c, _("Mean days from lead to MQL of the contacts who became an MQL in the window.")),
        average("avg_days_mql_to_sql", _("Days MQL → SQL"), "days_mql_sql_total", "days_mql_sql_count",
                c, _("Mean days from MQL to SQL of the contacts who became an SQL in the window.")),
        average("avg_days_sql_to_opportunity", _("Days SQL → opportunity"), "days_sql_opportunity_total",
                "days_sql_opportunity_count", c,
                _("Mean days from SQL to opportunity of the contacts who became an opportunity in the "
                "window.")),
        average("avg_days_opportunity_to_customer", _("Days opportunity → customer"),
                "days_opportunity_customer_total", "days_opportunity_customer_count", c,
                _("Mean days from opportunity to customer of the contacts who became a customer in the "
                "window.")),
        average("avg_days_lead_to_customer", _("Days lead → customer"), "days_lead_customer_total",
                "days_lead_customer_count", c,
                _("Mean days from lead to customer of the contacts who became a customer in the window.")),
        flow_sum("marketing_spend", _("Marketing spend"), "marketing_spend", SPEND_DIMS,
                 _("Sum of marketing spend dated in the window."), unit="currency", direction="down"),
        flow_sum("sales_spend", _("Sales spend"), "sales_spend", SPEND_DIMS,
                 _("Sum of sales spend dated in the window."), unit="currency", direction="down"),
        _metric("roi", _("ROI"), "percent", "ratio",
                _("(Revenue − marketing spend) ÷ marketing spend, both in the window."), SPEND_DIMS, _roi,
                flow=("revenue", "marketing_spend")),
        ratio("cost_per_lead", _("Cost per lead"), "marketing_spend", "entered_lead", SPEND_DIMS,
              _("Marketing spend in the window ÷ leads in the window."), unit="currency", direction="down"),
        ratio("cost_per_mql", _("Cost per MQL"), "marketing_spend", "entered_mql", SPEND_DIMS,
              _("Marketing spend in the window ÷ MQLs in the window."), unit="currency", direction="down"),
        _metric("customer_acquisition_cost", _("Customer acquisition cost"), "currency", "ratio",
                _("(Marketing + sales spend) ÷ new customers, all in the window."), SPEND_DIMS, _cac,
                direction="down", flow=("marketing_spend", "sales_spend", "entered_customer")),
        _metric("customer_lifetime_value", _("Customer lifetime value"), "currency", "stock",
                _("Gross margin × (won revenue of every customer up to the window end + won revenue "
                "of the contacts they referred) ÷ number of those customers."), c, _clv,
                cum=("clv_revenue", "entered_customer")),
        _metric("ltv_to_cac", _("LTV : CAC"), "ratio", "derived",
                _("Customer lifetime value ÷ customer acquisition cost."), SPEND_DIMS, _ltv_to_cac,
                flow=("marketing_spend", "sales_spend", "entered_customer"),
                cum=("clv_revenue", "entered_customer")),
        _metric("churn_rate", _("Churn rate"), "percent", "ratio",
                _("Contacts who churned in the window ÷ customers before the window start who had not "
                "churned before it."), c, _churn_rate, direction="down", flow=("entered_churned",),
                before=("entered_customer", "churned_customers")),
        _metric("reach", _("Reach"), "count", "stock",
                _("Sum over audience channels of each channel's latest size on or before the window end."),
                (), _stock("reach_delta"), cum=("reach_delta",)),
        flow_sum("content_published", _("Content published"), "content_published", ("campaign", "content"),
                 _("Content items published in the window.")),
        ratio("bounce_rate", _("Bounce rate"), "bounces", "entrances", WEB_DIMS,
              _("Bounces ÷ entrances, web traffic in the window."), direction="down"),
        flow_sum("entrances", _("Entrances"), "entrances", WEB_DIMS,
                 _("Sum of web-traffic entrances in the window (by page: the top entry pages).")),
        flow_sum("attributed_revenue_first_touch", _("Revenue, first touch"), "attr_first",
                 ATTRIBUTION_DIMS, _("Revenue of won deals closed in the window, all credited to the "
                 "contact's earliest touch at or before the close (else its source channel)."),
                 unit="currency"),
        flow_sum("attributed_revenue_last_touch", _("Revenue, last touch"), "attr_last",
                 ATTRIBUTION_DIMS, _("Revenue of won deals closed in the window, all credited to the "
                 "contact's latest touch at or before the close (else its source channel)."),
                 unit="currency"),
        flow_sum("attributed_revenue_linear", _("Revenue, linear"), "attr_linear",
                 ATTRIBUTION_DIMS, _("Revenue of won deals closed in the window, split equally over the "
                 "contact's touches at or before the close (else its source channel)."),
                 unit="currency"),
        _metric("account_penetration", _("Account penetration"), "percent", "stock",
                _("Target accounts with at least one lead on or before the window end whose email domain "
                "is the account's ÷ target accounts."), (), _account_penetration,
                cum=("accounts_penetrated", "target_accounts")),
        # --- Sales handover and SLA ----------------------------------------------------
        flow_sum("leads_delivered", _("Leads delivered"), "entered_mql", c,
                 _("Leads delivered to sales (became an MQL) in the window.")),
        _same_age(ratio("leads_worked_rate", _("Leads worked"), "sla_worked", "entered_mql", c,
                        _("Of the leads delivered in the window, the share with at least one sales activity "
                        "at or after delivery (any time since)."), kind="cohort"),
                  ("sla_worked_lag",), _aged_ratio(_worked_by_end, lambda s: s.flow("entered_mql"))),
        _same_age(ratio("worked_to_connected_rate", _("Worked → connected"), "sla_connected", "sla_worked", c,
                        _("Of the leads delivered in the window and worked, the share with a connected "
                        "activity at or after delivery."), kind="cohort"),
                  ("sla_worked_lag", "sla_connected_lag"), _aged_ratio(_connected_by_end, _worked_by_end)),
        _same_age(_metric("sla_attempt_compliance", _("SLA attempt compliance"), "percent", "cohort",
                          _("Of the leads delivered in the window that were worked but never connected, the "
                          "share with at least the SLA's minimum number of attempts."), c,
                          _sla_attempt_compliance, flow=("sla_worked_not_connected",)),
                  ("sla_worked_lag", "sla_connected_lag", "sla_nth_start", "sla_nth_stop"),
                  _aged_attempt_compliance),
        flow_sum("sales_calls", _("Sales calls"), "activity_call", ACTIVITY_DIMS,
                 _("Call activities in the window.")),
        flow_sum("sales_emails", _("Sales emails"), "activity_email", ACTIVITY_DIMS,
                 _("Email activities in the window.")),
        flow_sum("sales_meetings", _("Sales meetings"), "activity_meeting", ACTIVITY_DIMS,
                 _("Meeting activities in the window.")),
        # --- Channels --------------------------------------------------------------------
        flow_sum("emails_sent", _("Emails sent"), "email_sent", EMAIL_DIMS,
                 _("Sum of sent of the email sends in the window.")),
        flow_sum("emails_delivered", _("Emails delivered"), "email_delivered", EMAIL_DIMS,
                 _("Sum of delivered of the email sends in the window.")),
        ratio("delivery_rate", _("Delivery rate"), "email_delivered", "email_sent", EMAIL_DIMS,
              _("Delivered ÷ sent, email sends in the window.")),
        ratio("open_rate", _("Open rate"), "email_opens", "email_delivered", EMAIL_DIMS,
              _("Unique opens ÷ delivered, email sends in the window.")),
        ratio("click_rate", _("Click rate"), "email_clicks", "email_delivered", EMAIL_DIMS,
              _("Unique clicks ÷ delivered, email sends in the window.")),
        ratio("click_to_open_rate", _("Click-to-open rate"), "email_clicks", "email_opens", EMAIL_DIMS,
              _("Unique clicks ÷ unique opens, email sends in the window.")),
        ratio("unsubscribe_rate", _("Unsubscribe rate"), "email_unsubscribes", "email_delivered",
              EMAIL_DIMS, _("Unsubscribes ÷ delivered, email sends in the window."), direction="down"),
        flow_sum("blog_visits", _("Blog visits"), "blog_visits", WEB_DIMS,
                 _("Sum of visits to blog pages in the window.")),
        _metric("blog_subscribers", _("Blog subscribers"), "count", "stock",
                _("The latest blog-subscriber reading on or before the window end."), (),
                _blog_subscribers, cum=("blog_subscribers_delta", "blog_subscriber_readings")),
        _metric("blog_subscriber_growth", _("Blog subscriber growth"), "count", "derived",
                _("Blog subscribers at the window end − the latest reading before its start (0 if none)."),
                (), _blog_subscriber_growth, cum=("blog_subscribers_delta",),
                before=("blog_subscribers_delta",)),
        _metric("social_reach", _("Social reach"), "count", "stock",
                _("Sum of the latest sizes of the social audience channels on or before the window end."),
                ("network",), _stock("social_reach_delta"), cum=("social_reach_delta",)),
        flow_sum("social_engagements", _("Social engagements"), "social_engagements", ("network",),
                 _("Sum of social engagements in the window.")),
        ratio("engagement_rate", _("Engagement rate"), "social_engagements", "social_impressions",
              ("network",), _("Engagements ÷ impressions, social stats in the window.")),
        ratio("cta_click_rate", _("CTA click rate"), "cta_clicks", "cta_views", ("placement",),
              _("CTA clicks ÷ CTA views in the window.")),
        ratio("landing_page_conversion_rate", _("Landing page conversion"), "landing_submissions",
              "landing_views", LANDING_DIMS, _("Landing-page submissions ÷ views in the window.")),
        flow_sum("webinar_registrations", _("Webinar registrations"), "webinar_registrants",
                 ("campaign",), _("Sum of registrants of the webinars held in the window.")),
        ratio("webinar_attendance_rate", _("Webinar attendance"), "webinar_attendees",
              "webinar_registrants", ("campaign",),
              _("Attendees ÷ registrants of the webinars held in the window.")),
        ratio("direct_mail_claim_rate", _("Direct mail claim rate"), "mail_claimed", "mail_sent",
              ("campaign",), _("Claimed ÷ sent of the direct mail sent in the window.")),
        ratio("direct_mail_meeting_rate", _("Direct mail meeting rate"), "mail_meetings", "mail_sent",
              ("campaign",), _("Meetings booked ÷ sent of the direct mail sent in the window.")),
        flow_sum("content_assisted_customers", _("Content-assisted customers"), "content_assisted",
                 (*c, "content"), _("Contacts who became a customer in the window with at least one "
                 "content touch at or before that moment (by content: each item touched).")),
        _metric("feature_adoption_rate", _("Feature adoption"), "percent", "stock",
                _("Σ customers activated ÷ Σ customers total over each feature's latest reading on or "
                "before the window end."), ("feature",), _feature_adoption,
                cum=("feature_activated_delta", "feature_total_delta")),
        ratio("content_to_usage_rate", _("Content → usage"), "feature_readers_activated",
              "feature_content_readers", ("feature",),
              _("Readers activated ÷ content readers, feature usage in the window.")),
        flow_sum("feature_revenue", _("Feature revenue"), "feature_upgrade_revenue", ("feature",),
                 _("Sum of upgrade revenue in the window."), unit="currency"),
        # --- Handover quality, lead types and paid media --------------------------------
        average("speed_to_lead_hours", _("Speed to lead"), "sla_speed_hours_total", "sla_worked", c,
                _("Of the leads delivered in the window that sales attempted, the mean hours from delivery "
                "(MQL) to the first attempt."), unit="hours"),
        _same_age(ratio("leads_worked_on_time_rate", _("Worked on time"), "sla_on_time", "entered_mql", c,
                        _("Of the leads delivered in the window, the share whose first sales attempt came at "
                        "most SLA_FIRST_ATTEMPT_HOURS (24 by default) hours after delivery; leads never "
                        "attempted count as late."), kind="cohort"),
                  ("sla_on_time_lag",),
                  _aged_ratio(lambda s: s.by_end("sla_on_time_lag"), lambda s: s.flow("entered_mql"))),
        flow_sum("disqualified_leads", _("Disqualified leads"), "entered_disqualified", DISQUALIFIED_DIMS,
                 _("Contacts ruled out (disqualified) in the window, whatever their stage."), direction="down"),
        _same_age(_metric("mql_rejection_rate", _("MQL rejection rate"), "percent", "cohort",
                          _("Of the contacts who became an MQL in the window, the share sales rejected: "
                          "disqualified (at any time) without becoming an SQL. By reason, each row divides by "
                          "the whole cohort, so the rows add up to the total."), DISQUALIFIED_DIMS,
                          _mql_rejection_rate, direction="down", flow=("coh_mql_rejected", "entered_mql"),
                          whole_dims=("disqualification_reason",), whole=("entered_mql",)),
                  ("lag_mql_rejected",),
                  _aged_ratio(lambda s: s.by_end("lag_mql_rejected"), lambda s: s.flow("entered_mql"))),
        cohort("mql_to_customer_rate", _("MQL → customer"), "mql", "customer", _("MQLs"), _("a customer")),
        _metric("forecast_close_rate", _("Forecast close rate"), "percent", "cohort",
                _("MQL → customer rate of the mature cohort: contacts who became an MQL in the 365 days "
                "ending 120 days before the window end (old enough to have closed)."), c,
                _forecast_close_rate, forecast=("coh_mql_customer", "entered_mql")),
        _metric("leads_needed", _("Leads needed"), "count", "derived",
                _("The marketing SLA from quota: the revenue target of the window's month, quarter or year "
                "÷ (forecast close rate × average deal size of the 365 days ending at the window end), "
                "rounded up; by owner from each rep's own revenue target, rate and deal size."),
                ("owner",), _leads_needed, year=("revenue", "deals_won"),
                forecast=("coh_mql_customer", "entered_mql")),
        flow_sum("paid_impressions", _("Paid impressions"), "paid_impressions", SPEND_DIMS,
                 _("Sum of the impressions of the spend rows dated in the window.")),
        flow_sum("paid_clicks", _("Paid clicks"), "paid_clicks", SPEND_DIMS,
                 _("Sum of the clicks of the spend rows dated in the window.")),
        ratio("paid_click_rate", _("Paid click rate"), "paid_rate_clicks", "paid_rate_impressions", SPEND_DIMS,
              _("Clicks ÷ impressions over the spend rows in the window that carry both.")),
        ratio("cost_per_click", _("Cost per click"), "paid_click_cost", "paid_clicks", SPEND_DIMS,
              _("Spend ÷ clicks over the spend rows in the window that carry clicks."), unit="currency",
              direction="down"),
    )


METRICS: dict[str, Metric] = {metric.key: metric for metric in _declare()}


def metric_get(key: str) -> Metric:
    try:
        return METRICS[key]
    except KeyError:
        raise UnknownMetric(
            f"unknown metric {key!r}: use one of the catalogue keys ({', '.join(METRICS)})"
        ) from None


def target_key_valid(key: str) -> bool:
    """What a `targets.metric` may name: a metric key, or the SLA minimum-attempts override."""
    return key in METRICS or key == SLA_MIN_ATTEMPTS_KEY


# --- filters that break a metric's meaning (catalogue, reading the numbers 7) ----------------

# A contact gets its owner when it is delivered, which is when it becomes an MQL. Counted
# by owner, a stage before delivery holds only the contacts that went on to be delivered:
# "leads of rep X" are her MQLs, and a lead → MQL rate by owner reads 100 %.
_BEFORE_DELIVERY = ("entered_lead", "entered_nurture")
_BROKEN_BY = {"owner": (_BEFORE_DELIVERY,
                        _("not meaningful for an owner: leads get an owner only when delivered"))}


def filter_breaks(metric: str | Metric, dimension: str | None) -> str | None:
    """Why `metric` filtered or broken down by `dimension` would mislead, or None when it reads fine.

    The one place the rule lives: a metric of contacts that counts a stage before delivery
    (its numerator or denominator reads `entered_lead` / `entered_nurture`) has no meaning
    per owner.
    """
    if dimension is None:
        return None
    resolved = metric if isinstance(metric, Metric) else metric_get(metric)
    rule = _BROKEN_BY.get(dimension)
    if rule is None or dimension not in resolved.dimensions:
        return None
    measures, reason = rule
    return str(reason) if any(measure in resolved.flow for measure in measures) else None
