"""Every unique and check constraint of the funnel models rejects what it should and accepts its boundary.

Each case names the constraint it pins; `test_every_constraint_has_a_case` fails when a
constraint is added to the models without a case here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import combinations

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction

from smarketing.funnel import models as m

T0 = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
DAY = dt.date(2026, 3, 10)
HASH = "a" * 64


def contact_row(**over) -> dict:
    return {"external_id": "c-1", "source_channel": "email", "lead_at": T0, **over}


def base_rows() -> dict[type, dict]:
    """One valid row per model (references are created on demand by `make`)."""
    return {
        m.TeamMember: {"email": "rep@example.com", "name": "Rep", "team": "sales"},
        m.Campaign: {"external_id": "cmp-1", "name": "Spring", "channel": "email",
                     "start_date": DAY, "end_date": DAY + dt.timedelta(days=30), "budget": Decimal("100")},
        m.Content: {"external_id": "cnt-1", "title": "Guide", "content_type": "ebook", "published_at": T0},
        m.Contact: contact_row(),
        m.Deal: {"external_id": "d-1", "amount": Decimal("1000"), "mrr": Decimal("80"), "status": "won",
                 "created_at": T0, "closed_at": T0 + dt.timedelta(days=10)},
        m.Activity: {"external_id": "a-1", "activity_type": "call", "occurred_at": T0},
        m.Touch: {"external_id": "t-1", "occurred_at": T0, "channel": "email"},
        m.WebTraffic: {"date": DAY, "page": "/", "section": "site", "source": "direct", "visits": 10,
                       "entrances": 5, "bounces": 2},
        m.CtaStat: {"date": DAY, "cta": "Book a demo", "placement": "site", "views": 10, "clicks": 2},
        m.LandingPage: {"date": DAY, "page": "/lp", "source": "email", "views": 10, "submissions": 2},
        m.EmailSend: {"external_id": "e-1", "sent_at": T0, "sent": 100, "delivered": 90, "unique_opens": 30,
                      "unique_clicks": 5, "unsubscribes": 1},
        m.Audience: {"date": DAY, "channel": "email_list", "size": 100},
        m.SocialStat: {"date": DAY, "network": "twitter", "impressions": 100, "engagements": 5, "clicks": 1},
        m.Spend: {"external_id": "s-1", "date": DAY, "channel": "email", "category": "marketing",
                  "amount": Decimal("50")},
        m.Webinar: {"external_id": "w-1", "name": "Live", "held_at": T0, "registrants": 50, "attendees": 20},
        m.DirectMail: {"external_id": "dm-1", "sent_at": T0, "sent": 100, "claimed": 10, "meetings_booked": 2},
        m.FeatureUsage: {"date": DAY, "feature": "Dashboards", "customers_total": 10, "customers_activated": 5,
                         "content_readers": 8, "readers_activated": 3, "upgrade_revenue": Decimal("10")},
        m.TargetAccount: {"domain": "acme.com", "name": "Acme"},
        m.Target: {"metric": "leads", "period": "month", "period_start": DAY.replace(day=1),
                   "value": Decimal("100")},
        m.SavedMapping: {"resource": "contacts", "name": "crm", "signature": "s", "spec": {"fields": {}}},
        m.ImportLog: {"source": "folder", "started_at": T0, "duration": dt.timedelta(seconds=1), "sha256": HASH},
    }


def make(model: type, **over):
    row = {**base_rows()[model], **over}
    if model in (m.Activity, m.Touch) and "contact" not in row:
        row["contact"] = m.Contact.objects.get_or_create(external_id="owner-contact",
                                                         defaults=contact_row(external_id="owner-contact"))[0]
    obj = model(**row)
    obj.save()
    return obj


@dataclass
class Case:
    constraint: str                      # constraint name, or "<model>.<field>" for unique=True fields
    model: type
    bad: dict                            # overrides the database must reject
    good: dict                           # the boundary it must accept
    existing: dict | None = None         # for keys: the row stored first
    id: str = field(default="")
    # A negative cap also breaks "capped <= cap" (no row can break only "cap >= 0"), and
    # PostgreSQL may report either: those constraints are named here.
    also: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.id = self.id or self.constraint


def check(constraint: str, model: type, bad: dict, good: dict) -> Case:
    return Case(constraint, model, bad, good)


def unique(constraint: str, model: type, existing: dict, bad: dict, good: dict) -> Case:
    return Case(constraint, model, bad, good, existing=existing)


# Counts capped by another count: zero at the boundary needs the capped ones zero as well.
CAPPED_BY = {
    "visits": ("entrances", "bounces"), "entrances": ("bounces",), "views": ("clicks", "submissions"),
    "sent": ("delivered", "unique_opens", "unique_clicks", "unsubscribes", "claimed", "meetings_booked"),
    "delivered": ("unique_opens", "unique_clicks", "unsubscribes"), "claimed": ("meetings_booked",),
    "registrants": ("attendees",), "customers_total": ("customers_activated",),
    "content_readers": ("readers_activated",), "impressions": ("clicks",),
}


def non_negative(model: type, prefix: str, *fields: str) -> list[Case]:
    cases = []
    for name in fields:
        columns = {f.name for f in model._meta.fields}
        zeroes = {capped: 0 for capped in CAPPED_BY.get(name, ()) if capped in columns}
        case = check(f"{prefix}_{name}_non_negative", model, {name: -1}, {name: 0, **zeroes})
        case.also = tuple(f"{prefix}_{capped}_not_above_{name}" for capped in zeroes)
        cases.append(case)
    return cases


def key_field(model: type, name: str, value, other) -> Case:
    return unique(f"{model._meta.model_name}.{name}", model, {name: value}, {name: value}, {name: other})


def contact_order_cases() -> list[Case]:
    cases = []
    for earlier, later in combinations(m.CONTACT_STAGES, 2):
        stamps = {f"{stage}_at": None for stage in m.CONTACT_STAGES[1:]}
        # Only the two stages compared are set: the ones between are skipped (allowed).
        earlier_at = T0 + dt.timedelta(days=1) if earlier != "lead" else T0
        bad = {**stamps, f"{earlier}_at": earlier_at, f"{later}_at": earlier_at - SECOND}
        if earlier != "lead":
            bad["lead_at"] = T0
        good = {**bad, f"{later}_at": earlier_at}
        cases.append(check(f"contact_{later}_at_not_before_{earlier}_at", m.Contact, bad, good))
    for side in ("nurture", "demo"):
        cases.append(check(f"contact_{side}_at_not_before_lead_at", m.Contact,
                           {f"{side}_at": T0 - SECOND}, {f"{side}_at": T0}))
    reason = {"disqualification_reason": "no_budget"}
    cases.append(check("contact_disqualified_at_not_before_lead_at", m.Contact,
                       {"disqualified_at": T0 - SECOND, **reason}, {"disqualified_at": T0, **reason}))
    cases.append(check("contact_disqualification_reason_with_date", m.Contact,
                       {"disqualified_at": T0, "disqualification_reason": ""}, {"disqualified_at": T0, **reason}))
    cases.append(Case("contact_disqualification_reason_with_date", m.Contact, reason,
                      {"disqualification_reason": ""}, id="contact_disqualification_reason_without_date"))
    return cases


CASES: list[Case] = [
    key_field(m.TeamMember, "email", "a@example.com", "b@example.com"),
    check("teammember_team_valid", m.TeamMember, {"team": "finance"}, {"team": "marketing"}),
    key_field(m.Campaign, "external_id", "cmp-9", "cmp-10"),
    check("campaign_end_date_not_before_start_date", m.Campaign, {"end_date": DAY - dt.timedelta(days=1)},
          {"end_date": DAY}),
    check("campaign_budget_non_negative", m.Campaign, {"budget": Decimal("-0.01")}, {"budget": Decimal("0")}),
    key_field(m.Content, "external_id", "cnt-9", "cnt-10"),
    unique("contact_external_id_key", m.Contact, {"external_id": "c-9"}, {"external_id": "c-9"}, {"external_id": "c-10"}),
    *contact_order_cases(),
    key_field(m.Deal, "external_id", "d-9", "d-10"),
    *non_negative(m.Deal, "deal", "amount", "mrr"),
    Case("deal_status_matches_closed_at", m.Deal, {"status": "open", "closed_at": T0},
         {"status": "open", "closed_at": None}, id="deal_open_with_closed_at"),
    Case("deal_status_matches_closed_at", m.Deal, {"status": "won", "closed_at": None},
         {"status": "won", "closed_at": T0}, id="deal_won_without_closed_at"),
    Case("deal_status_matches_closed_at", m.Deal, {"status": "lost", "closed_at": T0 - SECOND},
         {"status": "lost", "closed_at": T0}, id="deal_closed_before_created"),
    Case("deal_status_matches_closed_at", m.Deal, {"status": "pending", "closed_at": None},
         {"status": "open", "closed_at": None}, id="deal_unknown_status"),
    unique("activity_external_id_key", m.Activity, {"external_id": "a-9"}, {"external_id": "a-9"}, {"external_id": "a-10"}),
    key_field(m.Touch, "external_id", "t-9", "t-10"),
    unique("webtraffic_key", m.WebTraffic, {}, {"section": "blog"}, {"source": "email"}),
    *non_negative(m.WebTraffic, "webtraffic", "visits", "entrances", "bounces"),
    check("webtraffic_entrances_not_above_visits", m.WebTraffic, {"entrances": 11}, {"entrances": 10}),
    check("webtraffic_bounces_not_above_entrances", m.WebTraffic, {"bounces": 6}, {"bounces": 5}),
    unique("ctastat_key", m.CtaStat, {}, {}, {"placement": "blog"}),
    *non_negative(m.CtaStat, "ctastat", "views", "clicks"),
    check("ctastat_clicks_not_above_views", m.CtaStat, {"clicks": 11}, {"clicks": 10}),
    unique("landingpage_key", m.LandingPage, {}, {}, {"date": DAY + dt.timedelta(days=1)}),
    *non_negative(m.LandingPage, "landingpage", "views", "submissions"),
    check("landingpage_submissions_not_above_views", m.LandingPage, {"submissions": 11}, {"submissions": 10}),
    key_field(m.EmailSend, "external_id", "e-9", "e-10"),
    *non_negative(m.EmailSend, "emailsend", "sent", "delivered", "unique_opens", "unique_clicks",
                  "unsubscribes"),
    check("emailsend_delivered_not_above_sent", m.EmailSend, {"delivered": 101}, {"delivered": 100}),
    check("emailsend_unique_opens_not_above_delivered", m.EmailSend, {"unique_opens": 91},
          {"unique_opens": 90}),
    # Clicks above opens is allowed (image blocking under-counts opens): the boundary shows it.
    check("emailsend_unique_clicks_not_above_delivered", m.EmailSend, {"unique_clicks": 91},
          {"unique_clicks": 90, "unique_opens": 30}),
    check("emailsend_unsubscribes_not_above_delivered", m.EmailSend, {"unsubscribes": 91},
          {"unsubscribes": 90}),
    unique("audience_key", m.Audience, {}, {"size": 5}, {"channel": "twitter"}),
    *non_negative(m.Audience, "audience", "size"),
    unique("socialstat_key", m.SocialStat, {}, {}, {"network": "linkedin"}),
    *non_negative(m.SocialStat, "socialstat", "impressions", "engagements", "clicks"),
    key_field(m.Spend, "external_id", "s-9", "s-10"),
    *non_negative(m.Spend, "spend", "amount", "impressions", "clicks"),
    check("spend_clicks_not_above_impressions", m.Spend, {"impressions": 100, "clicks": 101},
          {"impressions": 100, "clicks": 100}),
    key_field(m.Webinar, "external_id", "w-9", "w-10"),
    *non_negative(m.Webinar, "webinar", "registrants", "attendees"),
    check("webinar_attendees_not_above_registrants", m.Webinar, {"attendees": 51}, {"attendees": 50}),
    key_field(m.DirectMail, "external_id", "dm-9", "dm-10"),
    *non_negative(m.DirectMail, "directmail", "sent", "claimed", "meetings_booked"),
    check("directmail_claimed_not_above_sent", m.DirectMail, {"claimed": 101}, {"claimed": 100}),
    check("directmail_meetings_booked_not_above_claimed", m.DirectMail, {"meetings_booked": 11},
          {"meetings_booked": 10}),
    unique("featureusage_key", m.FeatureUsage, {}, {}, {"feature": "API"}),
    *non_negative(m.FeatureUsage, "featureusage", "customers_total", "customers_activated",
                  "content_readers", "readers_activated", "upgrade_revenue"),
    check("featureusage_customers_activated_not_above_customers_total", m.FeatureUsage,
          {"customers_activated": 11}, {"customers_activated": 10}),
    check("featureusage_readers_activated_not_above_content_readers", m.FeatureUsage,
          {"readers_activated": 9}, {"readers_activated": 8}),
    # Stored lower-cased, so the key is case-insensitive.
    unique("targetaccount.domain", m.TargetAccount, {"domain": "acme.com"}, {"domain": "ACME.com"},
           {"domain": "sub.acme.com"}),
    unique("target_key_team", m.Target, {}, {"value": Decimal("5")}, {"period": "quarter"}),
    check("target_period_valid", m.Target, {"period": "week"}, {"period": "quarter"}),
    unique("saved_mapping_name", m.SavedMapping, {}, {"signature": "t"}, {"resource": "deals"}),
    # The same content may fail again (it wrote nothing), never be imported twice.
    unique("import_log_content_once", m.ImportLog, {}, {"source": "folder"}, {"errors": 3}),
    unique("target_key_channel", m.Target, {"channel": "blog"}, {"channel": "blog", "value": Decimal("5")},
           {"channel": "email"}),
]


def run_case(case: Case, overrides: dict) -> None:
    if case.existing is not None:
        make(case.model, **case.existing)
    make(case.model, **overrides)


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_constraint_rejects_violation(case):
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        run_case(case, case.bad)
    # The violation is the one this case is about, not another constraint tripped on the way.
    message = str(caught.value)
    if case.existing is None:
        assert any(name in message for name in (case.constraint, *case.also)), message
    else:
        assert "unique" in message.lower()


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_constraint_accepts_boundary(case):
    run_case(case, case.good)
    assert case.model.objects.count() == (2 if case.existing is not None else 1)


@pytest.mark.django_db
def test_contact_with_skipped_stages_is_accepted():
    make(m.Contact, customer_at=T0 + dt.timedelta(days=40), churned_at=T0 + dt.timedelta(days=90))

    stored = m.Contact.objects.get()
    assert (stored.mql_at, stored.sql_at, stored.opportunity_at) == (None, None, None)
    assert stored.customer_on == dt.date(2026, 4, 19)


@pytest.mark.django_db
def test_target_owner_key_rejects_a_second_row_for_the_same_owner_and_period():
    rep = make(m.TeamMember)
    make(m.Target, owner=rep)

    with pytest.raises(IntegrityError), transaction.atomic():
        make(m.Target, owner=rep, value=Decimal("7"))


@pytest.mark.django_db
def test_target_owner_key_accepts_another_owner_and_the_team_wide_row():
    rep = make(m.TeamMember)
    other = make(m.TeamMember, email="other@example.com")
    make(m.Target, owner=rep)

    make(m.Target, owner=other)
    make(m.Target, owner=None)

    assert m.Target.objects.filter(metric="leads", period="month").count() == 3


@pytest.mark.django_db
def test_target_campaign_key_and_one_slice_per_row():
    campaign = m.Campaign.objects.create(external_id="cp-1", name="Spring", channel="email")
    rep = make(m.TeamMember)
    make(m.Target, campaign=campaign)
    make(m.Target, channel="email")  # another slice of the same metric and period
    with pytest.raises(IntegrityError, match=r"(?i)unique"), transaction.atomic():
        make(m.Target, campaign=campaign, value=Decimal("7"))
    with pytest.raises(IntegrityError, match="target_one_slice"), transaction.atomic():
        make(m.Target, campaign=campaign, owner=rep, metric="mqls")


def declared_constraints() -> set[str]:
    names: set[str] = set()
    for model in apps.get_app_config("funnel").get_models():
        names.update(c.name for c in model._meta.constraints)
        names.update(f"{model._meta.model_name}.{f.name}" for f in model._meta.fields
                     if f.unique and not f.primary_key and not f.one_to_one)
    return names


def test_every_constraint_has_a_case():
    covered = {c.constraint for c in CASES} | {"target_key_owner", "target_key_campaign", "target_one_slice"}
    assert declared_constraints() == covered
