"""Funnel records: one model per resource of data-contract.md.

Keys are unique constraints and the count and lifecycle sanity rules are check
constraints, so they hold whoever writes. Every timestamp a KPI filters by has a
companion `*_on` column: its calendar date in the company time zone, filled by
`fill_local_dates()` on every write path, so facts can `GROUP BY` a plain date on
SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
from itertools import combinations
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


def company_tz() -> ZoneInfo:
    return ZoneInfo(settings.SMARKETING_TIMEZONE)


def local_date(value: dt.datetime | None, tz: ZoneInfo | None = None) -> dt.date | None:
    """The calendar date of an instant in the company time zone (naive = already local).

    `tz`: the company zone when the caller already holds it (a bulk import, once per chunk).
    """
    if value is None:
        return None
    tzinfo = value.tzinfo
    # Naive, or read in the company zone itself (every naive cell of an import): the wall
    # clock is already local.
    if tzinfo is None or (tz is not None and tzinfo is tz):
        return value.date()
    return value.astimezone(tz or company_tz()).date()


class Channel(models.TextChoices):
    ORGANIC_SEARCH = "organic_search", _("Organic search")
    PAID_SEARCH = "paid_search", _("Paid search")
    EMAIL = "email", _("Email")
    SOCIAL = "social", _("Social")
    PAID_SOCIAL = "paid_social", _("Paid social")
    BLOG = "blog", _("Blog")
    CONTENT_SYNDICATION = "content_syndication", _("Content syndication")
    WEBINAR = "webinar", _("Webinar")
    DIRECT_MAIL = "direct_mail", _("Direct mail")
    REFERRAL = "referral", _("Referral")
    DIRECT = "direct", _("Direct")
    EVENTS = "events", _("Events")
    OTHER = "other", _("Other")


class WebSource(models.TextChoices):
    ORGANIC_SEARCH = "organic_search", _("Organic search")
    PAID_SEARCH = "paid_search", _("Paid search")
    SOCIAL = "social", _("Social")
    EMAIL = "email", _("Email")
    REFERRAL = "referral", _("Referral")
    DIRECT = "direct", _("Direct")
    OTHER = "other", _("Other")


class Team(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    SALES = "sales", _("Sales")


class Role(models.TextChoices):
    """Dashboard role keys (kpi-catalogue.md, Dashboards)."""

    SHARED = "shared", _("Shared sales & marketing")
    EXECUTIVE = "executive", _("Executive")
    EMAIL_MARKETING = "email_marketing", _("Email marketing")
    BLOG = "blog", _("Blog")
    SALES_ENABLEMENT = "sales_enablement", _("Sales enablement")
    SOCIAL_MEDIA = "social_media", _("Social media")
    PRODUCT_MARKETING = "product_marketing", _("Product marketing")
    CONVERSION_OPTIMIZATION = "conversion_optimization", _("Conversion optimization")
    CAMPAIGNS = "campaigns", _("Campaigns")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    CHANNELS = "channels", _("Channels")


class ContentType(models.TextChoices):
    BLOG_POST = "blog_post", _("Blog post")
    CASE_STUDY = "case_study", _("Case study")
    EBOOK = "ebook", _("E-book")
    WHITEPAPER = "whitepaper", _("Whitepaper")
    LANDING_PAGE = "landing_page", _("Landing page")
    VIDEO = "video", _("Video")
    WEBINAR = "webinar", _("Webinar")
    REPORT = "report", _("Report")
    OTHER = "other", _("Other")


class DealStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class ActivityType(models.TextChoices):
    CALL = "call", _("Call")
    EMAIL = "email", _("Email")
    MEETING = "meeting", _("Meeting")


class Section(models.TextChoices):
    SITE = "site", _("Site")
    BLOG = "blog", _("Blog")
    LANDING = "landing", _("Landing")


class Placement(models.TextChoices):
    SITE = "site", _("Site")
    BLOG = "blog", _("Blog")
    SOCIAL = "social", _("Social")
    EMAIL = "email", _("Email")


class EmailType(models.TextChoices):
    NEWSLETTER = "newsletter", _("Newsletter")
    NURTURE = "nurture", _("Nurture")
    PROMOTIONAL = "promotional", _("Promotional")
    OTHER = "other", _("Other")


class AudienceChannel(models.TextChoices):
    EMAIL_LIST = "email_list", _("Email list")
    BLOG_SUBSCRIBERS = "blog_subscribers", _("Blog subscribers")
    TWITTER = "twitter", _("Twitter")
    FACEBOOK = "facebook", _("Facebook")
    LINKEDIN = "linkedin", _("LinkedIn")
    INSTAGRAM = "instagram", _("Instagram")
    YOUTUBE = "youtube", _("YouTube")
    OTHER_SOCIAL = "other_social", _("Other social")


SOCIAL_AUDIENCE_CHANNELS = ("twitter", "facebook", "linkedin", "instagram", "youtube", "other_social")


class Offer(models.TextChoices):
    """What made a contact a lead (the "type of lead" of the seeds' close-rate analysis)."""

    DEMO_REQUEST = "demo_request", _("Demo request")
    FREE_TRIAL = "free_trial", _("Free trial")
    CONTACT_SALES = "contact_sales", _("Contact sales")
    EBOOK = "ebook", _("E-book")
    WHITEPAPER = "whitepaper", _("Whitepaper")
    WEBINAR = "webinar", _("Webinar")
    CASE_STUDY = "case_study", _("Case study")
    NEWSLETTER = "newsletter", _("Newsletter")
    EVENT = "event", _("Event")
    OTHER = "other", _("Other")


class DisqualificationReason(models.TextChoices):
    NO_BUDGET = "no_budget", _("No budget")
    NO_AUTHORITY = "no_authority", _("No authority")
    NO_NEED = "no_need", _("No need")
    BAD_TIMING = "bad_timing", _("Bad timing")
    COMPETITOR = "competitor", _("Chose a competitor")
    BAD_FIT = "bad_fit", _("Bad fit")
    BAD_DATA = "bad_data", _("Bad data")
    UNREACHABLE = "unreachable", _("Unreachable")
    OTHER = "other", _("Other")


class Network(models.TextChoices):
    TWITTER = "twitter", _("Twitter")
    FACEBOOK = "facebook", _("Facebook")
    LINKEDIN = "linkedin", _("LinkedIn")
    INSTAGRAM = "instagram", _("Instagram")
    YOUTUBE = "youtube", _("YouTube")
    OTHER_SOCIAL = "other_social", _("Other social")


class SpendCategory(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    SALES = "sales", _("Sales")


class Period(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


def money(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=14, decimal_places=2, **kwargs)


def non_negative(*fields: str, model: str) -> list[models.CheckConstraint]:
    return [
        models.CheckConstraint(condition=Q(**{f"{name}__gte": 0}), name=f"{model}_{name}_non_negative")
        for name in fields
    ]


def not_above(smaller: str, larger: str, *, model: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{smaller}__lte": F(larger)}), name=f"{model}_{smaller}_not_above_{larger}"
    )


def not_before(later: str, earlier: str, *, model: str) -> models.CheckConstraint:
    """`later >= earlier` whenever both are set (either may be null: a stage may be skipped)."""
    return models.CheckConstraint(
        condition=Q(**{f"{later}__isnull": True})
        | Q(**{f"{earlier}__isnull": True})
        | Q(**{f"{later}__gte": F(earlier)}),
        name=f"{model}_{later}_not_before_{earlier}",
    )


class LocalDatesMixin(models.Model):
    """Keeps each `<name>_at` timestamp's company-time-zone date in `<name>_on`."""

    LOCAL_DATE_FIELDS: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def fill_local_dates(self) -> None:
        for name in self.LOCAL_DATE_FIELDS:
            setattr(self, f"{name}_on", local_date(getattr(self, f"{name}_at")))

    def save(self, *args, **kwargs):
        self.fill_local_dates()
        super().save(*args, **kwargs)


class TeamMember(models.Model):
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200)
    team = models.CharField(max_length=20, choices=Team.choices)
    role = models.CharField(max_length=40, choices=Role.choices, blank=True, default="")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="team_member"
    )

    class Meta:
        ordering = ["name"]
        permissions = [("manage_data", "Can upload, import and change funnel data and targets")]
        constraints = [
            models.CheckConstraint(condition=Q(team__in=Team.values), name="teammember_team_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class Campaign(models.Model):
    external_id = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=300)
    channel = models.CharField(max_length=30, choices=Channel.choices, db_index=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    budget = money(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            not_before("end_date", "start_date", model="campaign"),
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | Q(budget__gte=0), name="campaign_budget_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Content(LocalDatesMixin):
    LOCAL_DATE_FIELDS = ("published",)

    external_id = models.CharField(max_length=100, unique=True)
    title = models.CharField(max_length=500)
    content_type = models.CharField(max_length=30, choices=ContentType.choices)
    url = models.URLField(max_length=1000, blank=True, default="")
    published_at = models.DateTimeField(null=True, blank=True)
    published_on = models.DateField(null=True, blank=True, db_index=True, editable=False)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        ordering = ["-published_at"]
        verbose_name_plural = "content"

    def __str__(self) -> str:
        return self.title


CONTACT_STAGES = ("lead", "mql", "sql", "opportunity", "customer", "churned")


def _contact_constraints() -> list[models.CheckConstraint]:
    ordered = [
        not_before(f"{later}_at", f"{earlier}_at", model="contact")
        for earlier, later in combinations(CONTACT_STAGES, 2)
    ]
    side = [not_before(f"{stage}_at", "lead_at", model="contact") for stage in ("nurture", "demo", "disqualified")]
    # A reason exactly when there is a disqualification (data-contract.md, contacts).
    reason = models.CheckConstraint(
        condition=Q(disqualified_at__isnull=True, disqualification_reason="")
        | Q(disqualified_at__isnull=False) & ~Q(disqualification_reason=""),
        name="contact_disqualification_reason_with_date",
    )
    return ordered + side + [reason]


class Contact(LocalDatesMixin):
    LOCAL_DATE_FIELDS = ("lead", "nurture", "mql", "demo", "sql", "opportunity", "customer", "churned",
                         "disqualified")

    external_id = models.CharField(max_length=100)
    email = models.EmailField(max_length=320, blank=True, default="")
    # Lower-cased text after the last "@" of `email`, for account penetration.
    email_domain = models.CharField(max_length=255, blank=True, default="", editable=False)
    company = models.CharField(max_length=300, blank=True, default="")
    industry = models.CharField(max_length=100, blank=True, default="")
    offer = models.CharField(max_length=20, choices=Offer.choices, blank=True, default="")
    source_channel = models.CharField(max_length=30, choices=Channel.choices)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT, db_index=False)
    owner = models.ForeignKey(TeamMember, null=True, blank=True, on_delete=models.PROTECT, db_index=False)
    referred_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals", db_index=False
    )
    lead_at = models.DateTimeField()
    nurture_at = models.DateTimeField(null=True, blank=True)
    mql_at = models.DateTimeField(null=True, blank=True)
    demo_at = models.DateTimeField(null=True, blank=True)
    sql_at = models.DateTimeField(null=True, blank=True)
    opportunity_at = models.DateTimeField(null=True, blank=True)
    customer_at = models.DateTimeField(null=True, blank=True)
    churned_at = models.DateTimeField(null=True, blank=True)
    disqualified_at = models.DateTimeField(null=True, blank=True)
    disqualification_reason = models.CharField(
        max_length=20, choices=DisqualificationReason.choices, blank=True, default=""
    )
    lead_on = models.DateField(db_index=True, editable=False)
    nurture_on = models.DateField(null=True, blank=True, editable=False)
    mql_on = models.DateField(null=True, blank=True, editable=False)
    demo_on = models.DateField(null=True, blank=True, editable=False)
    sql_on = models.DateField(null=True, blank=True, editable=False)
    opportunity_on = models.DateField(null=True, blank=True, editable=False)
    customer_on = models.DateField(null=True, blank=True, editable=False)
    churned_on = models.DateField(null=True, blank=True, editable=False)
    disqualified_on = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-lead_at"]
        constraints = [
            # A constraint, not unique=True: on PostgreSQL that adds a second, pattern-ops
            # index nothing queries, and every imported row pays for both.
            models.UniqueConstraint(fields=["external_id"], name="contact_external_id_key"),
            *_contact_constraints(),
        ]
        # Most contacts never reach a later stage, have no owner or referrer: indexing only
        # the rows that have a value keeps every lookup (`= day`, a range, a join) and
        # spares an import the index entries of the NULLs.
        indexes = [
            # The lead day carried (PostgreSQL): a target account's first lead day reads the
            # index alone, not a contact row per contact of the domain.
            models.Index(fields=["email_domain"], include=["lead_on"], name="contact_email_domain"),
            *(
                models.Index(fields=[name], condition=Q(**{f"{name}__isnull": False}), name=f"contact_{name}")
                for name in ("campaign", "owner", "referred_by", "nurture_on", "mql_on", "demo_on", "sql_on",
                             "opportunity_on", "customer_on", "churned_on", "disqualified_on")
            ),
        ]

    def fill_local_dates(self) -> None:
        super().fill_local_dates()
        self.email_domain = email_domain(self.email)

    def __str__(self) -> str:
        return self.email or self.external_id


def email_domain(email: str | None) -> str:
    if not email or "@" not in email:
        return ""
    return email.rsplit("@", 1)[1].strip().lower()


class Deal(LocalDatesMixin):
    LOCAL_DATE_FIELDS = ("created", "closed")

    external_id = models.CharField(max_length=100, unique=True)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.PROTECT, related_name="deals")
    owner = models.ForeignKey(TeamMember, null=True, blank=True, on_delete=models.PROTECT)
    name = models.CharField(max_length=300, blank=True, default="")
    amount = money()
    mrr = money(default=0)
    status = models.CharField(max_length=10, choices=DealStatus.choices)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    created_on = models.DateField(db_index=True, editable=False)
    closed_on = models.DateField(null=True, blank=True, db_index=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            *non_negative("amount", "mrr", model="deal"),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | Q(status__in=["won", "lost"], closed_at__isnull=False, closed_at__gte=F("created_at")),
                name="deal_status_matches_closed_at",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.external_id


class Activity(LocalDatesMixin):
    LOCAL_DATE_FIELDS = ("occurred",)

    external_id = models.CharField(max_length=100)
    # activity_contact_time (contact first) serves every lookup by contact.
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="activities", db_index=False)
    owner = models.ForeignKey(TeamMember, null=True, blank=True, on_delete=models.PROTECT)
    activity_type = models.CharField(max_length=10, choices=ActivityType.choices)
    occurred_at = models.DateTimeField()
    occurred_on = models.DateField(db_index=True, editable=False)
    connected = models.BooleanField(default=False)

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name_plural = "activities"
        # A constraint, not unique=True: no pattern-ops twin of the key index (see Contact).
        constraints = [models.UniqueConstraint(fields=["external_id"], name="activity_external_id_key")]
        # It carries what the SLA families read of each MQL's attempts (PostgreSQL reads them
        # from the index alone; SQLite ignores INCLUDE).
        indexes = [models.Index(fields=["contact", "occurred_at"], name="activity_contact_time",
                                include=["occurred_on", "connected", "id"])]

    def __str__(self) -> str:
        return f"{self.activity_type} {self.external_id}"


class Touch(LocalDatesMixin):
    LOCAL_DATE_FIELDS = ("occurred",)

    external_id = models.CharField(max_length=100, unique=True)
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="touches")
    occurred_at = models.DateTimeField()
    occurred_on = models.DateField(db_index=True, editable=False)
    channel = models.CharField(max_length=30, choices=Channel.choices)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT)
    content = models.ForeignKey(Content, null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name_plural = "touches"
        indexes = [models.Index(fields=["contact", "occurred_at"], name="touch_contact_time")]

    def __str__(self) -> str:
        return f"{self.channel} touch {self.external_id}"


class WebTraffic(models.Model):
    date = models.DateField(db_index=True)
    page = models.CharField(max_length=500)
    section = models.CharField(max_length=10, choices=Section.choices)
    source = models.CharField(max_length=20, choices=WebSource.choices)
    visits = models.IntegerField()
    entrances = models.IntegerField(default=0)
    bounces = models.IntegerField(default=0)

    class Meta:
        ordering = ["-date", "page"]
        verbose_name_plural = "web traffic"
        constraints = [
            models.UniqueConstraint(fields=["date", "page", "source"], name="webtraffic_key"),
            *non_negative("visits", "entrances", "bounces", model="webtraffic"),
            not_above("entrances", "visits", model="webtraffic"),
            not_above("bounces", "entrances", model="webtraffic"),
        ]


class CtaStat(models.Model):
    date = models.DateField(db_index=True)
    cta = models.CharField(max_length=300)
    placement = models.CharField(max_length=10, choices=Placement.choices)
    views = models.IntegerField()
    clicks = models.IntegerField()

    class Meta:
        ordering = ["-date", "cta"]
        verbose_name = "CTA stat"
        constraints = [
            models.UniqueConstraint(fields=["date", "cta", "placement"], name="ctastat_key"),
            *non_negative("views", "clicks", model="ctastat"),
            not_above("clicks", "views", model="ctastat"),
        ]


class LandingPage(models.Model):
    date = models.DateField(db_index=True)
    page = models.CharField(max_length=500)
    source = models.CharField(max_length=20, choices=WebSource.choices)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT)
    views = models.IntegerField()
    submissions = models.IntegerField()

    class Meta:
        ordering = ["-date", "page"]
        constraints = [
            models.UniqueConstraint(fields=["date", "page", "source"], name="landingpage_key"),
            *non_negative("views", "submissions", model="landingpage"),
            not_above("submissions", "views", model="landingpage"),
        ]


