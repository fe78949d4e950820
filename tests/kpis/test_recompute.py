"""Facts follow the records: time zones, cohorts re-keyed by entry day, dirty days, idempotence."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from smarketing.funnel.signals import records_changed
from smarketing.kpis import facts
from smarketing.kpis.models import DirtyDay, Fact
from smarketing.kpis.selectors import facts_as_of, facts_version, kpi_values, recompute_pending
from smarketing.kpis.services import contact_days, facts_rebuild, facts_recompute_dirty
from smarketing.kpis.tasks import facts_recheck_recent, facts_recompute_days
from smarketing.kpis.windows import window_for

from .builders import activity, contact, deal, facts_snapshot, ts

pytestmark = pytest.mark.django_db


def value(metric: str, **window) -> float | None:
    name = window.pop("window", "mtd")
    return kpi_values(metrics=[metric], window=window_for(name, **window))[0]["value"]


def test_midnight_edges_fall_on_local_days_in_new_york(settings):
    settings.SMARKETING_TIMEZONE = "America/New_York"
    contact("first", "2026-03-01 00:00:00")
    contact("last", "2026-03-31 23:59:59")  # 03:59:59 UTC on April 1
    contact("before", "2026-02-28 23:59:59")
    contact("after", "2026-04-01 00:00:00")
    facts_rebuild()
    assert value("leads", as_of="2026-03-31") == 2
    assert value("leads", window="custom", start="2026-04-01", end="2026-04-01") == 1
    assert value("leads", window="custom", start="2026-02-28", end="2026-02-28") == 1


def test_aware_utc_instant_is_converted_to_the_company_day(settings):
    settings.SMARKETING_TIMEZONE = "America/New_York"
    from smarketing.funnel import models as m

    # 02:30 UTC on Mar 2 is 21:30 on Mar 1 in New York.
    m.Contact.objects.create(external_id="u", source_channel="email",
                             lead_at=dt.datetime(2026, 3, 2, 2, 30, tzinfo=dt.UTC))
    facts_rebuild()
    assert value("leads", window="custom", start="2026-03-01", end="2026-03-01") == 1


def test_leap_day_is_its_own_day():
    contact("leap", "2024-02-29 12:00")
    contact("march", "2024-03-01 00:00")
    facts_rebuild()
    assert value("leads", window="custom", start="2024-02-29", end="2024-02-29") == 1
    assert value("leads", as_of="2024-02-29") == 1
    assert value("leads", window="ytd", as_of="2024-03-01") == 2


def test_fiscal_ytd_sums_from_april(settings):
    settings.FISCAL_YEAR_START_MONTH = 4
    contact("march", "2026-03-31 12:00")
    contact("april", "2026-04-01 12:00")
    contact("last-fy", "2025-04-01 00:00")
    facts_rebuild()
    assert value("leads", window="ytd", as_of="2026-03-31") == 2
    assert value("leads", window="ytd", as_of="2026-04-30") == 1


def test_cohort_converting_months_later_changes_the_old_month_after_recompute():
    january = contact("jan", "2026-01-10 09:00")
    contact("jan-2", "2026-01-11 09:00")
    facts_rebuild()
    assert value("lead_to_mql_rate", as_of="2026-01-31") == 0.0
    with transaction.atomic():
        january.mql_at = ts("2026-04-02 09:00")
        january.save()
        # As ingest does: every stage day of the record, the unchanged January lead day too.
        records_changed.send(sender=None, resource="contacts", days=[dt.date(2026, 1, 10), dt.date(2026, 4, 2)],
                             contact_ids=[january.pk])
    assert recompute_pending()
    facts_recompute_dirty()
    assert not recompute_pending()
    assert value("lead_to_mql_rate", as_of="2026-01-31") == 50.0
    assert value("mqls", window="custom", start="2026-04-01", end="2026-04-30") == 1


def test_signal_recomputes_on_commit_in_embedded_mode(django_capture_on_commit_callbacks):
    lead = contact("x", "2026-03-01 09:00", mql="2026-03-02 09:00")
    facts_rebuild()
    assert value("leads_worked_rate", as_of="2026-03-31") == 0.0
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        activity(lead, "2026-05-01 10:00")
        # Ingest names the activity's own day; the engine finds the MQL day it belongs to.
        records_changed.send(sender=None, resource="activities", days=[dt.date(2026, 5, 1)],
                             contact_ids=[lead.pk])
    # The recompute, then (registered by it) its announcement to listeners such as alerts.
    assert len(callbacks) == 2
    assert not recompute_pending()
    assert value("leads_worked_rate", as_of="2026-03-31") == 100.0
    assert value("sales_calls", window="custom", start="2026-05-01", end="2026-05-01") == 1


def test_unknown_contacts_recompute_every_family_of_the_days():
    deal("d", 100, "won", "2026-03-01 09:00", "2026-03-05 09:00")
    records_changed.send(sender=None, resource="deals", days=[dt.date(2026, 3, 5)], contact_ids=None)
    assert DirtyDay.objects.filter(day=dt.date(2026, 3, 5)).count() > 20
    result = facts_recompute_dirty()
    assert value("revenue", as_of="2026-03-31") == 100.0
    # Readers see the facts at the commit; the vacuum after it is counted in the total only.
    assert 0 < result.visible_seconds <= result.seconds



def test_rebuilding_the_same_days_twice_leaves_no_duplicates():
    lead = contact("x", "2026-03-01 09:00", mql="2026-03-02 09:00")
    activity(lead, "2026-03-03 09:00")
    facts_rebuild()
    before = facts_snapshot()
    days = [dt.date(2026, 3, d) for d in range(1, 5)]
    facts_rebuild(days=days)
    facts_recompute_days([d.isoformat() for d in days])
    after = facts_snapshot()
    assert after == before


def test_day_rebuild_equals_full_rebuild_after_changes():
    lead = contact("x", "2026-03-01 09:00", mql="2026-03-02 09:00")
    facts_rebuild()
    lead.customer_at = ts("2026-03-20 09:00")
    lead.save()
    deal("d", 100, "won", "2026-03-10 09:00", "2026-03-20 09:00", contact=lead)
    facts_rebuild(days=[dt.date(2026, 3, d) for d in range(1, 32)])
    partial = facts_snapshot()
    facts_rebuild()
    assert facts_snapshot() == partial


@pytest.mark.parametrize("listed", [True, False], ids=["days-listed", "day-ranges"])
def test_a_rebuild_of_scattered_mql_days_equals_a_full_rebuild(monkeypatch, listed):
    """A day rebuild names its days one by one (an index scan of those keys) up to
    MAX_LISTED_DAYS, and as day ranges beyond: both select the same records."""
    if not listed:
        monkeypatch.setattr(facts, "MAX_LISTED_DAYS", 0)
    early = contact("early", "2026-01-05 09:00", mql="2026-01-06 09:00")
    late = contact("late", "2026-03-01 09:00", mql="2026-03-02 09:00")
    activity(early, "2026-01-06 10:00")
    facts_rebuild()
    before = facts_snapshot()
    # Late attempts re-key MQL cohorts weeks apart (and a day with no MQL in between).
    activity(early, "2026-03-03 09:00", connected=True)
    activity(late, "2026-03-02 11:00")
    activity(late, "2026-03-04 09:00")
    with CaptureQueriesContext(connection) as queries:
        facts_rebuild(days=[dt.date(2026, 1, 6), dt.date(2026, 2, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3),
                            dt.date(2026, 3, 4)])
    # Listed days: the two SLA families read one staged grouping of the MQLs' attempts; past
    # MAX_LISTED_DAYS each groups them itself.
    groupings = [query for query in queries if "AS attempts" in query["sql"]]
    assert len(groupings) == (1 if listed else 2)
    assert any(facts.STAGED_MQLS in query["sql"] for query in groupings) == listed
    partial = facts_snapshot()
    assert partial != before
    assert ("sla_connected", "", dt.date(2026, 1, 6), "", 0, 1.0) in partial
    with CaptureQueriesContext(connection) as queries:
        facts_rebuild()
    # A rebuild of everything stages every MQL's attempts once, too.
    assert len([query for query in queries if "AS attempts" in query["sql"]]) == 1
    assert facts_snapshot() == partial


def test_facts_as_of_is_the_last_complete_recompute():
    assert facts_as_of() is None
    facts_rebuild()
    first = facts_as_of()
    assert first is not None
    facts_recheck_recent()
    assert facts_as_of() > first


def test_facts_version_moves_when_what_the_query_reads_live_changes():
    """Targets, campaigns and team members have no facts: their imports start no recompute, so
    they move the version a cached answer is keyed by. Records with facts move it by their
    recompute (not run here: it starts on commit); a failed import moves nothing."""
    from smarketing.funnel.services import records_upsert

    assert facts_version() == (None, 0)
    records_upsert(resource="team_members", rows=[{"email": "ann@acme.example", "name": "Ann", "team": "sales"}])
    assert facts_version() == (None, 1)
    records_upsert(resource="campaigns", rows=[{"external_id": "CMP-1", "name": "Spring", "channel": "email"}])
    records_upsert(resource="targets", rows=[{"metric": "leads", "period": "month", "period_start": "2026-03-01",
                                             "value": "100"}])
    assert facts_version()[1] == 3
    records_upsert(resource="contacts", rows=[{"external_id": "c1", "source_channel": "email",
                                                            "lead_at": "2026-03-02T10:00:00Z"}])
    assert facts_version()[1] == 3
    failed = records_upsert(resource="targets", rows=[
        {"metric": "leads", "period": "month", "period_start": "2026-04-01", "value": "5"},
        {"metric": "no_such_metric", "period": "month", "period_start": "2026-04-01", "value": "5"}])
    assert failed.errors
    assert facts_version()[1] == 3
    facts_rebuild()
    as_of, version = facts_version()
    assert as_of == facts_as_of() and as_of is not None and version == 4
    # Two recomputes within one tick of the clock are still two versions.
    with time_machine.travel(as_of, tick=False):
        facts_rebuild()
        facts_rebuild()
    assert facts_version() == (as_of, 6)


def test_recompute_kpis_command_rebuilds_a_range_and_everything(capsys):
    contact("x", "2026-03-01 09:00")
    call_command("recompute_kpis", "--from", "2026-03-01", "--to", "2026-03-02")
    assert value("leads", as_of="2026-03-31") == 1
    assert "over 2 days" in capsys.readouterr().out
    contact("y", "2026-01-01 09:00")
    call_command("recompute_kpis", "--full")
    assert value("leads", window="ytd", as_of="2026-03-31") == 2
    assert "every day" in capsys.readouterr().out


def test_records_without_contacts_mark_only_their_own_families():
    from smarketing.funnel import models as m

    m.WebTraffic.objects.create(date=dt.date(2026, 3, 5), page="/", section="site", source="direct", visits=9)
    records_changed.send(sender=None, resource="web_traffic", days=[dt.date(2026, 3, 5)], contact_ids=None)
    assert set(DirtyDay.objects.values_list("family", flat=True)) == {"web_traffic"}
    facts_recompute_dirty()
    assert value("visits", as_of="2026-03-31") == 9


def test_touch_change_recomputes_the_close_day_of_the_contacts_deals():
    from .builders import touch

    lead = contact("x", "2026-01-01 09:00", channel="direct")
    deal("d", 100, "won", "2026-01-02 09:00", "2026-03-05 09:00", contact=lead)
    facts_rebuild()
    # Ingest reports the touch's own day (January); the deal that credits it closed in March.
    touch("t", lead, "2026-01-10 09:00", "social")
    records_changed.send(sender=None, resource="touches", days=[dt.date(2026, 1, 10)], contact_ids=[lead.pk])
    facts_recompute_dirty()
    march = kpi_values(metrics=["attributed_revenue_first_touch"], window=window_for("mtd", as_of="2026-03-31"),
                       dimension="channel")[0]
    assert [(item["key"], item["value"]) for item in march["breakdown"]] == [("social", 100.0)]


def test_deal_of_a_referral_recomputes_the_referrer_customer_day():
    referrer = contact("r", "2026-01-01 09:00", customer="2026-03-10 09:00")
    referred = contact("f", "2026-01-02 09:00", referred_by=referrer)
    facts_rebuild()
    # Closed before the referrer became a customer: it counts from the customer day (March 10).
    deal("d", 300, "won", "2026-01-03 09:00", "2026-02-01 09:00", contact=referred)
    records_changed.send(sender=None, resource="deals", days=[dt.date(2026, 1, 3), dt.date(2026, 2, 1)],
                         contact_ids=[referred.pk])
    facts_recompute_dirty()
    assert value("customer_lifetime_value", as_of="2026-03-31") == 300.0
    assert value("customer_lifetime_value", as_of="2026-03-09") is None


def test_lifetime_value_counts_a_deal_once_on_the_later_of_its_close_and_customer_days():
    same_day = contact("a", "2026-01-01 09:00", customer="2026-03-05 09:00")
    deal("d1", 100, "won", "2026-01-02 09:00", "2026-03-05 17:00", contact=same_day)
    closed_after = contact("b", "2026-01-01 09:00", customer="2026-03-05 09:00")
    deal("d2", 200, "won", "2026-01-02 09:00", "2026-03-20 09:00", contact=closed_after)
    closed_before = contact("c", "2026-01-01 09:00", customer="2026-03-20 09:00")
    deal("d3", 400, "won", "2026-01-02 09:00", "2026-03-05 09:00", contact=closed_before)
    referred = contact("r", "2026-01-01 09:00", referred_by=closed_before)
    deal("d4", 800, "won", "2026-01-02 09:00", "2026-03-21 09:00", contact=referred)

    def clv_facts() -> dict[dt.date, float]:
        return dict(Fact.objects.filter(measure="clv_revenue", dimension="").values_list("day", "value"))

    expected = {dt.date(2026, 3, 5): 100.0, dt.date(2026, 3, 20): 600.0, dt.date(2026, 3, 21): 800.0}
    facts_rebuild()
    assert clv_facts() == expected
    facts_rebuild(days=[dt.date(2026, 3, 5), dt.date(2026, 3, 20), dt.date(2026, 3, 21)])
    assert clv_facts() == expected


def test_contact_days_of_a_few_contacts_are_theirs_and_of_many_a_superset():
    referrer = contact("ref", "2026-01-01 09:00", customer="2026-01-20 09:00")
    referred = contact("one", "2026-02-01 09:00", mql="2026-02-03 09:00", referred_by=referrer)
    deal("d1", 100, "won", "2026-02-05 09:00", "2026-02-25 09:00", contact=referred)
    others = [contact(f"o{i}", f"2026-03-{i + 1:02d} 09:00", mql=f"2026-03-{i + 2:02d} 09:00") for i in range(8)]
    deal("d2", 50, "lost", "2026-03-05 09:00", "2026-03-09 09:00", contact=others[0])
    # One contact: its deal's days and its referrer's customer day (its own stage days come with the signal).
    assert contact_days(contact_ids=[referred.pk], need="all") == {
        dt.date(2026, 1, 20), dt.date(2026, 2, 5), dt.date(2026, 2, 25)}
    assert contact_days(contact_ids=[referred.pk], need="mql") == {dt.date(2026, 2, 3)}
    assert contact_days(contact_ids=[others[2].pk], need="mql") == {dt.date(2026, 3, 4)}
    # The referrer: the close day of the deal of whom it referred, and its own customer day (a
    # referrer a contact left is named by its id alone: no signal brings its days).
    assert contact_days(contact_ids=[referrer.pk], need="all") == {dt.date(2026, 1, 20), dt.date(2026, 2, 25)}
    # Every contact: at least every contact's days, whichever way they are read.
    everyone = [referrer.pk, referred.pk, *(o.pk for o in others)]
    assert contact_days(contact_ids=everyone, need="mql") == {dt.date(2026, 2, 3)} | {
        dt.date(2026, 3, i + 2) for i in range(8)}
    assert contact_days(contact_ids=everyone, need="all") >= {
        dt.date(2026, 1, 20), dt.date(2026, 2, 5), dt.date(2026, 2, 25), dt.date(2026, 3, 5), dt.date(2026, 3, 9)}


def test_recompute_kpis_clears_the_dirty_marks_it_covered():
    from smarketing.funnel import models as m

    for day in (dt.date(2026, 3, 1), dt.date(2026, 3, 5)):
        m.WebTraffic.objects.create(date=day, page="/", section="site", source="direct", visits=2)
        records_changed.send(sender=None, resource="web_traffic", days=[day], contact_ids=None)
    records_changed.send(sender=None, resource="spend", days=[dt.date(2026, 3, 1)], contact_ids=None)
    marks = set(DirtyDay.objects.values_list("family", "day"))
    assert marks == {("web_traffic", dt.date(2026, 3, 1)), ("web_traffic", dt.date(2026, 3, 5)),
                     ("spend", dt.date(2026, 3, 1))}
    # One family over one day: the other family's mark and the other day's stay.
    facts_rebuild(days=[dt.date(2026, 3, 1)], family_names=["web_traffic"])
    assert set(DirtyDay.objects.values_list("family", "day")) == marks - {("web_traffic", dt.date(2026, 3, 1))}
    # A range of days, every family: the marks of those days go.
    call_command("recompute_kpis", "--from", "2026-03-01", "--to", "2026-03-02")
    assert set(DirtyDay.objects.values_list("family", "day")) == {("web_traffic", dt.date(2026, 3, 5))}
    assert recompute_pending()
    call_command("recompute_kpis", "--full")
    assert not DirtyDay.objects.exists()
    assert not recompute_pending()
    assert value("visits", as_of="2026-03-31") == 4


@pytest.mark.services
def test_half_of_the_contacts_or_more_read_every_contacts_days_counted_exactly():
    # PostgreSQL only (SQLite always joins the ids); no ANALYZE: the count is exact, not estimated.
    people = [contact(f"p{i}", f"2026-01-{i + 1:02d} 09:00", mql=f"2026-04-{i + 1:02d} 09:00") for i in range(10)]
    ids = [person.pk for person in people]
    assert contact_days(contact_ids=ids[:4], need="mql") == {dt.date(2026, 4, i + 1) for i in range(4)}
    # 5 of 10 is half: every contact's MQL day, a superset of theirs.
    assert contact_days(contact_ids=ids[:5], need="mql") == {dt.date(2026, 4, i + 1) for i in range(10)}


def test_a_recompute_announces_its_families_and_days_after_commit(django_capture_on_commit_callbacks):
    from smarketing.kpis.signals import facts_recomputed

    heard = []

    def listen(sender, **kwargs):
        heard.append((kwargs["families"], kwargs["days"]))

    facts_recomputed.connect(listen)
    try:
        contact("x", "2026-03-01 09:00")
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            facts_rebuild(days=[dt.date(2026, 3, 1)], family_names=["contacts_lead"])
        assert heard == []  # nothing before the commit
        for callback in callbacks:
            callback()
        assert heard == [(["contacts_lead"], [dt.date(2026, 3, 1)])]
    finally:
        facts_recomputed.disconnect(listen)
