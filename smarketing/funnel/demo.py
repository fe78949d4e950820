"""Realistic, deterministic demo data for every funnel resource (behind `seed_demo`).

The same seed and the same "today" give the same rows. Contacts and the records that hang
off them (deals, activities, touches) are generated day by day and written in chunks, so a
million contacts never sit in memory at once; every other resource is a few thousand rows.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import math
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from django.db import connection, reset_queries, transaction
from django.db.models import Count, Model, Sum

from smarketing.funnel import models as m
from smarketing.funnel.db import tables_analyze
from smarketing.funnel.signals import records_changed
from smarketing.kpis.windows import add_months, period_bounds

UTC = dt.UTC
HISTORY_DAYS = 730
BATCH = 2000
CONTACT_CHUNK = 5000
DEFAULT_CONTACTS = 20000

# Every resource in data-contract.md order, with its model: writes go in this order and
# deletes in the reverse one, so references always point at rows that exist.
RESOURCES: dict[str, type[Model]] = {
    "team_members": m.TeamMember,
    "campaigns": m.Campaign,
    "content": m.Content,
    "contacts": m.Contact,
    "deals": m.Deal,
    "activities": m.Activity,
    "touches": m.Touch,
    "web_traffic": m.WebTraffic,
    "cta_stats": m.CtaStat,
    "landing_pages": m.LandingPage,
    "email_sends": m.EmailSend,
    "audience": m.Audience,
    "social_stats": m.SocialStat,
    "spend": m.Spend,
    "webinars": m.Webinar,
    "direct_mail": m.DirectMail,
    "feature_usage": m.FeatureUsage,
    "target_accounts": m.TargetAccount,
    "targets": m.Target,
}

Progress = Callable[[str, int], None]

# --- the shape of the business ---------------------------------------------------------

# Share of new leads per source channel, and how much better (or worse) than average
# those leads convert down the funnel.
CHANNEL_MIX: dict[str, tuple[float, float]] = {
    "organic_search": (0.20, 1.00),
    "paid_search": (0.14, 0.90),
    "email": (0.08, 1.10),
    "social": (0.06, 0.80),
    "paid_social": (0.08, 0.70),
    "blog": (0.09, 0.85),
    "content_syndication": (0.05, 0.65),
    "webinar": (0.06, 1.25),
    "direct_mail": (0.02, 1.30),
    "referral": (0.05, 1.70),
    "direct": (0.10, 1.15),
    "events": (0.04, 1.20),
    "other": (0.03, 0.80),
}
CHANNELS = tuple(CHANNEL_MIX)

# What made the lead (offer): share of leads, and multipliers on the chance to become an MQL
# and to close once an opportunity. Hand-raisers close about 5x better than e-book readers,
# the gap the seeds' close-rate analysis by type of lead is meant to show.
OFFERS: tuple[tuple[str, float, float, float], ...] = (
    ("demo_request", 0.09, 1.7, 1.6),
    ("free_trial", 0.10, 1.35, 1.25),
    ("contact_sales", 0.05, 1.6, 1.5),
    ("ebook", 0.22, 0.6, 0.65),
    ("whitepaper", 0.10, 0.75, 0.75),
    ("webinar", 0.12, 1.0, 0.95),
    ("case_study", 0.06, 1.05, 1.0),
    ("newsletter", 0.14, 0.6, 0.75),
    ("event", 0.07, 1.1, 1.0),
    ("other", 0.05, 0.9, 0.9),
)
OFFER_WEIGHTS = tuple((name, share) for name, share, _, _ in OFFERS)
OFFER_FACTORS = {name: (to_mql, to_close) for name, _, to_mql, to_close in OFFERS}
# A company's industry (by its place in the pool) and how well it converts.
INDUSTRIES = (("Software", 1.15), ("Financial services", 1.0), ("Healthcare", 0.8), ("Manufacturing", 0.9),
              ("Retail", 0.85), ("Education", 0.7), ("Logistics", 0.95), ("Professional services", 1.05))
# Why MQLs are rejected (sales) and leads ruled out before they qualify (marketing).
SALES_REJECTIONS = (("no_budget", 0.24), ("no_need", 0.18), ("no_authority", 0.14), ("bad_timing", 0.16),
                    ("competitor", 0.09), ("unreachable", 0.12), ("bad_fit", 0.05), ("other", 0.02))
MARKETING_REJECTIONS = (("bad_data", 0.55), ("bad_fit", 0.35), ("other", 0.10))
# Share of the MQLs that never become SQLs that sales rejects (about 15 % of all MQLs).
REJECTED_SHARE = 0.27
CHANNEL_CUM = tuple(
    sum(share for share, _ in list(CHANNEL_MIX.values())[: i + 1]) for i in range(len(CHANNEL_MIX))
)

# Channels that run campaigns: (themes, typical length in days, parallel streams, paid).
CAMPAIGN_PLAN: dict[str, tuple[tuple[str, ...], int, int, bool]] = {
    "paid_search": (("Brand", "Competitor terms", "Category terms", "Retargeting"), 90, 2, True),
    "paid_social": (("LinkedIn lead gen", "Retargeting", "Lookalike audiences"), 60, 2, True),
    "email": (("Nurture track", "Product launch", "Win-back", "Event invitation"), 60, 1, False),
    "social": (("Customer stories", "Thought leadership", "Hiring brand"), 75, 1, False),
    "content_syndication": (("State of RevOps report", "Buyer's guide", "Benchmark study"), 90, 1, True),
    "webinar": (("Webinar series", "Partner webinars", "Product deep dives"), 90, 1, True),
    "direct_mail": (("Executive gift box", "Book mailer", "Holiday cards"), 45, 1, True),
    "events": (("SaaStr booth", "Regional roadshow", "Customer summit", "Dreamforce meetups"), 30, 1, True),
    "blog": (("SEO content sprint", "Guest post series"), 120, 1, False),
}

# (name, email, team, role, hired days before today or None)
SALES_REPS = (
    ("Avery Johnson", "avery.johnson", None),
    ("Blake Martinez", "blake.martinez", None),
    ("Casey Nguyen", "casey.nguyen", None),
    ("Devon Patel", "devon.patel", None),
    ("Emerson Kim", "emerson.kim", None),
    ("Finley Okafor", "finley.okafor", 540),
    ("Harper Rossi", "harper.rossi", 300),
    ("Jordan Silva", "jordan.silva", 150),
)
# Reps are not equally diligent: the SLA panel should show someone lagging.
REP_WORK_RATE = (0.95, 0.93, 0.90, 0.97, 0.78, 0.92, 0.88, 0.85)
MARKETING_TEAM = (
    ("Morgan Lee", "morgan.lee", "marketing", "executive"),
    ("Riley Chen", "riley.chen", "marketing", "email_marketing"),
    ("Quinn Foster", "quinn.foster", "marketing", "blog"),
    ("Sage Alvarez", "sage.alvarez", "sales", "sales_enablement"),
    ("Rowan Brooks", "rowan.brooks", "marketing", "social_media"),
    ("Parker Ito", "parker.ito", "marketing", "product_marketing"),
    ("Reese Walker", "reese.walker", "marketing", "conversion_optimization"),
    ("Dakota Reyes", "dakota.reyes", "marketing", "campaigns"),
    ("Taylor Morgan", "taylor.morgan", "sales", "sales_manager"),
    ("Cameron Diaz-Wright", "cameron.diaz-wright", "marketing", "channels"),
)
TEAM_DOMAIN = "smarketing-demo.example"


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony "
    "Betty Mark Sandra Paul Ashley Steven Emily Andrew Donna Kenneth Michelle Joshua Carol Kevin "
    "Amanda Brian Melissa George Deborah Omar Aisha Wei Yuki Lucas Sofia Mateo Chloe Arjun Priya"
)
LAST_NAMES = words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Chen Singh Okafor"
)
COMPANY_PREFIXES = words(
    "North Blue Bright Iron Silver Green Red Swift Clear True Peak Prime Nova Alpha Summit "
    "Harbor Maple Cedar Granite Atlas Beacon Vertex Orbit Pioneer Crescent Evergreen Golden "
    "Lumen Quantum Cobalt Meridian Sterling Horizon Keystone Apex Vector Falcon Willow Aurora"
)
COMPANY_CORES = words(
    "wind field stone bridge point wave leaf path gate works labs logic data cloud metrics "
    "signal forge yard line scale flow grid sight mark core loop stack track base craft shift "
    "sphere nest port range ridge bay spark pulse"
)
COMPANY_KINDS = ("Inc", "Analytics", "Software", "Systems", "Group", "Health", "Logistics", "Retail",
                 "Partners", "Technologies")
TLDS = ("com", "io", "co", "net", "ai")
PERSONAL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com")

WEB_PAGES: tuple[tuple[str, str, float, tuple[tuple[str, float], ...]], ...] = (
    # page, section, share of all visits, source mix
    ("/", "site", 0.22, (("organic_search", 0.35), ("direct", 0.35), ("paid_search", 0.15),
                         ("referral", 0.1), ("social", 0.05))),
    ("/pricing", "site", 0.08, (("direct", 0.4), ("organic_search", 0.3), ("paid_search", 0.2),
                                ("email", 0.1))),
    ("/product", "site", 0.07, (("organic_search", 0.4), ("direct", 0.3), ("paid_search", 0.3))),
    ("/features", "site", 0.05, (("organic_search", 0.5), ("direct", 0.3), ("referral", 0.2))),
    ("/customers", "site", 0.03, (("direct", 0.5), ("organic_search", 0.3), ("social", 0.2))),
    ("/about", "site", 0.02, (("direct", 0.6), ("organic_search", 0.4))),
    ("/contact", "site", 0.02, (("direct", 0.7), ("organic_search", 0.3))),
    ("/demo", "site", 0.03, (("direct", 0.4), ("paid_search", 0.3), ("email", 0.3))),
    ("/blog", "blog", 0.06, (("organic_search", 0.4), ("social", 0.3), ("email", 0.2), ("direct", 0.1))),
    ("/lp/free-trial", "landing", 0.04, (("paid_search", 0.6), ("social", 0.25), ("email", 0.15))),
    ("/lp/roi-calculator", "landing", 0.03, (("paid_search", 0.5), ("email", 0.3), ("social", 0.2))),
    ("/lp/state-of-revops", "landing", 0.03, (("social", 0.5), ("email", 0.3), ("other", 0.2))),
    ("/lp/webinar", "landing", 0.02, (("email", 0.6), ("social", 0.4))),
    ("/lp/demo-request", "landing", 0.03, (("paid_search", 0.7), ("organic_search", 0.3))),
)
BLOG_PAGE_SHARE = 0.27  # spread over the most-read posts
BLOG_PAGE_COUNT = 8
BLOG_SOURCES = (("organic_search", 0.6), ("social", 0.2), ("email", 0.12), ("referral", 0.08))
LANDING_SOURCE_CHANNEL = {"paid_search": "paid_search", "social": "paid_social", "email": "email"}
CTAS = (
    ("Book a demo", ("site", "email"), 0.05),
    ("Start free trial", ("site", "blog"), 0.04),
    ("Download the ebook", ("blog", "social"), 0.06),
    ("Subscribe to the blog", ("blog",), 0.025),
    ("Watch the webinar", ("email", "social"), 0.07),
    ("See pricing", ("site",), 0.09),
)
AUDIENCE_PLAN = {
    # channel: (size at the start per 20k contacts, growth over two years as a factor)
    "email_list": (12000, 2.4),
    "blog_subscribers": (3500, 2.0),
    "twitter": (8200, 1.4),
    "facebook": (5400, 1.15),
    "linkedin": (9600, 2.1),
    "instagram": (2100, 1.9),
    "youtube": (1300, 2.6),
    "other_social": (600, 1.3),
}
FEATURES = (
    # feature, launched days before today (None = before the history), adoption start, end
    ("Dashboards", None, 0.82, 0.93),
    ("Daily digest", None, 0.45, 0.71),
    ("CSV import", None, 0.60, 0.66),
    ("API access", None, 0.12, 0.28),
    ("Targets and pacing", 420, 0.05, 0.52),
    ("Multi-touch attribution", 200, 0.02, 0.31),
)
CONTENT_PLAN = (
    # content type, items per year per type, url prefix, title stems
    ("blog_post", 96, "blog", ("How to", "Why", "The guide to", "5 ways to", "What we learned about")),
    ("case_study", 8, "customers", ("Case study:",)),
    ("ebook", 5, "resources", ("The ebook:",)),
    ("whitepaper", 4, "resources", ("Whitepaper:",)),
    ("video", 6, "videos", ("Video:",)),
    ("report", 2, "resources", ("Report:",)),
    ("landing_page", 3, "lp", ("Landing page:",)),
    ("other", 2, "resources", ("Checklist:",)),
)
TOPICS = (
    "lead scoring", "MQL definitions", "sales and marketing alignment", "pipeline velocity",
    "attribution models", "the SLA between sales and marketing", "email deliverability",
    "landing page tests", "account-based marketing", "churn", "customer lifetime value",
    "content that converts", "webinar follow-up", "direct mail in B2B", "paid social budgets",
    "forecasting revenue", "RevOps dashboards", "nurture tracks", "demo no-shows", "SEO for SaaS",
)


@dataclass
class Plan:
    """The fixed inputs of one run and the calendar derived from them."""

    contacts: int
    seed: int
    today: dt.date
    tz: dt.tzinfo = field(init=False)
    first_day: dt.date = field(init=False)
    days: list[dt.date] = field(init=False)
    midnights: list[dt.datetime] = field(init=False)
    cutoff: dt.datetime = field(init=False)
    leads_per_day: list[int] = field(init=False)
    day_weights: list[float] = field(init=False)
    scale: float = field(init=False)
    contacts_per_weight: float = field(init=False)

    def __post_init__(self) -> None:
        self.tz = m.company_tz()
        self.first_day = self.today - dt.timedelta(days=HISTORY_DAYS)
        self.days = [self.first_day + dt.timedelta(days=i) for i in range(HISTORY_DAYS)]
        self.midnights = [self.midnight(day) for day in self.days]
        # Nothing has happened yet today: every record is dated before the start of today.
        self.cutoff = self.midnight(self.today)
        self.scale = self.contacts / DEFAULT_CONTACTS
        rng = random.Random(f"{self.seed}:calendar")
        self.day_weights = [self.demand(day) * rng.lognormvariate(0, 0.12) for day in self.days]
        self.leads_per_day = spread(self.contacts, self.day_weights)
        self.contacts_per_weight = self.contacts / sum(self.day_weights)

    def midnight(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=self.tz).astimezone(UTC)

    def demand(self, day: dt.date) -> float:
        """Relative lead volume: growth, seasons, weekdays and the holidays."""
        growth = 1.0 + 0.6 * (day - self.first_day).days / HISTORY_DAYS
        season = 1.0 + 0.12 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 75) / 365.25)
        season *= 1.0 + 0.08 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 290) / 182.6)
        weekday = (1.05, 1.12, 1.10, 1.05, 0.92, 0.40, 0.36)[day.weekday()]
        if (day.month == 12 and day.day >= 22) or (day.month == 1 and day.day <= 2):
            weekday *= 0.45
        if day.month == 8:
            weekday *= 0.85
        return growth * season * weekday

    def index(self, instant: dt.datetime) -> int:
        """Day index of an instant (clipped to the history)."""
        return max(0, min(HISTORY_DAYS - 1, bisect.bisect_right(self.midnights, instant) - 1))

    def expected_leads(self, day: dt.date) -> float:
        """Leads the model expects on any day, also in the future (for targets)."""
        return self.demand(day) * self.contacts_per_weight


def spread(total: int, weights: list[float]) -> list[int]:
    """Split `total` over `weights` in whole numbers that add up exactly."""
    out, acc, done, whole = [], 0.0, 0, sum(weights)
    for weight in weights:
        acc += weight
        upto = round(total * acc / whole)
        out.append(upto - done)
        done = upto
    return out


def money(value: float) -> Decimal:
    return Decimal(f"{max(value, 0.0):.2f}")


def weighted(rng: random.Random, pairs: tuple[tuple[str, float], ...]) -> str:
    point, acc = rng.random() * sum(w for _, w in pairs), 0.0
    for key, weight in pairs:
        acc += weight
        if point < acc:
            return key
    return pairs[-1][0]


def company(index: int) -> tuple[str, str]:
    """The index-th company of an endless deterministic pool: (name, web domain)."""
    prefix = COMPANY_PREFIXES[index % len(COMPANY_PREFIXES)]
    rest = index // len(COMPANY_PREFIXES)
    core = COMPANY_CORES[rest % len(COMPANY_CORES)]
    rest //= len(COMPANY_CORES)
    kind = COMPANY_KINDS[rest % len(COMPANY_KINDS)]
    generation = rest // len(COMPANY_KINDS)
    suffix = str(generation + 1) if generation else ""
    name = f"{prefix}{core} {kind}" + (f" {suffix}" if suffix else "")
    domain = f"{prefix}{core}{kind}{suffix}".lower() + "." + TLDS[(index * 7) % len(TLDS)]
    return name, domain


def slug(text: str) -> str:
    out = "".join(ch if ch.isalnum() else "-" for ch in text.lower())
    return "-".join(part for part in out.split("-") if part)


class Writer:
    """Buffered bulk inserts that fill local dates first (bulk_create skips save())."""

    def __init__(self, plan: Plan, progress: Progress | None) -> None:
        self.plan = plan
        self.progress = progress
        self.counts: dict[str, int] = dict.fromkeys(RESOURCES, 0)
        self.days: dict[str, set[dt.date]] = {name: set() for name in RESOURCES}

    def write(self, resource: str, rows: Iterable[Model]) -> list[Model]:
        model = RESOURCES[resource]
        objs = list(rows)
        date_fields = local_date_fields(model)
        days = self.days[resource]
        for obj in objs:
            if isinstance(obj, m.LocalDatesMixin):
                obj.fill_local_dates()
            for name in date_fields:
                value = getattr(obj, name)
                if value is not None:
                    days.add(value)
        if objs:
            # Django sets primary keys on the objects (PostgreSQL and SQLite >= 3.35).
            model.objects.bulk_create(objs, batch_size=BATCH)
            # With DEBUG on, Django keeps the last 9,000 statements: at this size that is
            # gigabytes of INSERT text.
            reset_queries()
        self.counts[resource] += len(objs)
        return objs

    def step(self, label: str, amount: int = 1) -> None:
        if self.progress is not None:
            self.progress(label, amount)


# --- public functions --------------------------------------------------------------------


def local_date_fields(model: type[Model]) -> list[str]:
    """The date columns a resource's KPIs filter by: `date` or the `*_on` companions."""
    return [f.name for f in model._meta.fields
            if isinstance(f, m.models.DateField) and not isinstance(f, m.models.DateTimeField)
            and (f.name == "date" or f.name.endswith("_on"))]