class EmailSend(LocalDatesMixin):
    LOCAL_DATE_FIELDS = ("sent",)

    external_id = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=300, blank=True, default="")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT)
    email_type = models.CharField(max_length=20, choices=EmailType.choices, blank=True, default="")
    sent_at = models.DateTimeField()
    sent_on = models.DateField(db_index=True, editable=False)
    sent = models.IntegerField()
    delivered = models.IntegerField()
    unique_opens = models.IntegerField()
    unique_clicks = models.IntegerField()
    unsubscribes = models.IntegerField()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            *non_negative(
                "sent", "delivered", "unique_opens", "unique_clicks", "unsubscribes", model="emailsend"
            ),
            not_above("delivered", "sent", model="emailsend"),
            not_above("unique_opens", "delivered", model="emailsend"),
            not_above("unique_clicks", "delivered", model="emailsend"),
            not_above("unsubscribes", "delivered", model="emailsend"),
        ]


class Audience(models.Model):
    date = models.DateField(db_index=True)
    channel = models.CharField(max_length=20, choices=AudienceChannel.choices)
    size = models.IntegerField()

    class Meta:
        ordering = ["-date", "channel"]
        verbose_name_plural = "audience"
        constraints = [
            models.UniqueConstraint(fields=["date", "channel"], name="audience_key"),
            *non_negative("size", model="audience"),
        ]


