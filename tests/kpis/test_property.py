"""Property: on random records, the fact-based answer equals a direct computation from the records.

`Reference` below is a deliberately plain reading of kpi-catalogue.md over Python lists of
the raw records (no facts, no SQL): every metric, any window, optionally restricted to
one dimension's values. The engine must agree for every metric, several windows, totals,
filters and breakdowns, in a non-UTC company time zone.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from smarketing.funnel import models as m
from smarketing.funnel.models import local_date
from smarketing.kpis.registry import METRICS
from smarketing.kpis.selectors import kpi_series, kpi_values
from smarketing.kpis.services import facts_rebuild
from smarketing.kpis.windows import Window, period_bounds, window_for

NONE = "(none)"
START = dt.datetime(2025, 10, 1, tzinfo=dt.UTC)
SPAN_SECONDS = 200 * 86400
CHANNELS = ["email", "social", "blog", "referral"]
SOCIAL = set(m.SOCIAL_AUDIENCE_CHANNELS)


def pct(n, d):
    return None if not d else n / d * 100


def div(n, d):
    return None if n is None or not d else n / d


class Reference:
    """The catalogue, read literally over the raw records."""

    def __init__(self, settings) -> None:
        self.margin = float(settings.GROSS_MARGIN)
        self.min_attempts = settings.SLA_MIN_ATTEMPTS
        self.first_attempt_hours = settings.SLA_FIRST_ATTEMPT_HOURS
        self.targets = {(t.owner.email if t.owner else None, t.period, t.period_start): t.value
                        for t in m.Target.objects.filter(metric="revenue").select_related("owner")}
        self.contacts = list(m.Contact.objects.select_related("campaign", "owner"))
        self.deals = list(m.Deal.objects.select_related("contact__campaign", "owner"))
        self.activities = list(m.Activity.objects.select_related("owner"))
        self.touches = list(m.Touch.objects.select_related("campaign", "content"))
        self.spend = list(m.Spend.objects.select_related("campaign"))
        self.web = list(m.WebTraffic.objects.all())
        self.email = list(m.EmailSend.objects.select_related("campaign"))
        self.audience = list(m.Audience.objects.all())
        self.features = list(m.FeatureUsage.objects.all())
        self.accounts = list(m.TargetAccount.objects.all())
        self.social = list(m.SocialStat.objects.all())
        self.cta = list(m.CtaStat.objects.all())
        self.landing = list(m.LandingPage.objects.select_related("campaign"))
        self.webinars = list(m.Webinar.objects.select_related("campaign"))
        self.mail = list(m.DirectMail.objects.select_related("campaign"))

    def day_sum(self, rows, field, w, flt, key_of, date=lambda r: r.date):
        return sum(getattr(r, field) for r in rows if w.start <= date(r) <= w.end and self.keep(key_of, r, flt))

    # -- dimension keys of each record kind ------------------------------------------------
    @staticmethod
    def contact_key(c, dim):
        return {"channel": c.source_channel, "campaign": c.campaign.external_id if c.campaign else NONE,
                "owner": c.owner.email if c.owner else NONE, "industry": c.industry.strip() or NONE,
                "offer": c.offer or NONE, "disqualification_reason": c.disqualification_reason or NONE}.get(dim)

    def deal_key(self, d, dim):
        if dim == "owner":
            return d.owner.email if d.owner else NONE
        if d.contact is None:
            return NONE if dim in ("channel", "campaign") else None
        return self.contact_key(d.contact, dim) if dim in ("channel", "campaign") else None

    @staticmethod
    def spend_key(s, dim):
        return {"channel": s.channel, "campaign": s.campaign.external_id if s.campaign else NONE}.get(dim)

    @staticmethod
    def web_key(w, dim):
        return {"source": w.source, "section": w.section, "page": w.page}.get(dim)

    def keep(self, key_of, record, flt):
        if flt is None:
            return True
        dim, values = flt
        key = key_of(record, dim)
        return key is not None and key in values

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def within(when, window: Window) -> bool:
        return when is not None and window.start <= local_date(when) <= window.end

    def cs(self, flt):
        return [c for c in self.contacts if self.keep(self.contact_key, c, flt)]

    def ds(self, flt):
        return [d for d in self.deals if self.keep(self.deal_key, d, flt)]

    def entered(self, stage, w, flt):
        return [c for c in self.cs(flt) if self.within(getattr(c, f"{stage}_at"), w)]

    def cohort(self, a, b, w, flt):
        group = self.entered(a, w, flt)
        return pct(sum(1 for c in group if getattr(c, f"{b}_at") is not None), len(group))

    def avg_days(self, a, b, w, flt):
        gaps = [(getattr(c, f"{b}_at") - getattr(c, f"{a}_at")).total_seconds() / 86400
                for c in self.entered(b, w, flt) if getattr(c, f"{a}_at") is not None]
        return sum(gaps) / len(gaps) if gaps else None

    def won(self, w, flt):
        return [d for d in self.ds(flt) if d.status == "won" and self.within(d.closed_at, w)]

    def revenue(self, w, flt):
        return sum(float(d.amount) for d in self.won(w, flt))

    def avg_deal(self, w, flt):
        won = self.won(w, flt)
        return div(self.revenue(w, flt), len(won))

    def win_rate(self, w, flt):
        closed = [d for d in self.ds(flt) if d.status in ("won", "lost") and self.within(d.closed_at, w)]
        return pct(sum(1 for d in closed if d.status == "won"), len(closed))

    def cycle(self, w, flt):
        won = self.won(w, flt)
        days = [(d.closed_at - d.created_at).total_seconds() / 86400 for d in won]
        return sum(days) / len(days) if days else None

    def open_deals(self, w, flt):
        return [d for d in self.ds(flt) if local_date(d.created_at) <= w.end
                and (d.status == "open" or local_date(d.closed_at) > w.end)]

    def spend_sum(self, category, w, flt):
        return sum(float(s.amount) for s in self.spend if s.category == category
                   and w.start <= s.date <= w.end and self.keep(self.spend_key, s, flt))

    def cac(self, w, flt):
        return div(self.spend_sum("marketing", w, flt) + self.spend_sum("sales", w, flt),
                   len(self.entered("customer", w, flt)))

    def clv(self, w, flt):
        customers = [c for c in self.cs(flt) if c.customer_at and local_date(c.customer_at) <= w.end]
        total = 0.0
        for customer in customers:
            for d in self.deals:
                if d.status != "won" or local_date(d.closed_at) > w.end or d.contact is None:
                    continue
                if d.contact.pk == customer.pk:
                    total += float(d.amount)
                if d.contact.referred_by_id == customer.pk:
                    total += float(d.amount)
        return div(self.margin * total, len(customers))

    def sla(self, w, flt):
        rows = []
        for c in self.entered("mql", w, flt):
            attempts = [a for a in self.activities if a.contact_id == c.pk and a.occurred_at >= c.mql_at]
            rows.append((len(attempts), any(a.connected for a in attempts)))
        return rows

    # -- same age (rule 2): conversions dated on or before the window's end ----------------
    COHORTS = {"lead_to_mql_rate": ("lead", "mql"), "mql_to_sql_rate": ("mql", "sql"),
               "mql_to_opportunity_rate": ("mql", "opportunity"),
               "opportunity_to_customer_rate": ("opportunity", "customer"),
               "lead_to_customer_rate": ("lead", "customer"), "lead_to_opportunity_rate": ("lead", "opportunity"),
               "mql_to_demo_rate": ("mql", "demo"), "nurture_to_mql_rate": ("nurture", "mql"),
               "mql_to_customer_rate": ("mql", "customer")}

    def aged(self, key, w, flt=None):
        """(numerator, denominator) of a same-age metric over `w` as it stood at `w.end`."""
        def by_end(when):
            return when is not None and local_date(when) <= w.end

        if key in self.COHORTS:
            a, b = self.COHORTS[key]
            group = self.entered(a, w, flt)
            return sum(1 for c in group if by_end(getattr(c, f"{b}_at"))), len(group)
        if key == "mql_rejection_rate":
            # Disqualified by the end and no SQL by the end; by reason over the whole cohort.
            cohort_filter = None if flt and flt[0] == "disqualification_reason" else flt
            rejected = [c for c in self.entered("mql", w, flt) if by_end(c.disqualified_at) and not by_end(c.sql_at)]
            return len(rejected), len(self.entered("mql", w, cohort_filter))
        rows = []
        for c in self.entered("mql", w, flt):
            attempts = sorted(x.occurred_at for x in self.activities
                              if x.contact_id == c.pk and x.occurred_at >= c.mql_at and by_end(x.occurred_at))
            connected = any(x.connected for x in self.activities
                            if x.contact_id == c.pk and x.occurred_at >= c.mql_at and by_end(x.occurred_at))
            rows.append((len(attempts), connected))
        if key == "leads_worked_rate":
            return sum(1 for n, _ in rows if n > 0), len(rows)
        if key == "leads_worked_on_time_rate":
            # On time: the first attempt (of all time) within the SLA hours, and dated by the end.
            mqls = self.entered("mql", w, flt)
            firsts = [min((x.occurred_at for x in self.activities if x.contact_id == c.pk and x.occurred_at >= c.mql_at),
                          default=None) for c in mqls]
            on_time = sum(1 for c, first in zip(mqls, firsts, strict=True)
                          if first is not None and by_end(first)
                          and (first - c.mql_at).total_seconds() <= self.first_attempt_hours * 3600)
            return on_time, len(mqls)
        if key == "worked_to_connected_rate":
            return sum(1 for n, conn in rows if n > 0 and conn), sum(1 for n, _ in rows if n > 0)
        candidates = [n for n, conn in rows if n > 0 and not conn]
        return sum(1 for n in candidates if n >= self.min_attempts), len(candidates)

    def first_attempt_hours_of(self, w, flt):
        """Hours from MQL to the first attempt of each MQL of W (None: never attempted)."""
        out = []
        for c in self.entered("mql", w, flt):
            attempts = [a.occurred_at for a in self.activities if a.contact_id == c.pk and a.occurred_at >= c.mql_at]
            out.append((min(attempts) - c.mql_at).total_seconds() / 3600 if attempts else None)
        return out

    @staticmethod
    def forecast_window(w):
        last = w.end - dt.timedelta(days=120)
        return Window("custom", last - dt.timedelta(days=364), last, last)

    def leads_needed(self, w, flt):
        if w.period_kind is None:
            return None
        start = period_bounds(w.period_kind, w.as_of)[0]
        owners = [None] if flt is None else sorted(flt[1])
        found = [self.targets.get((owner, w.period_kind, start)) for owner in owners]
        if None in found:
            return None
        target = sum(found)
        cohort = self.entered("mql", self.forecast_window(w), flt)
        customers = sum(1 for c in cohort if c.customer_at is not None)
        year = Window("custom", w.end - dt.timedelta(days=364), w.end, w.end)
        won = self.won(year, flt)
        revenue = sum(d.amount for d in won)
        if not customers or not cohort or not revenue:
            return None
        # target ÷ (customers / MQLs × revenue / deals), exactly, rounded up.
        return math.ceil(Fraction(target) * len(cohort) * len(won) / (customers * Fraction(revenue)))

    def paid(self, w, flt, where):
        return [s for s in self.spend if w.start <= s.date <= w.end and where(s) and self.keep(self.spend_key, s, flt)]

    def credits(self, w, flt, how):
        lines = []  # (channel, campaign, content, amount)
        for d in self.deals:
            if d.status != "won" or not self.within(d.closed_at, w):
                continue
            amount = float(d.amount)
            ts = sorted((t for t in self.touches if d.contact and t.contact_id == d.contact.pk
                         and t.occurred_at <= d.closed_at), key=lambda t: (t.occurred_at, t.external_id))
            if not ts:
                c = d.contact
                lines.append((c.source_channel if c else NONE, c.campaign.external_id if c and c.campaign else NONE,
                              NONE, amount))
                continue
            chosen = {"first": ts[:1], "last": ts[-1:], "linear": ts}[how]
            for t in chosen:
                lines.append((t.channel, t.campaign.external_id if t.campaign else NONE,
                              t.content.external_id if t.content else NONE, amount / len(chosen)))
        if flt is not None:
            index = {"channel": 0, "campaign": 1, "content": 2}[flt[0]]
            lines = [line for line in lines if line[index] in flt[1]]
        return sum(line[3] for line in lines)

    def stock(self, readings, end, key):
        latest = {}
        for r in sorted(readings, key=lambda r: r.date):
            if r.date <= end:
                latest[key(r)] = r
        return latest

    def web_sum(self, field, w, flt, where=lambda r: True):
        return sum(getattr(r, field) for r in self.web
                   if w.start <= r.date <= w.end and where(r) and self.keep(self.web_key, r, flt))

    def email_sum(self, field, w, flt):
        def key(e, dim):
            if dim == "email_type":
                return e.email_type or NONE
            return (e.campaign.external_id if e.campaign else NONE) if dim == "campaign" else None
        return sum(getattr(e, field) for e in self.email if self.within(e.sent_at, w) and self.keep(key, e, flt))

    # -- every metric ------------------------------------------------------------------------
    def value(self, key: str, w: Window, flt=None):
        counts = {"leads": "lead", "mqls": "mql", "sqls": "sql", "opportunities": "opportunity",
                  "customers": "customer", "demos": "demo", "leads_to_nurture": "nurture", "leads_delivered": "mql"}
        if key in counts:
            return len(self.entered(counts[key], w, flt))
        cohorts = {"lead_to_mql_rate": ("lead", "mql"), "mql_to_sql_rate": ("mql", "sql"),
                   "mql_to_opportunity_rate": ("mql", "opportunity"),
                   "opportunity_to_customer_rate": ("opportunity", "customer"),
                   "lead_to_customer_rate": ("lead", "customer"), "lead_to_opportunity_rate": ("lead", "opportunity"),
                   "mql_to_demo_rate": ("mql", "demo"), "nurture_to_mql_rate": ("nurture", "mql")}
        if key in cohorts:
            return self.cohort(*cohorts[key], w, flt)
        if key.startswith("avg_days_"):
            a, b = key.removeprefix("avg_days_").split("_to_")
            return self.avg_days(a, b, w, flt)
        if key == "visits":
            return self.web_sum("visits", w, flt)
        if key == "organic_visits":
            return self.web_sum("visits", w, flt, lambda r: r.source == "organic_search")
        if key == "blog_visits":
            return self.web_sum("visits", w, flt, lambda r: r.section == "blog")
        if key == "entrances":
            return self.web_sum("entrances", w, flt)
        if key == "bounce_rate":
            return pct(self.web_sum("bounces", w, flt), self.web_sum("entrances", w, flt))
        if key == "visit_to_lead_rate":
            return pct(len(self.entered("lead", w, flt)), self.web_sum("visits", w, flt))
        if key == "revenue":
            return self.revenue(w, flt)
        if key == "deals_won":
            return len(self.won(w, flt))
        if key == "new_mrr":
            return sum(float(d.mrr) for d in self.won(w, flt))
        if key == "average_deal_size":
            return self.avg_deal(w, flt)
        if key == "win_rate":
            return self.win_rate(w, flt)
        if key == "avg_sales_cycle_days":
            return self.cycle(w, flt)
        if key == "open_pipeline":
            return sum(float(d.amount) for d in self.open_deals(w, flt))
        if key == "revenue_pipeline":
            year = Window("custom", w.end - dt.timedelta(days=364), w.end, w.end)
            rate, size = self.cohort("lead", "customer", self.forecast_window(w), flt), self.avg_deal(year, flt)
            if rate is None or size is None:
                return None
            return len(self.entered("lead", w, flt)) * rate / 100 * size
        if key == "pipeline_velocity":
            size, win, cycle = self.avg_deal(w, flt), self.win_rate(w, flt), self.cycle(w, flt)
            if size is None or win is None or not cycle:
                return None
            return len(self.open_deals(w, flt)) * size * win / 100 / cycle
        if key == "marketing_spend":
            return self.spend_sum("marketing", w, flt)
        if key == "sales_spend":
            return self.spend_sum("sales", w, flt)
        if key == "roi":
            spend = self.spend_sum("marketing", w, flt)
            return pct(self.revenue(w, flt) - spend, spend)
        if key == "cost_per_lead":
            return div(self.spend_sum("marketing", w, flt), len(self.entered("lead", w, flt)))
        if key == "cost_per_mql":
            return div(self.spend_sum("marketing", w, flt), len(self.entered("mql", w, flt)))
        if key == "customer_acquisition_cost":
            return self.cac(w, flt)
        if key == "customer_lifetime_value":
            return self.clv(w, flt)
        if key == "ltv_to_cac":
            return div(self.clv(w, flt), self.cac(w, flt))
        if key == "churn_rate":
            churned = len(self.entered("churned", w, flt))
            base = [c for c in self.cs(flt) if c.customer_at and local_date(c.customer_at) < w.start
                    and (c.churned_at is None or local_date(c.churned_at) >= w.start)]
            return pct(churned, len(base))
        if key in ("reach", "social_reach", "blog_subscribers"):
            latest = self.stock(self.audience, w.end, lambda r: r.channel)
            if key == "reach":
                return sum(r.size for r in latest.values())
            if key == "social_reach":
                return sum(r.size for ch, r in latest.items() if ch in SOCIAL
                           and (flt is None or ch in flt[1]))
            return latest["blog_subscribers"].size if "blog_subscribers" in latest else None
        if key == "blog_subscriber_growth":
            def at(end):
                latest = self.stock(self.audience, end, lambda r: r.channel)
                return latest["blog_subscribers"].size if "blog_subscribers" in latest else 0
            return at(w.end) - at(w.start - dt.timedelta(days=1))
        if key.startswith("attributed_revenue_"):
            return self.credits(w, flt, key.rsplit("_", 2)[-2] if key.endswith("touch") else "linear")
        if key == "account_penetration":
            hit = sum(1 for a in self.accounts if any(c.email.rsplit("@", 1)[-1].lower() == a.domain.lower()
                                                      and "@" in c.email and local_date(c.lead_at) <= w.end
                                                      for c in self.contacts))
            return pct(hit, len(self.accounts))
        if key == "leads_worked_rate":
            rows = self.sla(w, flt)
            return pct(sum(1 for n, _ in rows if n > 0), len(rows))
        if key == "worked_to_connected_rate":
            rows = [r for r in self.sla(w, flt) if r[0] > 0]
            return pct(sum(1 for _, conn in rows if conn), len(rows))
        if key == "sla_attempt_compliance":
            rows = [n for n, conn in self.sla(w, flt) if n > 0 and not conn]
            return pct(sum(1 for n in rows if n >= self.min_attempts), len(rows))
        if key in ("sales_calls", "sales_emails", "sales_meetings"):
            kind = {"sales_calls": "call", "sales_emails": "email", "sales_meetings": "meeting"}[key]

            def act_key(a, dim):
                return {"owner": a.owner.email if a.owner else NONE, "activity_type": a.activity_type}.get(dim)
            return sum(1 for a in self.activities if a.activity_type == kind and self.within(a.occurred_at, w)
                       and self.keep(act_key, a, flt))
        email = {"emails_sent": ("sent", None), "emails_delivered": ("delivered", None),
                 "delivery_rate": ("delivered", "sent"), "open_rate": ("unique_opens", "delivered"),
                 "click_rate": ("unique_clicks", "delivered"), "click_to_open_rate": ("unique_clicks", "unique_opens"),
                 "unsubscribe_rate": ("unsubscribes", "delivered")}
        if key in email:
            top, bottom = email[key]
            if bottom is None:
                return self.email_sum(top, w, flt)
            return pct(self.email_sum(top, w, flt), self.email_sum(bottom, w, flt))
        if key == "content_assisted_customers":
            total = 0
            for c in self.entered("customer", w, None if flt and flt[0] == "content" else flt):
                items = {t.content.external_id for t in self.touches
                         if t.contact_id == c.pk and t.content and t.occurred_at <= c.customer_at}
                if flt and flt[0] == "content":
                    # By content the catalogue counts each content item touched: (contact, item) pairs.
                    total += len(items & set(flt[1]))
                else:
                    total += 1 if items else 0
            return total
        if key == "feature_adoption_rate":
            latest = self.stock(self.features, w.end, lambda r: r.feature)
            rows = [r for f, r in latest.items() if flt is None or f in flt[1]]
            return pct(sum(r.customers_activated for r in rows), sum(r.customers_total for r in rows))
        features = [r for r in self.features if w.start <= r.date <= w.end and (flt is None or r.feature in flt[1])]
        if key == "content_to_usage_rate":
            return pct(sum(r.readers_activated for r in features), sum(r.content_readers for r in features))
        if key == "feature_revenue":
            return sum(float(r.upgrade_revenue) for r in features)
        def campaign_of(r, dim):
            return (r.campaign.external_id if r.campaign else NONE) if dim == "campaign" else None

        def landing_of(r, dim):
            return {"source": r.source, "page": r.page}.get(dim) or campaign_of(r, dim)

        net, place = (lambda r, d: r.network if d == "network" else None), \
            (lambda r, d: r.placement if d == "placement" else None)
        held, sent_on = (lambda r: local_date(r.held_at)), (lambda r: local_date(r.sent_at))
        if key == "social_engagements":
            return self.day_sum(self.social, "engagements", w, flt, net)
        if key == "engagement_rate":
            return pct(self.day_sum(self.social, "engagements", w, flt, net),
                       self.day_sum(self.social, "impressions", w, flt, net))
        if key == "cta_click_rate":
            return pct(self.day_sum(self.cta, "clicks", w, flt, place), self.day_sum(self.cta, "views", w, flt, place))
        if key == "landing_page_conversion_rate":
            return pct(self.day_sum(self.landing, "submissions", w, flt, landing_of),
                       self.day_sum(self.landing, "views", w, flt, landing_of))
        if key == "webinar_registrations":
            return self.day_sum(self.webinars, "registrants", w, flt, campaign_of, held)
        if key == "webinar_attendance_rate":
            return pct(self.day_sum(self.webinars, "attendees", w, flt, campaign_of, held),
                       self.day_sum(self.webinars, "registrants", w, flt, campaign_of, held))
        if key in ("direct_mail_claim_rate", "direct_mail_meeting_rate"):
            top = "claimed" if key == "direct_mail_claim_rate" else "meetings_booked"
            return pct(self.day_sum(self.mail, top, w, flt, campaign_of, sent_on),
                       self.day_sum(self.mail, "sent", w, flt, campaign_of, sent_on))
        if key == "content_published":
            def content_of(c, dim):
                return c.external_id if dim == "content" else campaign_of(c, dim)
            items = m.Content.objects.filter(published_at__isnull=False).select_related("campaign")
            return sum(1 for c in items if self.within(c.published_at, w) and self.keep(content_of, c, flt))
        if key == "speed_to_lead_hours":
            hours = [h for h in self.first_attempt_hours_of(w, flt) if h is not None]
            return sum(hours) / len(hours) if hours else None
        if key == "leads_worked_on_time_rate":
            hours = self.first_attempt_hours_of(w, flt)
            return pct(sum(1 for h in hours if h is not None and h <= self.first_attempt_hours), len(hours))
        if key == "disqualified_leads":
            return len(self.entered("disqualified", w, flt))
        if key == "mql_rejection_rate":
            # By reason, each row keeps the whole MQL cohort as its denominator.
            cohort_filter = None if flt and flt[0] == "disqualification_reason" else flt
            rejected = [c for c in self.entered("mql", w, flt) if c.disqualified_at and c.sql_at is None]
            return pct(len(rejected), len(self.entered("mql", w, cohort_filter)))
        if key == "mql_to_customer_rate":
            return self.cohort("mql", "customer", w, flt)
        if key == "forecast_close_rate":
            return self.cohort("mql", "customer", self.forecast_window(w), flt)
        if key == "leads_needed":
            return self.leads_needed(w, flt)
        if key == "paid_impressions":
            return sum(s.impressions or 0 for s in self.paid(w, flt, lambda s: True))
        if key == "paid_clicks":
            return sum(s.clicks or 0 for s in self.paid(w, flt, lambda s: True))
        if key == "paid_click_rate":
            both = self.paid(w, flt, lambda s: s.impressions is not None and s.clicks is not None)
            return pct(sum(s.clicks for s in both), sum(s.impressions for s in both))
        if key == "cost_per_click":
            clicked = self.paid(w, flt, lambda s: s.clicks is not None)
            return div(sum(float(s.amount) for s in clicked), sum(s.clicks for s in clicked))
        raise AssertionError(f"the reference does not know {key}")


# --- random records -----------------------------------------------------------------------------


def _instant(rng: random.Random) -> dt.datetime:
    if rng.random() < 0.15:  # exactly a local midnight or the last second of a local day
        local = (START + dt.timedelta(days=rng.randrange(200))).astimezone(m.company_tz())
        edge = local.replace(hour=0, minute=0, second=0) if rng.random() < 0.5 else local.replace(
            hour=23, minute=59, second=59)
        return edge.astimezone(dt.UTC)
    return START + dt.timedelta(seconds=rng.randrange(SPAN_SECONDS))


def _later(rng: random.Random, after: dt.datetime, days: int = 60) -> dt.datetime:
    return after + dt.timedelta(seconds=rng.randrange(days * 86400))


def build(rng: random.Random) -> None:
    reps = [m.TeamMember.objects.create(email=f"rep{i}@t.com", name=f"Rep {i}", team="sales") for i in range(2)]
    camps = [m.Campaign.objects.create(external_id=f"C{i}", name=f"Campaign {i}", channel="email")
             for i in range(2)]
    content = [m.Content.objects.create(external_id=f"P{i}", title=f"Piece {i}", content_type="ebook",
                                        published_at=rng.choice([None, _instant(rng)])) for i in range(2)]
    contacts = []
    for i in range(rng.randrange(4, 12)):
        lead = _instant(rng)
        stages = {}
        cursor = lead
        for stage in ("mql", "sql", "opportunity", "customer", "churned"):
            if rng.random() < 0.55:
                cursor = _later(rng, cursor, 40)
                stages[f"{stage}_at"] = cursor
        for side in ("nurture", "demo"):
            if rng.random() < 0.3:
                stages[f"{side}_at"] = _later(rng, lead, 40)
        reason = ""
        if rng.random() < 0.35:
            # Sometimes before the MQL and the SQL that followed it: then it is not a rejection.
            stages["disqualified_at"] = rng.choice([lead, _later(rng, lead, 80)])
            reason = rng.choice(["no_budget", "bad_fit", "unreachable"])
        contacts.append(m.Contact.objects.create(
            industry=rng.choice(["", "Retail", " Health care ", "Software"]),
            offer=rng.choice(["", "ebook", "demo_request"]), disqualification_reason=reason,
            external_id=f"k{i}", email=rng.choice(["a@acme.com", "b@ACME.com", "c@sub.acme.com", "", "d@x.org"]),
            source_channel=rng.choice(CHANNELS), campaign=rng.choice([None, *camps]),
            owner=rng.choice([None, *reps]), referred_by=rng.choice([None, *contacts[:3]]) if contacts else None,
            lead_at=lead, **stages))
    for i in range(rng.randrange(0, 10)):
        created = _instant(rng)
        status = rng.choice(["open", "won", "won", "lost"])
        m.Deal.objects.create(external_id=f"d{i}", contact=rng.choice([None, *contacts]), owner=rng.choice([None, *reps]),
                              amount=Decimal(rng.randrange(1, 500) * 10), mrr=Decimal(rng.randrange(0, 50)),
                              status=status, created_at=created,
                              closed_at=None if status == "open" else _later(rng, created, 50))
    for i in range(rng.randrange(0, 15)):
        c = rng.choice(contacts)
        base = c.mql_at if c.mql_at and rng.random() < 0.7 else c.lead_at
        edge = rng.random()
        if edge < 0.1:
            when = base
        elif edge < 0.25:
            # The first-attempt SLA's boundary: exactly 24 hours, or a second either side.
            when = base + dt.timedelta(hours=24, seconds=rng.choice([-1, 0, 0, 1]))
        else:
            when = _later(rng, base - dt.timedelta(days=2), 30)
        m.Activity.objects.create(external_id=f"a{i}", contact=c, owner=rng.choice([None, *reps]),
                                  activity_type=rng.choice(["call", "email", "meeting"]), occurred_at=when,
                                  connected=rng.random() < 0.3)
    for i in range(rng.randrange(0, 10)):
        c = rng.choice(contacts)
        m.Touch.objects.create(external_id=f"t{rng.randrange(5)}-{i}", contact=c,
                               occurred_at=rng.choice([c.lead_at, _later(rng, c.lead_at - dt.timedelta(days=5), 60)]),
                               channel=rng.choice(CHANNELS), campaign=rng.choice([None, *camps]),
                               content=rng.choice([None, *content]))
    for i in range(rng.randrange(0, 6)):
        impressions = rng.choice([None, rng.randrange(0, 5000)])
        clicks = rng.choice([None, rng.randrange(0, (impressions if impressions is not None else 300) + 1)])
        m.Spend.objects.create(external_id=f"s{i}", date=local_date(_instant(rng)), channel=rng.choice(CHANNELS),
                               campaign=rng.choice([None, *camps]), category=rng.choice(["marketing", "sales"]),
                               amount=Decimal(rng.randrange(0, 300)), impressions=impressions, clicks=clicks)
    for owner in [None, *reps]:
        for period, start in (("month", dt.date(2026, rng.randrange(1, 5), 1)), ("quarter", dt.date(2026, 1, 1)),
                              ("year", dt.date(2026, 1, 1)), ("month", dt.date(2025, 12, 1))):
            if rng.random() < 0.6:
                m.Target.objects.get_or_create(metric="revenue", period=period, period_start=start, owner=owner,
                                               defaults={"value": Decimal(rng.randrange(1, 200) * 100)})
    for _ in range(rng.randrange(0, 6)):
        visits = rng.randrange(0, 50)
        entrances = rng.randrange(0, visits + 1)
        m.WebTraffic.objects.get_or_create(date=local_date(_instant(rng)), page=rng.choice(["/", "/blog/a"]),
                                           source=rng.choice(["organic_search", "social"]), defaults={
                                               "section": rng.choice(["site", "blog"]), "visits": visits,
                                               "entrances": entrances, "bounces": rng.randrange(0, entrances + 1)})
    for i in range(rng.randrange(0, 4)):
        sent = rng.randrange(0, 100)
        delivered = rng.randrange(0, sent + 1)
        m.EmailSend.objects.create(external_id=f"e{i}", campaign=rng.choice([None, *camps]),
                                   email_type=rng.choice(["", "newsletter"]), sent_at=_instant(rng), sent=sent,
                                   delivered=delivered, unique_opens=rng.randrange(0, delivered + 1),
                                   unique_clicks=rng.randrange(0, delivered + 1),
                                   unsubscribes=rng.randrange(0, delivered + 1))
    for _ in range(rng.randrange(0, 6)):
        m.Audience.objects.get_or_create(date=local_date(_instant(rng)),
                                         channel=rng.choice(["twitter", "linkedin", "blog_subscribers", "email_list"]),
                                         defaults={"size": rng.randrange(0, 1000)})
    for _ in range(rng.randrange(0, 5)):
        total = rng.randrange(0, 100)
        readers = rng.randrange(0, 30)
        m.FeatureUsage.objects.get_or_create(date=local_date(_instant(rng)), feature=rng.choice(["f1", "f2"]), defaults={
            "customers_total": total, "customers_activated": rng.randrange(0, total + 1),
            "content_readers": readers, "readers_activated": rng.randrange(0, readers + 1),
            "upgrade_revenue": Decimal(rng.randrange(0, 100))})
    for _ in range(rng.randrange(0, 4)):
        impressions = rng.randrange(0, 500)
        m.SocialStat.objects.get_or_create(date=local_date(_instant(rng)), network=rng.choice(["twitter", "linkedin"]),
                                           defaults={"impressions": impressions, "clicks": 0,
                                                     "engagements": rng.randrange(0, 50)})
        views = rng.randrange(0, 100)
        m.CtaStat.objects.get_or_create(date=local_date(_instant(rng)), cta="demo",
                                        placement=rng.choice(["site", "blog"]),
                                        defaults={"views": views, "clicks": rng.randrange(0, views + 1)})
        m.LandingPage.objects.get_or_create(date=local_date(_instant(rng)), page=rng.choice(["/a", "/b"]),
                                            source=rng.choice(["social", "email"]), defaults={
                                                "campaign": rng.choice([None, *camps]), "views": views,
                                                "submissions": rng.randrange(0, views + 1)})
    for i in range(rng.randrange(0, 4)):
        registrants = rng.randrange(0, 100)
        m.Webinar.objects.create(external_id=f"w{i}", name="w", campaign=rng.choice([None, *camps]),
                                 held_at=_instant(rng), registrants=registrants,
                                 attendees=rng.randrange(0, registrants + 1))
        claimed = rng.randrange(0, registrants + 1)
        m.DirectMail.objects.create(external_id=f"m{i}", campaign=rng.choice([None, *camps]), sent_at=_instant(rng),
                                    sent=registrants, claimed=claimed, meetings_booked=rng.randrange(0, claimed + 1))
    for domain in rng.sample(["acme.com", "sub.acme.com", "x.org", "none.net"], rng.randrange(0, 4)):
        m.TargetAccount.objects.create(domain=domain, name=domain)


def _windows(rng: random.Random) -> list[Window]:
    as_of = (START + dt.timedelta(days=rng.randrange(30, 230))).date()
    start = as_of - dt.timedelta(days=rng.randrange(0, 120))
    return [window_for("mtd", as_of=as_of), window_for("qtd", as_of=as_of), window_for("ytd", as_of=as_of),
            window_for("last_30", as_of=as_of), window_for("custom", start=start, end=as_of)]


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= 1e-4 * max(1.0, abs(float(b)))


BREAKDOWN_DIMS = ("channel", "owner", "campaign", "content", "network", "placement", "source", "feature",
                  "industry", "offer", "disqualification_reason")


def check_same_age_and_mature(reference: Reference, result: dict, window: Window, flt=None) -> None:
    """The same-age previous and the mature part equal a direct reading of the raw records."""
    from smarketing.kpis.judgement import MATURITY_DAYS

    key = result["metric"]
    if not result["previous"].get("same_age"):
        return
    previous = window.previous()
    got = (result["previous"]["numerator"], result["previous"]["denominator"])
    expected = reference.aged(key, previous, flt)
    assert got == expected, (key, window, flt, got, expected)
    last = min(window.end, window.as_of - dt.timedelta(days=MATURITY_DAYS[key]))
    if last < window.start:
        assert result["mature"] == {"numerator": 0, "denominator": 0, "value": None}, (key, window)
    else:
        part = Window("custom", window.start, last, last)
        assert close(result["mature"]["value"], reference.value(key, part, flt)), (key, window, flt, result["mature"])


@pytest.mark.django_db
@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), fiscal=st.sampled_from([1, 4]))
def test_facts_answer_equals_direct_computation(settings, seed, fiscal):
    settings.SMARKETING_TIMEZONE = "America/New_York"
    settings.FISCAL_YEAR_START_MONTH = fiscal
    settings.SLA_MIN_ATTEMPTS = 2
    rng = random.Random(seed)
    with transaction.atomic():
        build(rng)
        facts_rebuild()
        reference = Reference(settings)
        for window in _windows(rng):
            results = kpi_values(metrics=list(METRICS), window=window)
            for result in results:
                expected = reference.value(result["metric"], window)
                assert close(result["value"], expected), (result["metric"], window, result["value"], expected)
                check_same_age_and_mature(reference, result, window)
            dim = rng.choice(BREAKDOWN_DIMS)
            carrying = [key for key, metric in METRICS.items() if dim in metric.dimensions]
            for result in kpi_values(metrics=carrying, window=window, dimension=dim):
                for item in result["breakdown"]:
                    expected = reference.value(result["metric"], window, (dim, {item["key"]}))
                    assert close(item["value"], expected), (result["metric"], dim, item, expected)
                    check_same_age_and_mature(reference, {**item, "metric": result["metric"]}, window,
                                              (dim, {item["key"]}))
                listed = {item["key"] for item in result["breakdown"]}
                if METRICS[result["metric"]].kind == "flow":
                    # Every key with a non-zero flow is listed (and so sums to the total).
                    total = sum(item["value"] for item in result["breakdown"])
                    if result["metric"] != "content_assisted_customers":
                        assert close(total, result["value"]), (result["metric"], dim, total)
                keys = sorted(listed)[:2]
                if keys:
                    filtered = kpi_values(metrics=[result["metric"]], window=window, filters={dim: keys})[0]
                    expected = reference.value(result["metric"], window, (dim, set(keys)))
                    assert close(filtered["value"], expected), (result["metric"], dim, keys, expected)
        series_window = _windows(rng)[-1]
        for key in rng.sample(list(METRICS), 8):
            for point in kpi_series(metric=key, window=series_window, grain=rng.choice(["day", "week", "month"])):
                bucket = Window("custom", point["start"], point["end"], point["end"])
                assert close(point["value"], reference.value(key, bucket)), (key, bucket, point)
        transaction.set_rollback(True)
