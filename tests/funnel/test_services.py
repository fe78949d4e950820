"""Upserts by key: counts, idempotence, all-or-nothing, the records_changed signal, deletes."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest
from django.forms.models import model_to_dict

from smarketing.funnel import models as m
from smarketing.funnel import services
from smarketing.funnel.schemas import RESOURCES
from smarketing.funnel.signals import records_changed
from tests.funnel.rows import store_examples, valid_rows

pytestmark = pytest.mark.django_db


@contextmanager
def captured():
    calls: list[dict] = []

    def receiver(sender, **kwargs):
        calls.append(kwargs)

    records_changed.connect(receiver)
    try:
        yield calls
    finally:
        records_changed.disconnect(receiver)


def snapshot() -> dict[str, list[dict]]:
    return {
        name: sorted((model_to_dict(o, exclude=["id"]) | {"pk": o.pk} for o in r.model.objects.all()),
                     key=lambda d: d["pk"])
        for name, r in RESOURCES.items()
    }


def test_every_resource_upserts_and_counts_created_then_updated():
    for name in RESOURCES:
        first = services.records_upsert(resource=name, rows=valid_rows(name))
        assert (first.ok, first.created, first.updated) == (True, 2, 0), (name, first.errors)
    for name in RESOURCES:
        again = services.records_upsert(resource=name, rows=valid_rows(name))
        assert (again.created, again.updated) == (0, 2), name
        assert RESOURCES[name].model.objects.count() == 2, name


def test_importing_twice_changes_nothing():
    for name in RESOURCES:
        services.records_upsert(resource=name, rows=valid_rows(name))
    before = snapshot()
    for name in RESOURCES:
        services.records_upsert(resource=name, rows=valid_rows(name))
    assert snapshot() == before


def test_a_row_with_an_existing_key_replaces_the_record():
    services.records_upsert(resource="contacts", rows=[
        {"external_id": "C1", "source_channel": "email", "lead_at": "2026-01-05T09:00:00", "company": "Acme"},
    ])
    pk = m.Contact.objects.get().pk
    result = services.records_upsert(resource="contacts", rows=[
        {"external_id": "C1", "source_channel": "blog", "lead_at": "2026-02-01T09:00:00"},
    ])
    assert (result.created, result.updated) == (0, 1)
    stored = m.Contact.objects.get()
    assert stored.pk == pk
    assert (stored.source_channel, stored.company, stored.lead_on) == ("blog", "", dt.date(2026, 2, 1))


def test_replacing_a_team_member_keeps_its_login():
    from django.contrib.auth import get_user_model

    services.records_upsert(resource="team_members", rows=valid_rows("team_members"))
    login = get_user_model().objects.create_user("rep")
    m.TeamMember.objects.filter(email="person1@example.com").update(user=login)
    services.records_upsert(resource="team_members", rows=[{"email": "person1@example.com", "name": "New name",
                                                             "team": "sales"}])
    member = m.TeamMember.objects.get(email="person1@example.com")
    assert (member.name, member.user_id) == ("New name", login.pk)


def test_team_wide_and_owner_targets_upsert_separately():
    store_examples("team_members")
    team = {"metric": "leads", "period": "month", "period_start": "2026-01-01", "value": "100"}
    owned = {**team, "owner_email": "person1@example.com", "value": "10"}
    assert services.records_upsert(resource="targets", rows=[team, owned]).created == 2
    result = services.records_upsert(resource="targets", rows=[{**team, "value": "150"}])
    assert (result.created, result.updated) == (0, 1)
    assert sorted(m.Target.objects.values_list("value", flat=True)) == [10, 150]


def test_channel_and_campaign_targets_are_their_own_records():
    store_examples("team_members", "campaigns")
    team = {"metric": "leads", "period": "month", "period_start": "2026-01-01", "value": "100"}
    rows = [team, {**team, "channel": "blog", "value": "20"}, {**team, "campaign_id": "campaigns-1", "value": "7"},
            {**team, "owner_email": "person1@example.com", "value": "10"}]
    assert services.records_upsert(resource="targets", rows=rows).created == 4
    result = services.records_upsert(resource="targets", rows=[{**team, "channel": "blog", "value": "25"}])
    assert (result.created, result.updated) == (0, 1)
    blog = m.Target.objects.get(channel="blog")
    assert (blog.value, blog.owner_id, blog.campaign_id) == (25, None, None)
    assert m.Target.objects.get(campaign__external_id="campaigns-1").value == 7
    assert m.Target.objects.get(owner__isnull=True, channel__isnull=True, campaign__isnull=True).value == 100


def test_a_target_names_at_most_one_slice():
    store_examples("team_members", "campaigns")
    row = {"metric": "leads", "period": "month", "period_start": "2026-01-01", "value": "100",
           "channel": "blog", "campaign_id": "campaigns-1"}
    result = services.records_upsert(resource="targets", rows=[row])
    assert not result.ok and m.Target.objects.count() == 0
    (error,) = result.errors
    assert (error["row"], error["field"]) == (1, "campaign_id")
    assert "channel and campaign_id are both set" in error["message"]


def test_one_bad_row_writes_nothing_even_after_good_chunks():
    rows = [{"external_id": f"C{i}", "source_channel": "email", "lead_at": "2026-01-05T09:00:00"}
            for i in range(25)]
    rows[23]["lead_at"] = "not a time"
    result = services.records_upsert(resource="contacts", rows=rows, chunk_rows=5)
    assert [(e["row"], e["field"]) for e in result.errors] == [(24, "lead_at")]
    assert m.Contact.objects.count() == 0


def test_dry_run_counts_without_writing():
    store_examples("campaigns")
    rows = [*valid_rows("campaigns"), {"external_id": "new", "name": "New", "channel": "email"}]
    with captured() as calls:
        result = services.records_upsert(resource="campaigns", rows=rows, dry_run=True)
    assert (result.created, result.updated) == (1, 2)
    assert m.Campaign.objects.count() == 2
    assert calls == []


def test_signal_carries_old_and_new_local_days_and_contacts():
    services.records_upsert(resource="contacts", rows=[
        {"external_id": "C1", "source_channel": "email", "lead_at": "2026-01-05T09:00:00",
         "mql_at": "2026-01-07T09:00:00"},
        {"external_id": "C2", "source_channel": "email", "lead_at": "2026-01-06T09:00:00"},
    ])
    c1 = m.Contact.objects.get(external_id="C1").pk
    with captured() as calls:
        services.records_upsert(resource="contacts", rows=[
            {"external_id": "C1", "source_channel": "email", "lead_at": "2026-03-01T09:00:00"},
        ])
    assert len(calls) == 1
    assert calls[0]["resource"] == "contacts"
    assert calls[0]["days"] == [dt.date(2026, 1, 5), dt.date(2026, 1, 7), dt.date(2026, 3, 1)]
    assert calls[0]["contact_ids"] == [c1]


def test_signal_for_activities_names_old_and_new_contacts():
    store_examples("contacts")
    first, second = (m.Contact.objects.get(external_id=e).pk for e in ("contacts-1", "contacts-2"))
    activity = {"external_id": "A1", "contact_id": "contacts-1", "activity_type": "call",
                "occurred_at": "2026-01-10T10:00:00"}
    services.records_upsert(resource="activities", rows=[activity])
    with captured() as calls:
        services.records_upsert(resource="activities", rows=[
            {**activity, "contact_id": "contacts-2", "occurred_at": "2026-01-12T10:00:00"},
        ])
    assert calls[0]["days"] == [dt.date(2026, 1, 10), dt.date(2026, 1, 12)]
    assert calls[0]["contact_ids"] == sorted([first, second])


def test_signal_for_daily_rows_names_their_dates_and_no_contacts():
    with captured() as calls:
        services.records_upsert(resource="spend", rows=valid_rows("spend"))
    assert calls[0]["days"] == [dt.date(2026, 1, 5), dt.date(2026, 1, 6)]
    assert calls[0]["contact_ids"] is None


def test_delete_by_key_reports_the_days_it_covered():
    services.records_upsert(resource="web_traffic", rows=valid_rows("web_traffic"))
    row = valid_rows("web_traffic")[1]
    with captured() as calls:
        deleted = services.records_delete(
            resource="web_traffic", keys=[{"date": row["date"], "page": row["page"], "source": row["source"]}]
        )
    assert deleted == 1
    assert m.WebTraffic.objects.count() == 1
    assert calls[0]["days"] == [dt.date(2026, 1, 6)]


def test_delete_of_a_contact_names_it():
    services.records_upsert(resource="contacts", rows=valid_rows("contacts")[:1])
    pk = m.Contact.objects.get().pk
    with captured() as calls:
        assert services.records_delete(resource="contacts", keys=[{"external_id": "contacts-1"}]) == 1
    assert calls[0]["contact_ids"] == [pk]
    assert calls[0]["days"] == [dt.date(2026, 1, 5)]


def test_delete_of_nothing_sends_nothing():
    with captured() as calls:
        assert services.records_delete(resource="campaigns", keys=[{"external_id": "none"}]) == 0
    assert calls == []


def test_bulk_writes_fill_local_dates_and_email_domain():
    services.records_upsert(resource="contacts", rows=[
        {"external_id": "C1", "email": "Ann@Sub.Example.COM", "source_channel": "email",
         "lead_at": "2026-01-05T23:30:00-02:00", "customer_at": "2026-02-01T00:00:00+00:00"},
    ])
    stored = m.Contact.objects.get()
    assert (stored.email_domain, stored.lead_on, stored.customer_on) == (
        "sub.example.com", dt.date(2026, 1, 6), dt.date(2026, 2, 1))