def demo_has_data() -> bool:
    return any(model.objects.exists() for model in RESOURCES.values())


def demo_clear() -> dict[str, set[dt.date]]:
    """Delete every funnel record; returns, per resource, the local dates the rows carried."""
    touched: dict[str, set[dt.date]] = {}
    for resource, model in RESOURCES.items():
        touched[resource] = set()
        for name in local_date_fields(model):
            touched[resource].update(
                d for d in model.objects.order_by().values_list(name, flat=True).distinct() if d
            )
    # Raw DELETEs in reverse dependency order: the ORM collector would load every row to
    # check PROTECT references, which is far too slow at a million contacts.
    m.Contact.objects.update(referred_by=None)
    with connection.cursor() as cursor:
        for model in reversed(RESOURCES.values()):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
    return touched


def demo_seed(
    *, contacts: int = DEFAULT_CONTACTS, seed: int = 1, today: dt.date, progress: Progress | None = None,
    extra_days: dict[str, set[dt.date]] | None = None,
) -> dict[str, int]:
    """Write two years of demo data ending the day before `today`; returns rows per resource.

    Sends `records_changed` once per resource (inside the transaction, as ingest does)
    with every local date written plus `extra_days` (e.g. those of deleted data).
    """
    if contacts < 100:
        raise ValueError("seed_demo needs at least 100 contacts to make a funnel")
    plan = Plan(contacts=contacts, seed=seed, today=today)
    writer = Writer(plan, progress)
    with transaction.atomic():
        team = team_members_seed(plan=plan, writer=writer)
        campaigns, spend_plan = campaigns_seed(plan=plan, writer=writer)
        contents = content_seed(plan=plan, writer=writer, campaigns=campaigns)
        new_customers = contacts_seed(plan=plan, writer=writer, team=team, campaigns=campaigns,
                                      contents=contents)
        traffic_seed(plan=plan, writer=writer, campaigns=campaigns)
        email_sends_seed(plan=plan, writer=writer, campaigns=campaigns)
        audience_seed(plan=plan, writer=writer)
        spend_seed(plan=plan, writer=writer, spend_plan=spend_plan)
        events_seed(plan=plan, writer=writer, campaigns=campaigns)
        feature_usage_seed(plan=plan, writer=writer, new_customers=new_customers)
        target_accounts_seed(plan=plan, writer=writer)
        targets_seed(plan=plan, writer=writer, team=team, campaigns=campaigns)
        # Before the notices: the recompute they queue on commit plans with fresh statistics.
        transaction.on_commit(partial(tables_analyze, RESOURCES.values(), vacuum=True))
        all_days = set(plan.days)
        for resource in RESOURCES:
            days = writer.days[resource] or all_days
            days = days | (extra_days or {}).get(resource, set())
            records_changed.send(sender=RESOURCES[resource], resource=resource, days=sorted(days),
                                 contact_ids=None)
    return writer.counts


