"""Digest content against the real KPI engine: records made with the ORM, facts recomputed,
every expected figure worked out by hand from those records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail

from smarketing.digests.compose import ComposeCache, covered_days, section_compose, sla_status
from smarketing.digests.services import digests_send_due
from smarketing.funnel.models import Activity, Contact, Deal, Target, WebTraffic
from smarketing.kpis.windows import window_for
from tests.digests.conftest import utc

pytestmark = pytest.mark.django_db

NOW = utc(2026, 3, 3, 12, 30)  # Tue 3 Mar, 07:30 in New York; company zone UTC
AS_OF = dt.date(2026, 3, 2)  # the digest reports complete days: up to yesterday


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return utc(2026, month, day, hour)


def facts_recompute() -> None:
    from smarketing.kpis.services import facts_rebuild

    facts_rebuild()  # every day: the ORM writes above sent no records_changed


@pytest.fixture
def march(settings):
    """Feb 1–3 and Mar 1–3 2026:

    contacts  lead    mql     sql     opportunity  customer
    c1        Mar 1   Mar 2   Mar 2   Mar 3        Mar 3
    c2        Mar 1   Mar 2
    c3        Mar 2
    p1        Feb 2   Feb 2   Feb 3
    p2        Feb 2   Feb 3   Feb 3
    visits: 100 on Mar 1, 50 on Feb 2.  One won deal of c1, $84,000, closed Mar 2.
    One call to c1 after its MQL (c2 is never worked).  Revenue target for March: $3,000,000.
    """
    settings.SMARKETING_TIMEZONE = "UTC"
    stages = {
        "c1": dict(lead_at=at(3, 1), mql_at=at(3, 2), sql_at=at(3, 2, 12), opportunity_at=at(3, 3, 8),
                   customer_at=at(3, 3, 9)),
        "c2": dict(lead_at=at(3, 1), mql_at=at(3, 2)),
        "c3": dict(lead_at=at(3, 2)),
        "p1": dict(lead_at=at(2, 2), mql_at=at(2, 2, 12), sql_at=at(2, 3)),
        "p2": dict(lead_at=at(2, 2), mql_at=at(2, 3), sql_at=at(2, 3, 12)),
    }
    contacts = {}
    for key, fields in stages.items():
        contact = Contact(external_id=key, email=f"{key}@acme.com", source_channel="email", **fields)
        contact.save()
        contacts[key] = contact
    Deal(external_id="d1", contact=contacts["c1"], amount=Decimal("84000"), status="won",
         created_at=at(2, 10), closed_at=at(3, 2, 15)).save()
    Activity(external_id="a1", contact=contacts["c1"], activity_type="call", occurred_at=at(3, 2, 16)).save()
    WebTraffic.objects.create(date=dt.date(2026, 3, 1), page="/", section="site", source="direct", visits=100)
    WebTraffic.objects.create(date=dt.date(2026, 2, 2), page="/", section="site", source="direct", visits=50)
    Target.objects.create(metric="revenue", period="month", period_start=dt.date(2026, 3, 1),
                          value=Decimal("3000000"))
    facts_recompute()
    return contacts


def test_subject_carries_the_headline_like_the_issue_example(subscribe, march):
    subscribe("ann", dashboards=["shared"], time_zone="America/New_York")
    digests_send_due(now=NOW)
    [sent] = mail.outbox
    # Mar 1–2: leads 3 vs 2 on Feb 1–2 = +50 %; revenue $84,000 < pace 3,000,000 × 2/31 = $193,548
    assert sent.subject == "Shared sales & marketing · Tue 3 Mar · leads 3 (+50 %) · revenue $84k (behind target)"


def test_body_reports_complete_days_with_targets_and_the_attention_list(subscribe, march):
    subscribe("ann", dashboards=["shared"], time_zone="America/New_York")
    digests_send_due(now=NOW)
    [sent] = mail.outbox
    text = sent.body
    [(html, _mime)] = sent.alternatives
    # Sent on Mar 3, it covers Mar 1–2 (complete days): c1's customer on Mar 3 is not in it.
    assert "month to date 1–2 Mar 2026" in text and "month to date 1–2 Mar 2026" in html
    # leads: 3 MTD (+50 %), 5 YTD (nothing on the same days of 2025: no delta)
    assert "  Leads: 3 MTD (+50.0 % vs same days last month) | YTD 5 (—)" in text
    # Revenue paces at 3,000,000 × 2 / 31 = $193,548 on two complete days: the real gap is
    # $109,548, and the projection 84,000 × 31 / 2 = $1,302,000 shares the target's scale.
    assert ("  Revenue: $84,000 MTD (— vs same days last month) [Behind pace by $109,548 · target $3.0M · heading for $1.3M]"
            " | YTD $84,000 (—)") in text
    # Two complete days are too few to flag a sum behind pace (7 needed); the cohorts are too
    # young (no mature part); leads and revenue went up: nothing needs attention.
    assert "NEEDS ATTENTION\n  Nothing needs attention." in text
    # 2 MQLs on Mar 2, 1 worked: 50 %, but a week must pass before the SLA judges it.
    assert ("marketing: no rep has a delivery SLA · sales: 50.0 % of delivered leads worked (SLA 90.0 %), "
            "attempt compliance 0.0 %: too early to judge") in html
    # Funnel Mar 1–2: 100 → 3 → 2 → 1 → 0 → 0; year to date 150 → 5 → 4 → 3 → 0 → 0 (nothing
    # reached an opportunity by Mar 2): SQL → opportunity is 0 against 0, the furthest below its norm
    # (visits → leads 3.0 vs 3.3, leads → MQLs 66.7 vs 80.0, MQLs → SQLs 50.0 vs 75.0).
    assert "  SQLs: 1 (—), 50.0 SQLs per 100 MQLs\n" in text
    assert "  Opportunities: 0 (—), 0.0 opportunities per 100 SQLs (weakest step)" in text
    assert ">3<" in html.replace(" ", "") and "$84,000" in html and "+50.0 %" in html
    assert "Behind pace" in html
    # the dashboard link and the unsubscribe link
    assert "http://127.0.0.1:8000/dashboards/shared/?window=mtd" in html
    assert "/digests/unsubscribe/" in html


def test_sla_summary_has_a_side_for_marketing_and_one_for_sales(march, settings):
    from smarketing.funnel.models import TeamMember

    rep = TeamMember.objects.create(email="rep@t.com", name="Rep", team="sales")
    Contact.objects.filter(external_id__in=["c1", "c2"]).update(owner=rep)
    facts_recompute()
    cache = ComposeCache()
    # Mar 9: 7 complete days since the MQLs of Mar 2, so the cohort is mature (2 of it, too few).
    sla = sla_status(cache=cache, mtd=window_for("mtd", as_of=dt.date(2026, 3, 9)))
    # The rep's SLA (100 a month) paces at 100 × 9 / 31 = 29; 2 delivered is marketing's shortfall.
    assert sla["marketing"] == "1 of 1 reps short of their delivery SLA"
    assert sla["sales"].endswith(": too few to judge")
    assert sla["ok"] is False and sla["label"] == "SLA at risk"
    assert covered_days(window_for("mtd", as_of=dt.date(2026, 3, 1))) == "1 Mar 2026"
    # The per-rep table keeps the two sides apart: the rep is not blamed for leads not given.
    section = section_compose(dashboard_key="shared", as_of=dt.date(2026, 3, 9), cache=ComposeCache(render_charts=False))
    assert ("  - Rep: 2 delivered (SLA pace 29), worked 50.0 %, attempts ok 0.0 %, "
            "marketing: short of SLA, sales: too few to judge") in section.text


def test_sections_are_composed_once_and_shared_between_subscribers(subscribe, march, monkeypatch):
    from smarketing.digests import compose

    built = []
    real_build = compose.SectionBuilder.build

    def counting_build(self):
        built.append(self.dashboard.key)
        return real_build(self)

    monkeypatch.setattr(compose.SectionBuilder, "build", counting_build)
    for name in ("ann", "bob", "cy"):
        subscribe(name, dashboards=["shared", "blog"], time_zone="UTC", send_time=dt.time(12, 0))
    subscribe("dee", dashboards=["blog"], time_zone="UTC", send_time=dt.time(12, 0))
    report = digests_send_due(now=NOW)
    assert (report.sent, report.sections_composed) == (4, 2)
    assert sorted(built) == ["blog", "shared"]


def test_digest_arrows_follow_direction_and_colour_follows_the_metric():
    from smarketing.digests.compose import _delta

    # churn fell: ▼ in green; leads fell: ▼ in red; spend rose: ▲ in red
    churn = _delta({"value": 4, "previous": {"value": 5}}, "down")
    leads = _delta({"value": 80, "previous": {"value": 100}}, "up")
    spend = _delta({"value": 120, "previous": {"value": 100}}, "down")
    assert (churn["text"], churn["tone"]) == ("▼ -20.0 %", "good")
    assert (leads["text"], leads["tone"]) == ("▼ -20.0 %", "bad")
    assert (spend["text"], spend["tone"]) == ("▲ +20.0 %", "bad")


def test_a_subscription_carries_an_own_board_its_reader_can_see(subscribe, march, django_user_model):
    from smarketing.dashboards.boards import board_save

    subscription = subscribe("ann", dashboards=["shared"], time_zone="America/New_York")
    board = board_save(user=subscription.user, data={
        "title": "Ann's leads", "visibility": "private",
        "panels": [{"kind": "tile", "metrics": ["leads"], "width": 1}]})
    other = django_user_model.objects.create_user(username="bob", password="pw-123456789")
    hidden = board_save(user=other, data={"title": "Bob's", "visibility": "private",
                                          "panels": [{"kind": "tile", "metrics": ["mqls"]}]})
    subscription.dashboards = [f"board-{board.pk}", f"board-{hidden.pk}"]
    subscription.full_clean()
    subscription.save()
    digests_send_due(now=NOW)
    [sent] = mail.outbox
    # Mar 1–2: 3 leads against 2 on Feb 1–2; Bob's private board is left out
    assert sent.subject.startswith("Ann's leads · Tue 3 Mar · leads 3 (+50 %)")
    assert "  Leads: 3 MTD (+50.0 % vs same days last month)" in sent.body
    assert "Bob's" not in sent.body
    [(html, _mime)] = sent.alternatives
    assert f"http://127.0.0.1:8000/boards/{board.pk}/?window=mtd" in html


def test_a_boards_fixed_windows_are_the_digests_windows_too(subscribe, march):
    from smarketing.dashboards.boards import board_save

    subscription = subscribe("ann", dashboards=["shared"], time_zone="America/New_York")
    board = board_save(user=subscription.user, data={
        "title": "Ann's quarter", "visibility": "private",
        "panels": [{"kind": "tile", "metrics": ["leads"], "window": "qtd"},
                   {"kind": "tile", "metrics": ["mqls"], "window": "ytd"},
                   {"kind": "breakdown", "metrics": ["leads"], "dimension": "channel", "window": "last_30"},
                   {"kind": "funnel", "metrics": ["visits", "leads", "mqls", "sqls", "opportunities", "customers"],
                    "window": "qtd"}]})
    subscription.dashboards = [f"board-{board.pk}"]
    subscription.save()
    digests_send_due(now=NOW)
    [sent] = mail.outbox
    text = sent.body
    # Jan 1–Mar 2 2026: c1, c2, c3 in March and p1, p2 in February; nothing Oct 1–Dec 2 2025
    assert "  Leads: 5 QTD (— vs same days last quarter) | YTD 5 (—)" in text
    # A tile fixed to the year to date shows it once: 4 MQLs (c1, c2 in March, p1, p2 in February)
    assert "  MQLs: 4 YTD (— vs same days last year)\n" in text
    # Last 30 days = Feb 1–Mar 2: all five leads came by email
    assert "by channel · last 30 days" in text
    assert "  - Email: 5" in text
    # The funnel over the quarter to date: 150 visits → 5 leads → 4 MQLs → 3 SQLs (c1, p1, p2)
    assert "quarter to date vs same days last quarter" in text
    assert "  Leads: 5 (—), 3.3 leads per 100 visits\n" in text
    assert "  SQLs: 3 (—), 75.0 SQLs per 100 MQLs\n" in text  # the quarter is the year: no weakest step
    [(html, _mime)] = sent.alternatives
    assert "· Quarter to date</span>" in html and "vs same days last quarter" in html


@pytest.mark.django_db
def test_a_subscription_refuses_a_board_that_does_not_exist(subscribe):
    from django.core.exceptions import ValidationError

    subscription = subscribe("ann", dashboards=["shared"])
    subscription.dashboards = ["shared", "board-999"]
    with pytest.raises(ValidationError, match="unknown dashboards board-999"):
        subscription.full_clean()