class SocialStat(models.Model):
    date = models.DateField(db_index=True)
    network = models.CharField(max_length=20, choices=Network.choices)
    impressions = models.IntegerField()
    engagements = models.IntegerField()
    clicks = models.IntegerField()

    class Meta:
        ordering = ["-date", "network"]
        constraints = [
            models.UniqueConstraint(fields=["date", "network"], name="socialstat_key"),
            *non_negative("impressions", "engagements", "clicks", model="socialstat"),
        ]


class Spend(models.Model):
    external_id = models.CharField(max_length=100, unique=True)
    date = models.DateField(db_index=True)
    channel = models.CharField(max_length=30, choices=Channel.choices)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT)
    category = models.CharField(max_length=10, choices=SpendCategory.choices)
    amount = money()
    description = models.CharField(max_length=500, blank=True, default="")
    # Paid media counts: null when the row is not paid media (or the count is unknown).
    impressions = models.IntegerField(null=True, blank=True)
    clicks = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-date"]
        verbose_name_plural = "spend"
        constraints = [
            *non_negative("amount", model="spend"),
            models.CheckConstraint(condition=Q(impressions__isnull=True) | Q(impressions__gte=0),
                                   name="spend_impressions_non_negative"),
            models.CheckConstraint(condition=Q(clicks__isnull=True) | Q(clicks__gte=0),
                                   name="spend_clicks_non_negative"),
            models.CheckConstraint(
                condition=Q(impressions__isnull=True) | Q(clicks__isnull=True) | Q(clicks__lte=F("impressions")),
                name="spend_clicks_not_above_impressions",
            ),
        ]