# --- team, campaigns, content ----------------------------------------------------------------


@dataclass(frozen=True)
class Rep:
    member: m.TeamMember
    hired: dt.datetime | None
    work_rate: float


def team_members_seed(*, plan: Plan, writer: Writer) -> list[Rep]:
    rows = [
        m.TeamMember(email=f"{handle}@{TEAM_DOMAIN}", name=name, team="sales", role="shared")
        for name, handle, _ in SALES_REPS
    ] + [
        m.TeamMember(email=f"{handle}@{TEAM_DOMAIN}", name=name, team=team, role=role)
        for name, handle, team, role in MARKETING_TEAM
    ]
    writer.write("team_members", rows)
    writer.step("team_members")
    reps = []
    for (_, _, hired), member, rate in zip(SALES_REPS, rows[: len(SALES_REPS)], REP_WORK_RATE, strict=True):
        hired_at = plan.midnight(plan.today - dt.timedelta(days=hired)) if hired else None
        reps.append(Rep(member, hired_at, rate))
    return reps


@dataclass
class Campaigns:
    """Campaign rows and, per channel and day index, the ones running that day."""

    rows: list[m.Campaign]
    active: dict[str, list[tuple[m.Campaign, ...]]]

    def pick(self, rng: random.Random, channel: str, day_index: int) -> m.Campaign | None:
        running = self.active.get(channel)
        if not running or not running[day_index]:
            return None
        options = running[day_index]
        return options[rng.randrange(len(options))]


