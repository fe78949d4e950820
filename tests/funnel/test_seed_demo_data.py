"""seed_demo's data: every resource filled, the funnel's order and rates plausible.

One module-wide seed (3,000 contacts, company time zone America/Los_Angeles) that every
test reads; it is deleted when the module ends.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Count, Exists, F, Min, OuterRef, Q
from django.test import override_settings

from smarketing.funnel import demo
from smarketing.funnel import models as m
from smarketing.funnel.signals import records_changed
from smarketing.kpis.windows import period_bounds

TODAY = dt.date(2026, 3, 15)
FIRST_DAY = dt.date(2024, 3, 15)  # 730 days before TODAY
ZONE = "America/Los_Angeles"


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """3,000 contacts in a non-UTC company time zone; the signals sent are recorded."""
    calls: list[dict] = []

    def record(sender, **kwargs):
        calls.append(kwargs)

    records_changed.connect(record)
    with django_db_blocker.unblock(), override_settings(SMARKETING_TIMEZONE=ZONE):
        try:
            counts = demo.demo_seed(contacts=3000, seed=7, today=TODAY)
            yield {"counts": counts, "signals": calls}
        finally:
            records_changed.disconnect(record)
            demo.demo_clear()
            # The seed's signal committed facts too; rebuild them from the now-empty
            # records so no later test module reads this module's numbers.
            call_command("recompute_kpis", "--full")


def old_leads():
    """Leads with at least six months to convert."""
    return m.Contact.objects.filter(lead_at__lt=dt.datetime(2025, 9, 15, tzinfo=dt.UTC))


def pct(part: int, whole: int) -> float:
    return 100 * part / whole


@pytest.mark.django_db
def test_every_resource_gets_rows(seeded):
    assert set(seeded["counts"]) == set(demo.RESOURCES)
    for resource, model in demo.RESOURCES.items():
        assert model.objects.count() == seeded["counts"][resource] > 0, resource
    assert m.Contact.objects.count() == 3000


@pytest.mark.django_db
def test_records_changed_sent_once_per_resource_with_every_day_written(seeded):
    by_resource = {call["resource"]: call for call in seeded["signals"]}
    assert len(seeded["signals"]) == len(demo.RESOURCES) == len(by_resource)
    assert all(call["contact_ids"] is None for call in seeded["signals"])
    lead_days = set(m.Contact.objects.values_list("lead_on", flat=True))
    assert lead_days <= set(by_resource["contacts"]["days"])
    assert set(m.WebTraffic.objects.values_list("date", flat=True)) == set(by_resource["web_traffic"]["days"])


@pytest.mark.django_db
def test_history_covers_the_two_years_before_today_and_nothing_later(seeded):
    contacts = m.Contact.objects.aggregate(first=Min("lead_on"))
    assert contacts["first"] == FIRST_DAY
    midnight = dt.datetime(2026, 3, 15, tzinfo=ZoneInfo(ZONE))
    for field in ("lead_at", "mql_at", "customer_at", "churned_at"):
        assert not m.Contact.objects.filter(**{f"{field}__gte": midnight}).exists(), field
    assert not m.Activity.objects.filter(occurred_at__gte=midnight).exists()
    assert not m.Deal.objects.filter(closed_at__gte=midnight).exists()
    days = set(m.WebTraffic.objects.values_list("date", flat=True))
    assert min(days) == FIRST_DAY and max(days) == TODAY - dt.timedelta(days=1)
    assert len(set(m.Audience.objects.filter(channel="email_list").values_list("date", flat=True))) == 730


@pytest.mark.django_db
def test_local_dates_are_company_time_zone_dates(seeded):
    zone = ZoneInfo(ZONE)
    for contact in m.Contact.objects.all()[:500]:
        assert contact.lead_on == contact.lead_at.astimezone(zone).date()
        if contact.mql_at:
            assert contact.mql_on == contact.mql_at.astimezone(zone).date()
    # Leads arrive in local working hours, so the generator thought in the company zone.
    local_hours = [c.lead_at.astimezone(zone).hour for c in m.Contact.objects.all()[:1000]]
    assert sum(8 <= h <= 18 for h in local_hours) / len(local_hours) > 0.8


@pytest.mark.django_db
def test_funnel_conversion_rates_are_plausible(seeded):
    leads = old_leads()
    total = leads.count()
    mqls = leads.filter(mql_at__isnull=False)
    assert 25 <= pct(mqls.count(), total) <= 40
    assert 35 <= pct(mqls.filter(sql_at__isnull=False).count(), mqls.count()) <= 50
    assert 1.5 <= pct(leads.filter(customer_at__isnull=False).count(), total) <= 3.5
    won = m.Deal.objects.filter(status="won").count()
    lost = m.Deal.objects.filter(status="lost").count()
    assert 20 <= pct(won, won + lost) <= 45


@pytest.mark.django_db
def test_every_channel_and_campaign_channel_is_represented(seeded):
    assert set(m.Contact.objects.values_list("source_channel", flat=True)) == set(m.Channel.values)
    assert set(m.WebTraffic.objects.values_list("source", flat=True)) == set(m.WebSource.values)
    assert set(m.WebTraffic.objects.values_list("section", flat=True)) == set(m.Section.values)
    assert set(m.Campaign.objects.values_list("channel", flat=True)) == set(demo.CAMPAIGN_PLAN)
    assert set(m.Audience.objects.values_list("channel", flat=True)) == set(m.AudienceChannel.values)
    assert set(m.SocialStat.objects.values_list("network", flat=True)) == set(m.Network.values)
    assert set(m.CtaStat.objects.values_list("placement", flat=True)) == set(m.Placement.values)
    assert set(m.EmailSend.objects.values_list("email_type", flat=True)) == set(m.EmailType.values)
    assert set(m.Spend.objects.values_list("category", flat=True)) == {"marketing", "sales"}
    assert m.Spend.objects.filter(campaign__isnull=True, category="marketing").exists()
    assert m.Spend.objects.filter(campaign__isnull=False).exists()


@pytest.mark.django_db
def test_team_has_six_or_more_reps_and_every_dashboard_role(seeded):
    assert m.TeamMember.objects.filter(team="sales", role="shared").count() >= 6
    assert set(m.TeamMember.objects.values_list("role", flat=True)) == set(m.Role.values)
    owners = m.Contact.objects.filter(mql_at__isnull=False).values("owner").distinct().count()
    assert owners >= 6
    assert not m.Contact.objects.filter(mql_at__isnull=False, owner__isnull=True).exists()


@pytest.mark.django_db
def test_delivered_leads_are_worked_three_to_eight_times_and_some_never(seeded):
    delivered = old_leads().filter(mql_at__isnull=False)
    attempts = delivered.annotate(
        n=Count("activities", filter=Q(activities__occurred_at__gte=F("mql_at")))
    )
    never = attempts.filter(n=0).count()
    assert 0 < never < 0.2 * delivered.count()
    worked = attempts.filter(n__gt=0)
    assert worked.filter(n__lt=3).count() == 0
    # Opportunities add meetings on top of the 3–8 attempts.
    assert worked.filter(n__gt=11).count() == 0
    connected = delivered.filter(Exists(m.Activity.objects.filter(
        contact=OuterRef("pk"), occurred_at__gte=OuterRef("mql_at"), connected=True)))
    assert 25 <= pct(connected.count(), worked.count()) <= 80


@pytest.mark.django_db
def test_referrals_point_at_earlier_customers(seeded):
    referred = m.Contact.objects.filter(referred_by__isnull=False).select_related("referred_by")
    assert referred.count() > 0
    for contact in referred:
        assert contact.referred_by.customer_at is not None
        assert contact.referred_by.customer_at < contact.lead_at


@pytest.mark.django_db
def test_touches_carry_content_published_before_them(seeded):
    with_content = m.Touch.objects.filter(content__isnull=False)
    assert with_content.count() > 0
    assert not with_content.filter(content__published_at__gt=F("occurred_at")).exists()
    assisted = m.Contact.objects.filter(customer_at__isnull=False).filter(Exists(m.Touch.objects.filter(
        contact=OuterRef("pk"), content__isnull=False, occurred_at__lte=OuterRef("customer_at"))))
    assert assisted.exists()


@pytest.mark.django_db
def test_deals_follow_their_contacts(seeded):
    won = m.Deal.objects.filter(status="won", contact__isnull=False, name__endswith="plan")
    assert won.exists()
    assert not won.exclude(closed_at=F("contact__customer_at")).exists()
    assert not m.Deal.objects.filter(mrr__gt=F("amount")).exists()
    assert m.Deal.objects.filter(status="open").exists()
    assert m.Deal.objects.filter(contact__isnull=True).exists()


@pytest.mark.django_db
def test_audiences_grow_and_churn_happens(seeded):
    for channel in m.AudienceChannel.values:
        sizes = list(m.Audience.objects.filter(channel=channel).order_by("date").values_list("size", flat=True))
        assert sizes[-1] > sizes[0], channel
    assert m.Contact.objects.filter(churned_at__isnull=False).exists()
    assert m.TargetAccount.objects.filter(
        domain__in=m.Contact.objects.values("email_domain")).exists()
    assert m.TargetAccount.objects.exclude(domain__in=m.Contact.objects.values("email_domain")).exists()


@pytest.mark.django_db
def test_targets_start_on_period_starts_with_team_and_rep_rows(seeded):
    for period, start in m.Target.objects.values_list("period", "period_start").distinct():
        assert period_bounds(period, start)[0] == start
    team = m.Target.objects.filter(owner__isnull=True)
    assert set(team.values_list("period", flat=True)) == {"month", "quarter", "year"}
    for metric in ("leads", "mqls", "revenue", "deals_won", "new_mrr", "lead_to_mql_rate",
                   "leads_worked_rate"):
        assert team.filter(metric=metric, period="month", period_start=dt.date(2026, 3, 1)).exists(), metric
    per_rep = m.Target.objects.filter(owner__isnull=False, metric="revenue", period="year")
    assert per_rep.values("owner").distinct().count() >= 6
    # Slices with their own targets: the blog's leads, email's MQLs, running campaigns' leads.
    month = {"period": "month", "period_start": dt.date(2026, 3, 1)}
    assert m.Target.objects.filter(metric="leads", channel="blog", **month).exists()
    assert m.Target.objects.filter(metric="mqls", channel="email", **month).exists()
    assert m.Target.objects.filter(metric="leads", campaign__isnull=False, **month).exists()
    team_leads = m.Target.objects.get(metric="leads", owner=None, channel=None, campaign=None, **month).value
    assert m.Target.objects.get(metric="leads", channel="blog", **month).value < team_leads / 5




@pytest.mark.django_db
def test_offers_have_clearly_different_close_rates(seeded):
    def close_rate(offers: tuple[str, ...]) -> float:
        leads = old_leads().filter(offer__in=offers)
        return pct(leads.filter(customer_at__isnull=False).count(), leads.count())

    assert set(m.Contact.objects.values_list("offer", flat=True)) == set(m.Offer.values)
    hand_raisers = close_rate(("demo_request", "contact_sales"))
    assert hand_raisers >= 3 * close_rate(("ebook",))


@pytest.mark.django_db
def test_industries_are_a_company_trait_and_personal_emails_have_none(seeded):
    industries = set(m.Contact.objects.values_list("industry", flat=True))
    assert {name for name, _ in demo.INDUSTRIES} <= industries
    assert not m.Contact.objects.filter(company="").exclude(industry="").exists()
    per_company = m.Contact.objects.exclude(industry="").values("company").annotate(n=Count("industry", distinct=True))
    assert max(row["n"] for row in per_company) == 1


@pytest.mark.django_db
def test_about_15_percent_of_mqls_are_rejected_with_a_spread_of_reasons(seeded):
    mqls = m.Contact.objects.filter(mql_at__isnull=False)
    rejected = mqls.filter(disqualified_at__isnull=False, sql_at__isnull=True)
    assert 10 <= pct(rejected.count(), mqls.count()) <= 20
    reasons = dict(rejected.values_list("disqualification_reason").annotate(n=Count("id")))
    assert len(reasons) >= 6 and max(reasons.values()) < 0.4 * rejected.count()
    assert not m.Contact.objects.filter(disqualified_at__lt=F("lead_at")).exists()
    assert not m.Contact.objects.filter(disqualified_at__isnull=False, disqualification_reason="").exists()


@pytest.mark.django_db
def test_first_attempts_range_from_minutes_to_days(seeded):
    first = (m.Activity.objects.filter(contact__mql_at__isnull=False, occurred_at__gte=F("contact__mql_at"))
             .values("contact").annotate(at=Min("occurred_at"), mql=Min("contact__mql_at")))
    delays = [(row["at"] - row["mql"]).total_seconds() / 3600 for row in first]
    assert min(delays) < 1 and max(delays) > 72
    on_time = sum(1 for d in delays if d <= 24) / len(delays)
    assert 0.6 < on_time < 0.95


@pytest.mark.django_db
def test_paid_spend_has_impressions_and_clicks(seeded):
    paid = m.Spend.objects.filter(channel__in=["paid_search", "paid_social"], campaign__isnull=False)
    assert paid.exists() and not paid.filter(clicks__isnull=True).exists()
    assert not m.Spend.objects.filter(clicks__gt=F("impressions")).exists()
    assert not m.Spend.objects.filter(category="sales").exclude(impressions__isnull=True).exists()
    search = paid.filter(channel="paid_search")
    social = paid.filter(channel="paid_social")

    def ctr(rows):
        return sum(r.clicks for r in rows) / sum(r.impressions for r in rows)

    assert ctr(search) > 2 * ctr(social)