class Webinar(LocalDatesMixin):
    LOCAL_DATE_FIELDS = ("held",)

    external_id = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=300)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT)
    held_at = models.DateTimeField()
    held_on = models.DateField(db_index=True, editable=False)
    registrants = models.IntegerField()
    attendees = models.IntegerField()

    class Meta:
        ordering = ["-held_at"]
        constraints = [
            *non_negative("registrants", "attendees", model="webinar"),
            not_above("attendees", "registrants", model="webinar"),
        ]


class DirectMail(LocalDatesMixin):
    LOCAL_DATE_FIELDS = ("sent",)

    external_id = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=300, blank=True, default="")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT)
    sent_at = models.DateTimeField()
    sent_on = models.DateField(db_index=True, editable=False)
    sent = models.IntegerField()
    claimed = models.IntegerField()
    meetings_booked = models.IntegerField()

    class Meta:
        ordering = ["-sent_at"]
        verbose_name_plural = "direct mail"
        constraints = [
            *non_negative("sent", "claimed", "meetings_booked", model="directmail"),
            not_above("claimed", "sent", model="directmail"),
            not_above("meetings_booked", "claimed", model="directmail"),
        ]


class FeatureUsage(models.Model):
    date = models.DateField(db_index=True)
    feature = models.CharField(max_length=200)
    customers_total = models.IntegerField()
    customers_activated = models.IntegerField()
    content_readers = models.IntegerField(default=0)
    readers_activated = models.IntegerField(default=0)
    upgrade_revenue = money(default=0)

    class Meta:
        ordering = ["-date", "feature"]
        verbose_name_plural = "feature usage"
        constraints = [
            models.UniqueConstraint(fields=["date", "feature"], name="featureusage_key"),
            *non_negative(
                "customers_total",
                "customers_activated",
                "content_readers",
                "readers_activated",
                "upgrade_revenue",
                model="featureusage",
            ),
            not_above("customers_activated", "customers_total", model="featureusage"),
            not_above("readers_activated", "content_readers", model="featureusage"),
        ]