def campaigns_seed(*, plan: Plan, writer: Writer) -> tuple[Campaigns, list[tuple]]:
    rng = random.Random(f"{plan.seed}:campaigns")
    rows: list[m.Campaign] = []
    spans: dict[str, list[tuple[int, int, m.Campaign]]] = {}
    number = 0
    for channel, (themes, length, streams, _paid) in CAMPAIGN_PLAN.items():
        spans[channel] = []
        for stream in range(streams):
            cursor = -rng.randrange(0, length)
            theme_index = stream
            while cursor < HISTORY_DAYS:
                span = max(14, int(length * rng.uniform(0.6, 1.4)))
                start_i, end_i = cursor, cursor + span - 1
                start = plan.first_day + dt.timedelta(days=start_i)
                end = plan.first_day + dt.timedelta(days=end_i)
                number += 1
                theme = themes[theme_index % len(themes)]
                label = m.Channel(channel).label
                # The running campaign has no end date yet.
                open_ended = end_i >= HISTORY_DAYS - 1 and rng.random() < 0.5
                campaign = m.Campaign(
                    external_id=f"CMP-{number:04d}",
                    name=f"{label}: {theme} ({start:%b %Y})",
                    channel=channel,
                    start_date=start,
                    end_date=None if open_ended else end,
                )
                rows.append(campaign)
                spans[channel].append((start_i, end_i, campaign))
                theme_index += 1
                cursor = end_i + 1 + rng.randrange(0, 10)
    spend_plan = spend_planned(plan=plan, spans=spans)
    budgets: dict[int, float] = {}
    for _day, _channel, campaign, amount, _category, _desc in spend_plan:
        if campaign is not None:
            budgets[id(campaign)] = budgets.get(id(campaign), 0.0) + amount
    for campaign in rows:
        spent = budgets.get(id(campaign))
        if spent:
            campaign.budget = money(round(spent * rng.uniform(1.0, 1.25), -2))
    writer.write("campaigns", rows)
    writer.step("campaigns")
    active: dict[str, list[tuple[m.Campaign, ...]]] = {}
    for channel, channel_spans in spans.items():
        per_day: list[list[m.Campaign]] = [[] for _ in range(HISTORY_DAYS)]
        for start_i, end_i, campaign in channel_spans:
            for i in range(max(0, start_i), min(HISTORY_DAYS - 1, end_i) + 1):
                per_day[i].append(campaign)
        active[channel] = [tuple(day) for day in per_day]
    return Campaigns(rows, active), spend_plan


# Share of the marketing budget per channel: (share, share of it booked on campaigns).
SPEND_MIX = {
    "paid_search": (0.28, 0.9), "paid_social": (0.17, 0.9), "events": (0.12, 0.85),
    "content_syndication": (0.08, 0.9), "webinar": (0.05, 0.7), "direct_mail": (0.06, 0.9),
    "email": (0.04, 0.5), "blog": (0.07, 0.3), "organic_search": (0.05, 0.0), "social": (0.04, 0.4),
    "other": (0.04, 0.0),
}
COST_PER_LEAD = 140.0
SALES_SPEND_SHARE = 0.65


def spend_planned(*, plan: Plan, spans: dict[str, list[tuple[int, int, m.Campaign]]]) -> list[tuple]:
    """Weekly marketing spend per channel (split over its running campaigns) and monthly sales spend."""
    rng = random.Random(f"{plan.seed}:spend")
    total_marketing = plan.contacts * COST_PER_LEAD
    weight_sum = sum(plan.day_weights)
    rows: list[tuple] = []
    for week_start in range(0, HISTORY_DAYS, 7):
        week = range(week_start, min(week_start + 7, HISTORY_DAYS))
        week_budget = total_marketing * sum(plan.day_weights[i] for i in week) / weight_sum
        day = plan.days[week_start]
        for channel, (share, on_campaigns) in SPEND_MIX.items():
            amount = week_budget * share * rng.uniform(0.8, 1.2)
            running = [c for s, e, c in spans.get(channel, ()) if s <= week_start <= e]
            if running and on_campaigns:
                for campaign in running:
                    rows.append((day, channel, campaign, amount * on_campaigns / len(running),
                                 "marketing", f"{m.Channel(channel).label} media"))
                amount *= 1 - on_campaigns
            if amount >= 1:
                rows.append((day, channel, None, amount, "marketing",
                             f"{m.Channel(channel).label} tools and agency fees"))
    month = plan.first_day.replace(day=1)
    while month < plan.today:
        first = max(month, plan.first_day)
        month_days = [i for i, d in enumerate(plan.days) if d.year == month.year and d.month == month.month]
        if month_days:
            budget = total_marketing * SALES_SPEND_SHARE * sum(plan.day_weights[i] for i in month_days) / weight_sum
            rows.append((first, "other", None, budget * 0.8, "sales", "Sales team salaries and commissions"))
            rows.append((first, "other", None, budget * 0.12 * rng.uniform(0.8, 1.2), "sales", "Sales tools"))
            rows.append((first, "events", None, budget * 0.08 * rng.uniform(0.5, 1.5), "sales",
                         "Sales travel to customer events"))
        month = add_months(month, 1)
    return rows


def content_seed(*, plan: Plan, writer: Writer, campaigns: Campaigns) -> list[m.Content]:
    rng = random.Random(f"{plan.seed}:content")
    rows: list[m.Content] = []
    number = 0
    for content_type, per_year, prefix, stems in CONTENT_PLAN:
        count = max(1, round(per_year * HISTORY_DAYS / 365))
        for k in range(count):
            number += 1
            # Some items predate the history: the blog had posts before the demo's first day.
            day_index = int((k + rng.random()) / count * (HISTORY_DAYS + 60)) - 60
            published = plan.midnight(plan.first_day) + dt.timedelta(days=day_index, hours=rng.uniform(8, 17))
            topic = TOPICS[rng.randrange(len(TOPICS))]
            title = f"{stems[rng.randrange(len(stems))]} {topic}"
            channel = "blog" if content_type == "blog_post" else "content_syndication"
            campaign = campaigns.pick(rng, channel, max(0, day_index)) if rng.random() < 0.4 else None
            rows.append(m.Content(
                external_id=f"CNT-{number:04d}",
                title=title[0].upper() + title[1:],
                content_type=content_type,
                url=f"https://www.{TEAM_DOMAIN}/{prefix}/{slug(title)}-{number}",
                published_at=published,
                campaign=campaign,
            ))
    rows.sort(key=lambda c: (c.published_at, c.external_id))
    writer.write("content", rows)
    writer.step("content")
    return rows


# --- contacts and what hangs off them ------------------------------------------------------


@dataclass
class Sequences:
    contact: int = 0
    deal: int = 0
    activity: int = 0
    touch: int = 0


def hours(value: float) -> dt.timedelta:
    return dt.timedelta(hours=value)


