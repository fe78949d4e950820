"""The records behind a number: for drill-down pages and CSV export.

Each metric names one source of records (the records its window counts, or for a ratio
the records of its main side), filtered by the window and optionally one dimension.
The rows are a lazy QuerySet of dicts, ordered for paging.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet

from smarketing.funnel import models as funnel

from .registry import FORECAST_MATURITY_DAYS, FORECAST_SPAN_DAYS, NONE_KEY, Metric
from .windows import Window


def forecast_range(end: dt.date) -> tuple[dt.date, dt.date]:
    """The days of the mature cohort a forecast close rate reads: 365 days ending 120 days before `end`."""
    last = end - dt.timedelta(days=FORECAST_MATURITY_DAYS)
    return last - dt.timedelta(days=FORECAST_SPAN_DAYS - 1), last


@dataclass
class RecordSet:
    columns: list[tuple[str, str]]
    rows: QuerySet = field(repr=False)

    def count(self) -> int:
        return self.rows.count()


CONTACT_LOOKUPS = {"channel": "source_channel", "campaign": "campaign__external_id", "owner": "owner__email",
                   "industry": "industry", "offer": "offer", "disqualification_reason": "disqualification_reason"}
# Text columns whose `(none)` key is the empty string, not NULL.
BLANK_NONE = ("email_type", "industry", "offer", "disqualification_reason")
DEAL_LOOKUPS = {"owner": "owner__email", "channel": "contact__source_channel",
                "campaign": "contact__campaign__external_id", "content": "contact__touches__content__external_id"}
CONTACT_COLUMNS = [
    ("external_id", "ID"), ("email", "Email"), ("company", "Company"), ("industry", "Industry"),
    ("offer", "Offer"), ("source_channel", "Channel"), ("campaign__name", "Campaign"), ("owner__name", "Owner"),
    ("lead_at", "Lead"), ("nurture_at", "Nurture"), ("mql_at", "MQL"), ("demo_at", "Demo"), ("sql_at", "SQL"),
    ("opportunity_at", "Opportunity"), ("customer_at", "Customer"), ("churned_at", "Churned"),
    ("disqualified_at", "Disqualified"), ("disqualification_reason", "Reason"),
]
DEAL_COLUMNS = [
    ("external_id", "ID"), ("name", "Name"), ("contact__external_id", "Contact"), ("owner__name", "Owner"),
    ("amount", "Amount"), ("mrr", "MRR"), ("status", "Status"), ("created_at", "Created"), ("closed_at", "Closed"),
]


@dataclass(frozen=True)
class Source:
    model: type
    columns: list[tuple[str, str]]
    lookups: dict[str, str]
    order: tuple[str, ...]
    day_field: str | None = None  # records whose day falls in the window
    extra: Q = field(default_factory=Q)
    stock_field: str | None = None  # records on or before the window end


def _contacts(stage: str) -> Source:
    return Source(funnel.Contact, CONTACT_COLUMNS, CONTACT_LOOKUPS, (f"-{stage}_at", "id"), day_field=f"{stage}_on")


def _source_for(metric: Metric) -> Source:
    key = metric.key
    web = Source(funnel.WebTraffic, [("date", "Date"), ("page", "Page"), ("section", "Section"),
                 ("source", "Source"), ("visits", "Visits"), ("entrances", "Entrances"), ("bounces", "Bounces")],
                 {"source": "source", "section": "section", "page": "page"}, ("-date", "page", "source"),
                 day_field="date")
    deals_won = Source(funnel.Deal, DEAL_COLUMNS, DEAL_LOOKUPS, ("-closed_at", "id"), day_field="closed_on",
                       extra=Q(status="won"))
    spend_columns = [("external_id", "ID"), ("date", "Date"), ("channel", "Channel"), ("campaign__name", "Campaign"),
                     ("category", "Category"), ("amount", "Amount"), ("description", "Description")]
    spend_lookups = {"channel": "channel", "campaign": "campaign__external_id"}
    campaign = {"campaign": "campaign__external_id"}
    if key in ("visits", "bounce_rate", "entrances", "visit_to_lead_rate"):
        return web
    if key == "organic_visits":
        return replace(web, extra=Q(source="organic_search"))
    if key == "blog_visits":
        return replace(web, extra=Q(section="blog"))
    stage_of = {
        "leads": "lead", "mqls": "mql", "sqls": "sql", "opportunities": "opportunity", "customers": "customer",
        "demos": "demo", "leads_to_nurture": "nurture", "leads_delivered": "mql", "revenue_pipeline": "lead",
        "churn_rate": "churned", "leads_worked_rate": "mql", "worked_to_connected_rate": "mql",
        "sla_attempt_compliance": "mql", "content_assisted_customers": "customer",
        "speed_to_lead_hours": "mql", "leads_worked_on_time_rate": "mql", "disqualified_leads": "disqualified",
        "forecast_close_rate": "mql", "leads_needed": "mql",
    }
    if key in stage_of:
        source = _contacts(stage_of[key])
        if key == "content_assisted_customers":
            touched = funnel.Touch.objects.filter(contact=OuterRef("pk"), content__isnull=False,
                                                  occurred_at__lte=OuterRef("customer_at"))
            return replace(source, extra=Q(Exists(touched)),
                           lookups={**CONTACT_LOOKUPS, "content": "touches__content__external_id"})
        return source
    if key == "mql_rejection_rate":
        # The main side: the MQLs sales rejected.
        return replace(_contacts("mql"), extra=Q(disqualified_at__isnull=False, sql_at__isnull=True))
    if metric.kind == "cohort" and key.endswith("_rate"):
        return _contacts(key.split("_to_")[0])
    if key.startswith("avg_days_"):
        return _contacts(key.removeprefix("avg_days_").split("_to_")[1])
    if key in ("revenue", "deals_won", "new_mrr", "average_deal_size", "avg_sales_cycle_days", "roi") \
            or key.startswith("attributed_revenue"):
        return deals_won
    if key == "win_rate":
        return replace(deals_won, extra=Q(status__in=["won", "lost"]))
    if key in ("open_pipeline", "pipeline_velocity"):
        return Source(funnel.Deal, DEAL_COLUMNS, DEAL_LOOKUPS, ("-created_at", "id"), stock_field="created_on")
    if key in ("marketing_spend", "cost_per_lead", "cost_per_mql"):
        return Source(funnel.Spend, spend_columns, spend_lookups, ("-date", "id"), day_field="date",
                      extra=Q(category="marketing"))
    if key == "sales_spend":
        return Source(funnel.Spend, spend_columns, spend_lookups, ("-date", "id"), day_field="date",
                      extra=Q(category="sales"))
    if key in ("paid_impressions", "paid_clicks", "paid_click_rate", "cost_per_click"):
        paid = {"paid_impressions": Q(impressions__isnull=False), "paid_clicks": Q(clicks__isnull=False),
                "paid_click_rate": Q(impressions__isnull=False, clicks__isnull=False),
                "cost_per_click": Q(clicks__isnull=False)}[key]
        return Source(funnel.Spend, [*spend_columns, ("impressions", "Impressions"), ("clicks", "Clicks")],
                      spend_lookups, ("-date", "id"), day_field="date", extra=paid)
    if key in ("customer_acquisition_cost", "ltv_to_cac"):
        return Source(funnel.Spend, spend_columns, spend_lookups, ("-date", "id"), day_field="date")
    if key == "customer_lifetime_value":
        return Source(funnel.Contact, CONTACT_COLUMNS, CONTACT_LOOKUPS, ("-customer_at", "id"),
                      stock_field="customer_on")
    if key in ("reach", "social_reach", "blog_subscribers", "blog_subscriber_growth"):
        extra = Q()
        if key == "social_reach":
            extra = Q(channel__in=funnel.SOCIAL_AUDIENCE_CHANNELS)
        elif key.startswith("blog_"):
            extra = Q(channel="blog_subscribers")
        return Source(funnel.Audience, [("date", "Date"), ("channel", "Channel"), ("size", "Size")],
                      {"network": "channel"}, ("-date", "channel"), stock_field="date", extra=extra)
    if key == "content_published":
        return Source(funnel.Content, [("external_id", "ID"), ("title", "Title"), ("content_type", "Type"),
                      ("published_at", "Published"), ("campaign__name", "Campaign")],
                      {"campaign": "campaign__external_id", "content": "external_id"}, ("-published_at", "id"),
                      day_field="published_on")
    if key == "account_penetration":
        return Source(funnel.TargetAccount, [("domain", "Domain"), ("name", "Name")], {}, ("name", "id"))
    if key.startswith("sales_"):
        kind = {"sales_calls": "call", "sales_emails": "email", "sales_meetings": "meeting"}[key]
        return Source(funnel.Activity, [("external_id", "ID"), ("contact__external_id", "Contact"),
                      ("owner__name", "Owner"), ("activity_type", "Type"), ("occurred_at", "When"),
                      ("connected", "Connected")], {"owner": "owner__email", "activity_type": "activity_type"},
                      ("-occurred_at", "id"), day_field="occurred_on", extra=Q(activity_type=kind))
    if key.startswith("email") or key in ("delivery_rate", "open_rate", "click_rate", "click_to_open_rate",
                                          "unsubscribe_rate"):
        return Source(funnel.EmailSend, [("external_id", "ID"), ("name", "Name"), ("email_type", "Type"),
                      ("campaign__name", "Campaign"), ("sent_at", "Sent at"), ("sent", "Sent"),
                      ("delivered", "Delivered"), ("unique_opens", "Opens"), ("unique_clicks", "Clicks"),
                      ("unsubscribes", "Unsubscribes")], {"email_type": "email_type", **campaign},
                      ("-sent_at", "id"), day_field="sent_on")
    if key in ("social_engagements", "engagement_rate"):
        return Source(funnel.SocialStat, [("date", "Date"), ("network", "Network"), ("impressions", "Impressions"),
                      ("engagements", "Engagements"), ("clicks", "Clicks")], {"network": "network"},
                      ("-date", "network"), day_field="date")
    if key == "cta_click_rate":
        return Source(funnel.CtaStat, [("date", "Date"), ("cta", "CTA"), ("placement", "Placement"),
                      ("views", "Views"), ("clicks", "Clicks")], {"placement": "placement"}, ("-date", "cta"),
                      day_field="date")
    if key == "landing_page_conversion_rate":
        return Source(funnel.LandingPage, [("date", "Date"), ("page", "Page"), ("source", "Source"),
                      ("campaign__name", "Campaign"), ("views", "Views"), ("submissions", "Submissions")],
                      {"source": "source", "page": "page", **campaign}, ("-date", "page"), day_field="date")
    if key.startswith("webinar"):
        return Source(funnel.Webinar, [("external_id", "ID"), ("name", "Name"), ("campaign__name", "Campaign"),
                      ("held_at", "Held"), ("registrants", "Registrants"), ("attendees", "Attendees")], campaign,
                      ("-held_at", "id"), day_field="held_on")
    if key.startswith("direct_mail"):
        return Source(funnel.DirectMail, [("external_id", "ID"), ("name", "Name"), ("campaign__name", "Campaign"),
                      ("sent_at", "Sent at"), ("sent", "Sent"), ("claimed", "Claimed"),
                      ("meetings_booked", "Meetings")], campaign, ("-sent_at", "id"), day_field="sent_on")
    if key.startswith("feature") or key == "content_to_usage_rate":
        return Source(funnel.FeatureUsage, [("date", "Date"), ("feature", "Feature"),
                      ("customers_total", "Customers"), ("customers_activated", "Activated"),
                      ("content_readers", "Content readers"), ("readers_activated", "Readers activated"),
                      ("upgrade_revenue", "Upgrade revenue")], {"feature": "feature"}, ("-date", "feature"),
                      **({"stock_field": "date"} if key == "feature_adoption_rate" else {"day_field": "date"}))
    raise ValueError(f"no record source for {key!r}")


def _narrow(query: QuerySet, source: Source, dimension: str, values: list[str]) -> QuerySet:
    lookup = source.lookups.get(dimension)
    if lookup is None:
        return query
    condition = Q()
    for value in values:
        if value == NONE_KEY:
            condition |= Q(**{lookup: ""}) if dimension in BLANK_NONE else Q(**{f"{lookup}__isnull": True})
        else:
            condition |= Q(**{lookup: value})
    return query.filter(condition)


def records_for(*, metric: Metric, window: Window, filters: dict[str, list[str]] | None, key: str | None,
                dimension: str | None) -> RecordSet:
    source = _source_for(metric)
    query = source.model.objects.filter(source.extra)
    start, end = window.start, window.end
    if metric.forecast and metric.key != "revenue_pipeline":
        # The mature cohort the forecast close rate is computed over.
        start, end = forecast_range(window.end)
    if source.day_field:
        query = query.filter(**{f"{source.day_field}__gte": start, f"{source.day_field}__lte": end})
    if source.stock_field:
        query = query.filter(**{f"{source.stock_field}__lte": window.end})
    if metric.key in ("open_pipeline", "pipeline_velocity"):
        query = query.filter(Q(status="open") | Q(closed_on__gt=window.end))
    if metric.key == "account_penetration":
        contacts = funnel.Contact.objects.filter(email_domain=OuterRef("domain"), lead_on__lte=window.end)
        query = query.annotate(penetrated=Exists(contacts))
    narrowed = [(name, list(values)) for name, values in (filters or {}).items()]
    if key is not None:
        name = dimension or (next(iter(filters)) if filters else None)
        if name is not None:
            narrowed.append((name, [key]))
    for name, values in narrowed:
        query = _narrow(query, source, name, values)
    columns = list(source.columns)
    fields = [name for name, _ in columns]
    if metric.key in ("leads_worked_rate", "worked_to_connected_rate", "sla_attempt_compliance",
                      "speed_to_lead_hours", "leads_worked_on_time_rate"):
        since = Q(activities__occurred_at__gte=F("mql_at"))
        query = query.annotate(attempts=Count("activities", filter=since),
                               first_attempt=Min("activities__occurred_at", filter=since))
        columns += [("attempts", "Attempts since MQL"), ("first_attempt", "First attempt")]
        fields += ["attempts", "first_attempt"]
    if metric.key == "account_penetration":
        columns.append(("penetrated", "Has a lead"))
        fields.append("penetrated")
    ordering = [name.lstrip("-") for name in source.order]
    if any("touches__" in source.lookups.get(name, "") for name, _ in narrowed):
        # A contact with several content touches would otherwise be listed once per touch.
        query = query.distinct()
    rows = query.values(*dict.fromkeys([*fields, "pk", *ordering])).order_by(*source.order)
    return RecordSet(columns=columns, rows=rows)