class TargetAccount(models.Model):
    # Stored lower-cased: account penetration compares domains case-insensitively.
    domain = models.CharField(max_length=255, unique=True)
    name = models.CharField(max_length=300)

    class Meta:
        ordering = ["name"]

    def save(self, *args, **kwargs):
        self.domain = self.domain.strip().lower()
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return f"{self.name} ({self.domain})"


class Target(models.Model):
    metric = models.CharField(max_length=100)
    period = models.CharField(max_length=10, choices=Period.choices)
    period_start = models.DateField()
    # The slice the target is for: at most one of owner, channel, campaign; none = team-wide.
    owner = models.ForeignKey(TeamMember, null=True, blank=True, on_delete=models.CASCADE)
    channel = models.CharField(max_length=30, choices=Channel.choices, null=True, blank=True)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.CASCADE)
    value = models.DecimalField(max_digits=18, decimal_places=4)

    class Meta:
        ordering = ["metric", "-period_start"]
        constraints = [
            # An empty slice is part of the key: one team-wide target per metric and period,
            # and one per metric, period and slice (partial indexes, NULLs never collide).
            models.UniqueConstraint(
                fields=["metric", "period", "period_start", "owner"],
                condition=Q(owner__isnull=False),
                name="target_key_owner",
            ),
            models.UniqueConstraint(
                fields=["metric", "period", "period_start", "channel"],
                condition=Q(channel__isnull=False),
                name="target_key_channel",
            ),
            models.UniqueConstraint(
                fields=["metric", "period", "period_start", "campaign"],
                condition=Q(campaign__isnull=False),
                name="target_key_campaign",
            ),
            models.UniqueConstraint(
                fields=["metric", "period", "period_start"],
                condition=Q(owner__isnull=True, channel__isnull=True, campaign__isnull=True),
                name="target_key_team",
            ),
            models.CheckConstraint(condition=Q(period__in=Period.values), name="target_period_valid"),
            models.CheckConstraint(
                condition=(Q(owner__isnull=True, channel__isnull=True) | Q(owner__isnull=True, campaign__isnull=True)
                           | Q(channel__isnull=True, campaign__isnull=True)),
                name="target_one_slice",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.period} {self.period_start}: {self.value}"


class ImportJob(models.Model):
    """One upload on the import page: its file, the dry-run preview, then the import's outcome."""

    class Status(models.TextChoices):
        PREVIEW_QUEUED = "preview_queued", _("Waiting to check")
        PREVIEWING = "previewing", _("Checking")
        PREVIEWED = "previewed", _("Checked: ready to import")
        INVALID = "invalid", _("Has errors")
        IMPORT_QUEUED = "import_queued", _("Waiting to import")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    RUNNING = (Status.PREVIEW_QUEUED, Status.PREVIEWING, Status.IMPORT_QUEUED, Status.IMPORTING)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Empty for a zip of several `<resource>.csv` files.
    resource = models.CharField(max_length=40, blank=True, default="")
    filename = models.CharField(max_length=255)
    file = models.FileField(upload_to="imports/%Y/%m/", max_length=500)
    size = models.BigIntegerField(default=0)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PREVIEW_QUEUED)
    # The last report: the dry run's (preview) or the import's, as ImportReport.to_json().
    report = models.JSONField(null=True, blank=True)
    message = models.TextField(blank=True, default="")
    # When its task was last sent: a job still queued long after is sent again (the sweep).
    queued_at = models.DateTimeField(null=True, blank=True)
    # The column mapping chosen on the upload page (funnel.mapping JSON); null: contract headers.
    mapping = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def running(self) -> bool:
        return self.status in self.RUNNING