def contacts_seed(
    *, plan: Plan, writer: Writer, team: list[Rep], campaigns: Campaigns, contents: list[m.Content]
) -> list[int]:
    """Contacts day by day with their deals, sales activities and touches; returns new customers per day."""
    rng = random.Random(f"{plan.seed}:contacts")
    seq = Sequences()
    content_times = [c.published_at for c in contents]
    new_customers = [0] * HISTORY_DAYS
    # Customers (primary keys) become available as referrers once their customer_at has
    # passed; only keys are kept, so memory stays flat at a million contacts.
    pending_referrers: list[tuple[dt.datetime, int]] = []
    referrers: list[int] = []
    company_pool = max(200, plan.contacts // 6)
    buffer: list[m.Contact] = []
    for day_index, count in enumerate(plan.leads_per_day):
        midnight = plan.midnights[day_index]
        while pending_referrers and pending_referrers[0][0] < midnight:
            referrers.append(heapq.heappop(pending_referrers)[1])
        for _ in range(count):
            contact = contact_make(plan=plan, rng=rng, seq=seq, day_index=day_index, team=team,
                                   campaigns=campaigns, company_pool=company_pool, referrers=referrers)
            buffer.append(contact)
        # Flushing at least monthly also makes earlier customers available as referrers.
        last_of_month = day_index == HISTORY_DAYS - 1 or plan.days[day_index + 1].day == 1
        if buffer and (len(buffer) >= CONTACT_CHUNK or last_of_month):
            contacts_flush(plan=plan, writer=writer, rng=rng, seq=seq, buffer=buffer, team=team,
                           campaigns=campaigns, contents=contents, content_times=content_times)
            for contact in buffer:
                if contact.customer_at is not None:
                    new_customers[plan.index(contact.customer_at)] += 1
                    heapq.heappush(pending_referrers, (contact.customer_at, contact.pk))
            writer.step("contacts", len(buffer))
            buffer = []
    return new_customers


def contact_make(
    *, plan: Plan, rng: random.Random, seq: Sequences, day_index: int, team: list[Rep],
    campaigns: Campaigns, company_pool: int, referrers: list[int],
) -> m.Contact:
    seq.contact += 1
    point = rng.random()
    channel = CHANNELS[bisect.bisect_right(CHANNEL_CUM, point * CHANNEL_CUM[-1])]
    quality = CHANNEL_MIX[channel][1]
    # Leads arrive mostly in working hours.
    lead_at = plan.midnights[day_index] + hours(min(23.9, max(0.1, rng.gauss(13, 3.5))))
    campaign = campaigns.pick(rng, channel, day_index) if rng.random() < 0.75 else None
    first, last = FIRST_NAMES[rng.randrange(len(FIRST_NAMES))], LAST_NAMES[rng.randrange(len(LAST_NAMES))]
    industry, industry_factor = "", 1.0
    if rng.random() < 0.8:
        index = int(company_pool * rng.random() ** 2)
        name, domain = company(index)
        email = f"{first}.{last}@{domain}".lower()
        # One company is always in the same industry; a few leads leave it blank.
        if rng.random() < 0.93:
            industry, industry_factor = INDUSTRIES[(index * 5 + index // 7) % len(INDUSTRIES)]
    else:
        name = ""
        email = f"{first}.{last}{rng.randrange(10, 999)}@{PERSONAL_DOMAINS[rng.randrange(5)]}".lower()
    referred_by_id = None
    if channel == "referral" and referrers and rng.random() < 0.7:
        referred_by_id = referrers[rng.randrange(len(referrers))]
    offer = weighted(rng, OFFER_WEIGHTS)
    contact = m.Contact(
        external_id=f"C{seq.contact:07d}", email=email, company=name, industry=industry, offer=offer,
        source_channel=channel, campaign=campaign, referred_by_id=referred_by_id, lead_at=lead_at,
    )
    lifecycle_fill(plan=plan, rng=rng, contact=contact, quality=quality * industry_factor, team=team)
    return contact


def disqualify(*, plan: Plan, rng: random.Random, contact: m.Contact, after: dt.datetime,
               reasons: tuple[tuple[str, float], ...], within_hours: float) -> None:
    """Rule the contact out some time after `after`, unless that is still in the future."""
    at = after + hours(rng.uniform(1, within_hours))
    if at < plan.cutoff:
        contact.disqualified_at = at
        contact.disqualification_reason = weighted(rng, reasons)


def lifecycle_fill(*, plan: Plan, rng: random.Random, contact: m.Contact, quality: float,
                   team: list[Rep]) -> None:
    """Walk the contact down the funnel; a stage that would fall after today has not happened."""
    cutoff = plan.cutoff
    lead_at = contact.lead_at
    if rng.random() < 0.42:
        nurture_at = lead_at + hours(rng.uniform(0.5, 72))
        contact.nurture_at = nurture_at if nurture_at < cutoff else None
    to_mql, to_close = OFFER_FACTORS[contact.offer]
    if rng.random() >= min(0.85, 0.33 * quality * to_mql):
        if rng.random() < 0.06:
            disqualify(plan=plan, rng=rng, contact=contact, after=lead_at, reasons=MARKETING_REJECTIONS,
                       within_hours=24 * 20)
        return
    delay = rng.expovariate(1 / 60) if contact.nurture_at is None else rng.uniform(72, 24 * 45)
    mql_at = lead_at + hours(delay + 0.2)
    if mql_at >= cutoff:
        return
    contact.mql_at = mql_at
    hired = [rep for rep in team if rep.hired is None or rep.hired <= mql_at]
    contact.owner = hired[rng.randrange(len(hired))].member
    if rng.random() < 0.38:
        demo_at = mql_at + hours(rng.uniform(20, 24 * 10))
        contact.demo_at = demo_at if demo_at < cutoff else None
    if rng.random() >= min(0.8, 0.41 * math.sqrt(quality)):
        if rng.random() < REJECTED_SHARE:
            disqualify(plan=plan, rng=rng, contact=contact, after=mql_at, reasons=SALES_REJECTIONS,
                       within_hours=24 * 21)
        return
    sql_at = mql_at + hours(rng.expovariate(1 / 110) + 1)
    # Reps reach the leads that will qualify whether or not that happens before today: the
    # activities read the planned SQL time, so a young cohort is not connected less often
    # than an older one was at the same age (a false alarm in the same-age comparison).
    contact.planned_sql_at = sql_at
    if sql_at >= cutoff:
        return
    contact.sql_at = sql_at
    if rng.random() >= 0.62:
        return
    opportunity_at = sql_at + hours(rng.expovariate(1 / 90) + 2)
    if opportunity_at >= cutoff:
        return
    contact.opportunity_at = opportunity_at
    if rng.random() >= min(0.9, 0.30 * math.sqrt(quality) * to_close):
        return
    customer_at = opportunity_at + hours(rng.uniform(24 * 14, 24 * 95))
    if customer_at >= cutoff:
        return
    contact.customer_at = customer_at
    if rng.random() < 0.16:
        churned_at = customer_at + hours(rng.uniform(24 * 60, 24 * 420))
        contact.churned_at = churned_at if churned_at < cutoff else None


PLANS = (("Starter plan", 0.55), ("Growth plan", 1.0), ("Scale plan", 2.2), ("Enterprise plan", 4.5))


def contacts_flush(
    *, plan: Plan, writer: Writer, rng: random.Random, seq: Sequences, buffer: list[m.Contact],
    team: list[Rep], campaigns: Campaigns, contents: list[m.Content], content_times: list[dt.datetime],
) -> None:
    """Write a chunk of contacts, then their deals, activities and touches."""
    writer.write("contacts", buffer)
    deals: list[m.Deal] = []
    activities: list[m.Activity] = []
    touches: list[m.Touch] = []
    rep_rate = {rep.member.email: rep.work_rate for rep in team}
    for contact in buffer:
        deals.extend(deals_make(plan=plan, rng=rng, seq=seq, contact=contact, team=team))
        activities.extend(activities_make(plan=plan, rng=rng, seq=seq, contact=contact, team=team,
                                          rep_rate=rep_rate))
        touches.extend(touches_make(plan=plan, rng=rng, seq=seq, contact=contact, campaigns=campaigns,
                                    contents=contents, content_times=content_times))
    writer.write("deals", deals)
    writer.write("activities", activities)
    writer.write("touches", touches)


def deals_make(*, plan: Plan, rng: random.Random, seq: Sequences, contact: m.Contact,
               team: list[Rep]) -> Iterator[m.Deal]:
    if contact.opportunity_at is not None:
        tier, factor = PLANS[min(3, int(rng.random() ** 1.8 * 4))]
        amount = round(18000 * factor * rng.lognormvariate(0, 0.35), -2)
        status, closed_at = "open", None
        if contact.customer_at is not None:
            status, closed_at = "won", contact.customer_at
        else:
            lost_at = contact.opportunity_at + hours(rng.uniform(24 * 10, 24 * 130))
            if lost_at < plan.cutoff and rng.random() < 0.9:
                status, closed_at = "lost", lost_at
        seq.deal += 1
        yield m.Deal(external_id=f"D{seq.deal:07d}", contact=contact, owner=contact.owner,
                     name=f"{contact.company or contact.email}: {tier}", amount=money(amount),
                     mrr=money(amount / 12), status=status, created_at=contact.opportunity_at,
                     closed_at=closed_at)
        # Deals registered by partners have no contact in the CRM.
        if rng.random() < 0.03:
            seq.deal += 1
            created = contact.opportunity_at + hours(rng.uniform(1, 24 * 20))
            if created < plan.cutoff:
                closed = created + hours(rng.uniform(24 * 20, 24 * 90))
                status = ("won" if rng.random() < 0.35 else "lost") if closed < plan.cutoff else "open"
                partner_amount = round(12000 * rng.lognormvariate(0, 0.4), -2)
                yield m.Deal(external_id=f"D{seq.deal:07d}", contact=None,
                             owner=team[rng.randrange(len(team))].member if rng.random() < 0.8 else None,
                             name="Partner-sourced deal", amount=money(partner_amount),
                             mrr=money(partner_amount / 12), status=status, created_at=created,
                             closed_at=None if status == "open" else closed)
    if contact.customer_at is not None and rng.random() < 0.12:
        created = contact.customer_at + hours(rng.uniform(24 * 60, 24 * 300))
        if created < plan.cutoff and (contact.churned_at is None or created < contact.churned_at):
            seq.deal += 1
            closed = created + hours(rng.uniform(24 * 7, 24 * 45))
            status = ("won" if rng.random() < 0.7 else "lost") if closed < plan.cutoff else "open"
            upsell = round(6000 * rng.lognormvariate(0, 0.4), -2)
            yield m.Deal(external_id=f"D{seq.deal:07d}", contact=contact, owner=contact.owner,
                         name=f"{contact.company or contact.email}: expansion", amount=money(upsell),
                         mrr=money(upsell / 12), status=status, created_at=created,
                         closed_at=None if status == "open" else closed)


ACTIVITY_TYPES = (("call", 0.56), ("email", 0.40), ("meeting", 0.04))
# Most attempts go unanswered: about half the worked leads are ever reached.
CONNECT_RATE = {"call": 0.12, "email": 0.06, "meeting": 0.9}


def activities_make(*, plan: Plan, rng: random.Random, seq: Sequences, contact: m.Contact,
                    team: list[Rep], rep_rate: dict[str, float]) -> Iterator[m.Activity]:
    def activity(owner: m.TeamMember | None, kind: str, at: dt.datetime, connected: bool) -> m.Activity:
        seq.activity += 1
        return m.Activity(external_id=f"A{seq.activity:08d}", contact=contact, owner=owner,
                          activity_type=kind, occurred_at=at, connected=connected)

    cutoff = plan.cutoff
    if contact.mql_at is None:
        # Prospecting before a lead qualifies: counted as sales activity, never as an attempt.
        if rng.random() < 0.75:
            hired = [r for r in team if r.hired is None or r.hired <= contact.lead_at]
            owner = hired[rng.randrange(len(hired))].member
            at = contact.lead_at
            for _ in range(rng.randint(1, 4)):
                at = at + hours(rng.uniform(2, 24 * 6))
                if at >= cutoff:
                    break
                kind = "email" if rng.random() < 0.7 else "call"
                yield activity(owner, kind, at, rng.random() < CONNECT_RATE[kind] / 2)
        return
    owner = contact.owner
    if rng.random() >= rep_rate[owner.email]:
        return  # a delivered lead nobody worked: what the SLA panel is for
    attempts = rng.choice((3, 3, 4, 4, 5, 5, 5, 6, 6, 7, 8))
    at = contact.mql_at + hours(rng.expovariate(1 / 14) + 0.1)
    made: list[m.Activity] = []
    for _ in range(attempts):
        if at >= cutoff:
            break
        kind = weighted(rng, ACTIVITY_TYPES)
        by = owner if rng.random() < 0.94 else team[rng.randrange(len(team))].member
        made.append(activity(by, kind, at, rng.random() < CONNECT_RATE[kind]))
        at = at + hours(rng.uniform(4, 24 * 4))
    # A lead that becomes an SQL is reached at least once before it does.
    planned_sql_at = getattr(contact, "planned_sql_at", None) or contact.sql_at
    if planned_sql_at is not None and made and not any(a.connected for a in made):
        before = [a for a in made if a.occurred_at <= planned_sql_at] or made
        before[rng.randrange(len(before))].connected = True
    yield from made
    if contact.opportunity_at is not None:
        end = contact.customer_at or min(cutoff, contact.opportunity_at + hours(24 * 90))
        for _ in range(rng.randint(1, 3)):
            at = contact.opportunity_at + hours(rng.uniform(1, max(2.0, (end - contact.opportunity_at).total_seconds() / 3600)))
            if at < cutoff:
                yield activity(owner, "meeting", at, True)


TOUCH_CHANNELS = (("email", 0.35), ("webinar", 0.12), ("blog", 0.18), ("social", 0.1),
                  ("paid_search", 0.1), ("paid_social", 0.07), ("direct", 0.08))
CONTENT_CHANNELS = {"blog", "content_syndication", "social", "organic_search", "email", "webinar",
                    "paid_social"}


def touches_make(*, plan: Plan, rng: random.Random, seq: Sequences, contact: m.Contact,
                 campaigns: Campaigns, contents: list[m.Content],
                 content_times: list[dt.datetime]) -> Iterator[m.Touch]:
    def touch(at: dt.datetime, channel: str, campaign: m.Campaign | None) -> m.Touch:
        seq.touch += 1
        content = None
        if channel in CONTENT_CHANNELS and rng.random() < 0.55:
            available = bisect.bisect_right(content_times, at)
            if available:
                content = contents[rng.randrange(max(0, available - 40), available)]
        return m.Touch(external_id=f"T{seq.touch:08d}", contact=contact, occurred_at=at,
                       channel=channel, campaign=campaign, content=content)

    lead_at = contact.lead_at
    if rng.random() < 0.3:
        # An earlier anonymous visit that was attributed once the lead converted.
        before = lead_at - hours(rng.uniform(24, 24 * 30))
        channel = "organic_search" if rng.random() < 0.6 else "blog"
        yield touch(before, channel, None)
    yield touch(lead_at, contact.source_channel, contact.campaign)
    end = contact.customer_at or contact.opportunity_at or contact.mql_at
    if end is None:
        extra = 1 if rng.random() < 0.35 else 0
        end = min(plan.cutoff, lead_at + hours(24 * 60))
    else:
        extra = rng.randint(1, 3)
    span = (end - lead_at).total_seconds() / 3600
    for _ in range(extra):
        at = lead_at + hours(rng.uniform(0.5, max(1.0, span)))
        if at >= plan.cutoff:
            continue
        channel = weighted(rng, TOUCH_CHANNELS)
        yield touch(at, channel, campaigns.pick(rng, channel, plan.index(at)) if rng.random() < 0.6 else None)


# --- daily web, email, audience, spend, events ---------------------------------------------------

VISIT_TO_LEAD = 0.021


def traffic_seed(*, plan: Plan, writer: Writer, campaigns: Campaigns) -> None:
    """web_traffic, landing_pages and cta_stats, consistent with each other and with leads."""
    rng = random.Random(f"{plan.seed}:traffic")
    blog_pages = [f"/blog/{slug(TOPICS[i])}" for i in range(BLOG_PAGE_COUNT)]
    blog_shares = [1 / (i + 1.5) for i in range(BLOG_PAGE_COUNT)]
    blog_norm = sum(blog_shares)
    layout = [(page, section, share, sources) for page, section, share, sources in WEB_PAGES]
    layout += [(page, "blog", BLOG_PAGE_SHARE * s / blog_norm, BLOG_SOURCES)
               for page, s in zip(blog_pages, blog_shares, strict=True)]
    traffic: list[m.WebTraffic] = []
    landings: list[m.LandingPage] = []
    ctas: list[m.CtaStat] = []
    for i, day in enumerate(plan.days):
        visits_today = plan.leads_per_day[i] / VISIT_TO_LEAD * rng.uniform(0.85, 1.15)
        section_visits = {"site": 0, "blog": 0, "landing": 0}
        for page, section, share, sources in layout:
            for source, source_share in sources:
                visits = int(visits_today * share * source_share * rng.uniform(0.7, 1.3))
                if visits <= 0:
                    continue
                entrances = int(visits * rng.uniform(0.45, 0.9))
                bounces = int(entrances * rng.uniform(0.3, 0.65))
                traffic.append(m.WebTraffic(date=day, page=page, section=section, source=source,
                                            visits=visits, entrances=entrances, bounces=bounces))
                section_visits[section] += visits
                if section == "landing":
                    channel = LANDING_SOURCE_CHANNEL.get(source)
                    landings.append(m.LandingPage(
                        date=day, page=page, source=source,
                        campaign=campaigns.pick(rng, channel, i) if channel else None,
                        views=visits, submissions=int(visits * rng.uniform(0.06, 0.24)),
                    ))
        for cta, placements, rate in CTAS:
            for placement in placements:
                base = section_visits["blog" if placement == "blog" else "site"]
                if placement in ("email", "social"):
                    base = base * 0.3
                views = int(base * rng.uniform(0.1, 0.35))
                if views:
                    ctas.append(m.CtaStat(date=day, cta=cta, placement=placement, views=views,
                                          clicks=int(views * rate * rng.uniform(0.6, 1.4))))
        if len(traffic) > 20000:
            writer.write("web_traffic", traffic)
            traffic = []
    writer.write("web_traffic", traffic)
    writer.step("web_traffic")
    writer.write("landing_pages", landings)
    writer.step("landing_pages")
    writer.write("cta_stats", ctas)
    writer.step("cta_stats")


def audience_sizes(plan: Plan, channel: str) -> list[int]:
    rng = random.Random(f"{plan.seed}:audience:{channel}")
    start, growth = AUDIENCE_PLAN[channel]
    base = start * plan.scale
    size, out = base, []
    daily = (growth - 1) * base / HISTORY_DAYS
    for _ in plan.days:
        size = max(0.0, size + daily * rng.uniform(0.2, 1.8) - (daily * 0.15 if rng.random() < 0.05 else 0))
        out.append(int(size))
    return out


def audience_seed(*, plan: Plan, writer: Writer) -> None:
    rng = random.Random(f"{plan.seed}:social")
    rows: list[m.Audience] = []
    social: list[m.SocialStat] = []
    for channel in AUDIENCE_PLAN:
        sizes = audience_sizes(plan, channel)
        rows.extend(m.Audience(date=day, channel=channel, size=size)
                    for day, size in zip(plan.days, sizes, strict=True))
        if channel in m.SOCIAL_AUDIENCE_CHANNELS:
            for day, size in zip(plan.days, sizes, strict=True):
                weekday = 1.0 if day.weekday() < 5 else 0.55
                impressions = int(size * rng.uniform(0.15, 0.6) * weekday)
                engagements = int(impressions * rng.uniform(0.01, 0.045))
                social.append(m.SocialStat(date=day, network=channel, impressions=impressions,
                                           engagements=engagements,
                                           clicks=int(engagements * rng.uniform(0.1, 0.35))))
    writer.write("audience", rows)
    writer.step("audience")
    writer.write("social_stats", social)
    writer.step("social_stats")


def email_sends_seed(*, plan: Plan, writer: Writer, campaigns: Campaigns) -> None:
    rng = random.Random(f"{plan.seed}:email")
    list_sizes = audience_sizes(plan, "email_list")
    rows: list[m.EmailSend] = []
    number = 0
    for i, day in enumerate(plan.days):
        sends: list[tuple[str, str, float, int]] = []
        if day.weekday() == 1:
            sends.append(("newsletter", f"Newsletter {day:%d %b %Y}", 1.0, 10))
        if day.weekday() in (0, 2, 4):
            sends.append(("nurture", f"Nurture step {(i // 2) % 6 + 1}", 0.12, 8))
        if day.weekday() == 3 and (i // 7) % 2 == 0:
            sends.append(("promotional", f"Promotion {day:%b %Y}", 0.6, 15))
        if day.day == 20:
            sends.append(("other", f"Product update {day:%b %Y}", 0.9, 11))
        for email_type, name, reach, hour in sends:
            number += 1
            sent = max(10, int(list_sizes[i] * reach * rng.uniform(0.9, 1.0)))
            delivered = int(sent * rng.uniform(0.955, 0.992))
            opens = int(delivered * rng.uniform(0.17, 0.32))
            clicks = int(delivered * rng.uniform(0.015, 0.05))
            campaign = None if email_type == "newsletter" else campaigns.pick(rng, "email", i)
            rows.append(m.EmailSend(
                external_id=f"EM-{number:05d}", name=name, campaign=campaign, email_type=email_type,
                sent_at=plan.midnights[i] + hours(hour + rng.uniform(0, 0.5)), sent=sent,
                delivered=delivered, unique_opens=opens, unique_clicks=clicks,
                unsubscribes=int(delivered * rng.uniform(0.0008, 0.004)),
            ))
    writer.write("email_sends", rows)
    writer.step("email_sends")


# Paid media bought per campaign: (cost per click, click rate) around which a week varies.
PAID_MEDIA = {"paid_search": (3.8, 0.045), "paid_social": (2.6, 0.009), "content_syndication": (6.5, 0.004)}


def spend_seed(*, plan: Plan, writer: Writer, spend_plan: list[tuple]) -> None:
    rng = random.Random(f"{plan.seed}:paid-media")
    rows = []
    for n, (day, channel, campaign, amount, category, description) in enumerate(spend_plan, start=1):
        impressions = clicks = None
        if campaign is not None and channel in PAID_MEDIA:
            cost_per_click, click_rate = PAID_MEDIA[channel]
            clicks = int(amount / (cost_per_click * rng.uniform(0.8, 1.25)))
            impressions = max(clicks, int(clicks / (click_rate * rng.uniform(0.75, 1.3))))
        rows.append(m.Spend(external_id=f"SP-{n:06d}", date=day, channel=channel, campaign=campaign,
                            category=category, amount=money(amount), description=description,
                            impressions=impressions, clicks=clicks))
    writer.write("spend", rows)
    writer.step("spend")


def events_seed(*, plan: Plan, writer: Writer, campaigns: Campaigns) -> None:
    """Webinars twice a month and a direct-mail drop every month."""
    rng = random.Random(f"{plan.seed}:events")
    webinars: list[m.Webinar] = []
    mail: list[m.DirectMail] = []
    size = max(plan.scale, 0.05)
    for i, day in enumerate(plan.days):
        if day.weekday() == 3 and day.day <= 14 and (day.day - 1) // 7 in (0, 1):
            registrants = max(5, int(rng.uniform(90, 320) * size))
            webinars.append(m.Webinar(
                external_id=f"WEB-{len(webinars) + 1:04d}",
                name=f"Webinar: {TOPICS[rng.randrange(len(TOPICS))]} ({day:%b %Y})",
                campaign=campaigns.pick(rng, "webinar", i), held_at=plan.midnights[i] + hours(16),
                registrants=registrants, attendees=int(registrants * rng.uniform(0.3, 0.55)),
            ))
        if day.day == 8:
            sent = max(10, int(rng.uniform(250, 900) * size))
            claimed = int(sent * rng.uniform(0.08, 0.22))
            mail.append(m.DirectMail(
                external_id=f"DM-{len(mail) + 1:04d}", name=f"Direct mail drop {day:%b %Y}",
                campaign=campaigns.pick(rng, "direct_mail", i), sent_at=plan.midnights[i] + hours(9),
                sent=sent, claimed=claimed, meetings_booked=int(claimed * rng.uniform(0.1, 0.35)),
            ))
    writer.write("webinars", webinars)
    writer.step("webinars")
    writer.write("direct_mail", mail)
    writer.step("direct_mail")


def feature_usage_seed(*, plan: Plan, writer: Writer, new_customers: list[int]) -> None:
    """Daily product readings: the customer base is the demo's own customers plus the older ones."""
    rng = random.Random(f"{plan.seed}:features")
    base = max(5, int(60 * plan.scale))
    totals, running = [], base
    for count in new_customers:
        running += count
        totals.append(running)
    rows: list[m.FeatureUsage] = []
    for feature, launched, adoption_start, adoption_end in FEATURES:
        first = 0 if launched is None else HISTORY_DAYS - launched
        for i in range(first, HISTORY_DAYS):
            progress = (i - first) / max(1, HISTORY_DAYS - first)
            adoption = adoption_start + (adoption_end - adoption_start) * progress
            total = totals[i]
            readers = int(rng.uniform(2, 25) * max(plan.scale, 0.2))
            upgrades = rng.random() < 0.08
            rows.append(m.FeatureUsage(
                date=plan.days[i], feature=feature, customers_total=total,
                customers_activated=min(total, int(total * adoption * rng.uniform(0.97, 1.03))),
                content_readers=readers, readers_activated=int(readers * rng.uniform(0.04, 0.2)),
                upgrade_revenue=money(rng.uniform(200, 2500) * max(plan.scale, 0.2)) if upgrades else Decimal("0"),
            ))
    writer.write("feature_usage", rows)
    writer.step("feature_usage")


def target_accounts_seed(*, plan: Plan, writer: Writer) -> None:
    """Named accounts: most are companies the contacts come from, some have never engaged."""
    rng = random.Random(f"{plan.seed}:accounts")
    pool = max(200, plan.contacts // 6)
    count = min(2000, 80 + plan.contacts // 250)
    chosen: dict[str, str] = {}
    while len(chosen) < count:
        if rng.random() < 0.7:
            # The head of the pool: the companies most leads come from.
            name, domain = company(int(pool * 0.3 * rng.random()))
        else:
            name, domain = company(pool * 3 + rng.randrange(pool * 10))
        chosen[domain.lower()] = name
    rows = [m.TargetAccount(domain=domain, name=name) for domain, name in sorted(chosen.items())]
    writer.write("target_accounts", rows)
    writer.step("target_accounts")


SLA_COMMITMENT = 0.9
# Days from a lead to the customer it becomes, typically (qualifying, SQL, opportunity, close):
# a month's customers and deals come from the leads of about two months before.
CUSTOMER_LAG_DAYS = 70
# Leads younger than this are still qualifying: left out of the lead → MQL ratio.
QUALIFYING_DAYS = 60


@dataclass(frozen=True)
class Economics:
    """The demo's own funnel and deal economics, measured on the history just written.

    Targets are planned from these, as a sales team plans from its track record: round guesses
    (a 33 % MQL rate and 8.5 % close rate the model never reaches, customers from the same
    month's leads) put every month behind target and fill the attention list with noise."""

    lead_to_mql: float
    customers_per_lead: float  # customers of a day per lead expected CUSTOMER_LAG_DAYS before
    deals_per_customer: float
    revenue_per_deal: float
    mrr_per_revenue: float


def economics_measure(plan: Plan) -> Economics:
    settled = plan.cutoff - dt.timedelta(days=QUALIFYING_DAYS)
    leads = m.Contact.objects.filter(lead_at__lt=settled).aggregate(
        n=Count("id"), mqls=Count("mql_at"))
    # Customers after the first months, when the history's first leads have had time to close.
    since = plan.first_day + dt.timedelta(days=2 * CUSTOMER_LAG_DAYS)
    customers = m.Contact.objects.filter(customer_on__gte=since).count()
    lagged = sum(plan.expected_leads(day - dt.timedelta(days=CUSTOMER_LAG_DAYS)) for day in plan.days if day >= since)
    won = m.Deal.objects.filter(status="won", closed_on__gte=since).aggregate(
        n=Count("id"), revenue=Sum("amount"), mrr=Sum("mrr"))
    revenue = float(won["revenue"] or 0)
    return Economics(
        lead_to_mql=leads["mqls"] / leads["n"] if leads["n"] else 0.3,
        customers_per_lead=customers / lagged if lagged else 0.02,
        deals_per_customer=won["n"] / customers if customers else 1.0,
        revenue_per_deal=revenue / won["n"] if won["n"] else 24000.0,
        mrr_per_revenue=float(won["mrr"] or 0) / revenue if revenue else 1 / 12,
    )


# Channels with their own lead targets (and email its MQLs): the blog and email pages judge
# their filtered tiles against these, never against the team-wide number.
CHANNEL_TARGETS = ("blog", "email", "paid_search", "webinar")
CAMPAIGN_TARGET_CHANNELS = ("paid_search", "webinar", "events")


def campaign_targets(*, plan: Plan, campaigns: Campaigns, start: dt.date, end: dt.date,
                     rng: random.Random) -> list[m.Target]:
    """A month's lead target for each campaign of a few channels running in it (history only)."""
    expected: dict[int, tuple[m.Campaign, float]] = {}
    for channel in CAMPAIGN_TARGET_CHANNELS:
        running = campaigns.active.get(channel) or []
        day = start
        while day <= end:
            index = (day - plan.first_day).days
            if 0 <= index < len(running) and running[index]:
                # Leads of the channel that day, 3 in 4 of them on one of the running campaigns.
                share = plan.expected_leads(day) * CHANNEL_MIX[channel][0] * 0.75 / len(running[index])
                for campaign in running[index]:
                    total = expected.get(id(campaign), (campaign, 0.0))[1]
                    expected[id(campaign)] = (campaign, total + share)
            day += dt.timedelta(days=1)
    return [m.Target(metric="leads", period="month", period_start=start, campaign=campaign,
                     value=Decimal(max(1, round(total * rng.uniform(0.94, 1.10)))))
            for campaign, total in expected.values() if total >= 1]


def targets_seed(*, plan: Plan, writer: Writer, team: list[Rep], campaigns: Campaigns) -> None:
    """Targets for every month, fiscal quarter and fiscal year of the history and the current ones."""
    rng = random.Random(f"{plan.seed}:targets")
    economics = economics_measure(plan)
    rows: list[m.Target] = []
    non_reps = list(m.TeamMember.objects.filter(team="sales").exclude(pk__in=[rep.member.pk for rep in team]))
    last_day = period_bounds("year", plan.today)[1]
    for kind in ("month", "quarter", "year"):
        start = period_bounds(kind, plan.first_day)[0]
        while start <= last_day:
            end = period_bounds(kind, start)[1]
            span = (end - start).days + 1
            leads = sum(plan.expected_leads(start + dt.timedelta(days=k)) for k in range(span))
            lagged = sum(plan.expected_leads(start + dt.timedelta(days=k - CUSTOMER_LAG_DAYS)) for k in range(span))
            # Some periods beat their target, some miss it: the pace badges show both.
            stretch = rng.uniform(0.95, 1.06)
            customers = lagged * economics.customers_per_lead * stretch
            deals = customers * economics.deals_per_customer
            revenue = deals * economics.revenue_per_deal
            team_values = {
                "leads": round(leads * stretch),
                "mqls": round(leads * economics.lead_to_mql * stretch),
                "customers": round(customers),
                "deals_won": round(deals),
                "revenue": round(revenue, -3),
                "new_mrr": round(revenue * economics.mrr_per_revenue, -2),
                "visits": round(leads / VISIT_TO_LEAD * stretch, -2),
                "marketing_spend": round(leads * COST_PER_LEAD, -3),
                "lead_to_mql_rate": 33.0,
                "mql_to_sql_rate": 40.0,
                "lead_to_customer_rate": 2.5,
                "leads_worked_rate": 90.0,
                "worked_to_connected_rate": 65.0,
                "win_rate": 33.0,
            }
            for metric, value in team_values.items():
                rows.append(m.Target(metric=metric, period=kind, period_start=start, owner=None,
                                     value=Decimal(str(value))))
            for channel in CHANNEL_TARGETS:
                channel_leads = leads * CHANNEL_MIX[channel][0] * rng.uniform(0.94, 1.10)
                rows.append(m.Target(metric="leads", period=kind, period_start=start, channel=channel,
                                     value=Decimal(round(channel_leads))))
                if channel == "email":
                    rows.append(m.Target(metric="mqls", period=kind, period_start=start, channel=channel,
                                         value=Decimal(round(channel_leads * economics.lead_to_mql
                                                             * CHANNEL_MIX[channel][1]))))
            if kind == "month":
                rows += campaign_targets(plan=plan, campaigns=campaigns, start=start, end=end, rng=rng)
            active = [rep for rep in team if rep.hired is None or rep.hired.date() <= end]
            for rep in active:
                share = 1 / len(active)
                quota = {
                    "revenue": round(team_values["revenue"] * share * rng.uniform(0.9, 1.1), -3),
                    "deals_won": max(1, round(team_values["deals_won"] * share)),
                }
                if kind == "month":
                    # Per-rep delivery SLA sized to the demo's volume (overrides the setting);
                    # a rep in their first three months takes a lighter load.
                    # The SLA is a commitment marketing expects to keep: nine tenths of the MQLs the
                    # model expects, not the stretched MQL target.
                    ramping = rep.hired is not None and start <= rep.hired.date() + dt.timedelta(days=90)
                    expected_mqls = leads * economics.lead_to_mql * SLA_COMMITMENT
                    quota["leads_delivered"] = max(5, round(expected_mqls * share * (0.6 if ramping else 1.0)))
                for metric, value in quota.items():
                    rows.append(m.Target(metric=metric, period=kind, period_start=start, owner=rep.member,
                                         value=Decimal(str(value))))
            if kind == "month":
                # Before a rep is hired nothing is delivered to them: a zero SLA for those
                # months, or the year-to-date SLA would count the setting's default for them.
                # Sales people who take no leads (the manager, enablement) have a zero SLA too.
                idle = [rep.member for rep in team if rep not in active] + non_reps
                for member in idle:
                    rows.append(m.Target(metric="leads_delivered", period=kind, period_start=start,
                                         owner=member, value=Decimal(0)))
            start = end + dt.timedelta(days=1)
    writer.write("targets", rows)
    writer.step("targets")