class SavedMapping(models.Model):
    """A column mapping a data manager saved under a name, offered again for the same headers."""

    resource = models.CharField(max_length=40)
    name = models.CharField(max_length=100)
    # funnel.mapping.header_signature of the file it was made for.
    signature = models.CharField(max_length=64, db_index=True)
    headers = models.JSONField(default=list)
    spec = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [models.UniqueConstraint(fields=["resource", "name"], name="saved_mapping_name")]

    def __str__(self) -> str:
        return f"{self.resource}: {self.name}"


class ImportLog(models.Model):
    """One import that wrote (or tried to write) records: the import history page lists these."""

    class Source(models.TextChoices):
        UPLOAD = "upload", _("Upload")
        API = "api", _("API bulk request")
        FOLDER = "folder", _("Folder import")
        COMMAND = "command", _("import_csv command")

    source = models.CharField(max_length=10, choices=Source.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    started_at = models.DateTimeField()
    duration = models.DurationField()
    resource = models.CharField(max_length=200, blank=True, default="")
    filename = models.CharField(max_length=255, blank=True, default="")
    mapping = models.CharField(max_length=100, blank=True, default="")
    rows = models.BigIntegerField(default=0)
    created = models.BigIntegerField(default=0)
    updated = models.BigIntegerField(default=0)
    errors = models.IntegerField(default=0)
    # Folder imports: the file's SHA-256, so the same content is never imported twice.
    sha256 = models.CharField(max_length=64, blank=True, default="")
    message = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["sha256"], condition=Q(errors=0) & ~Q(sha256=""), name="import_log_content_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.filename or self.resource} at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def ok(self) -> bool:
        return not self.errors and not self.message
