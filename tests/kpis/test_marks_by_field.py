"""A contact change marks each contact family only on the days of the field it is keyed by.

Ingest sends the days a change touched per day field (old and new values). A family keyed by
the contact's MQL day (the SLA, the MQL cohorts) then rebuilds the MQL days, not the lead days
or the deals' days that came with the same contacts; the deal families still take every day.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest

from smarketing.funnel import models as m
from smarketing.funnel.services import records_upsert
from smarketing.kpis.facts import families
from smarketing.kpis.models import DirtyDay
from smarketing.kpis.services import (
    CONTACT_FAMILIES,
    DEAL_FAMILIES,
    facts_rebuild,
    facts_recompute_dirty,
    own_day_field,
)

from .builders import activity, contact, deal, facts_snapshot

pytestmark = pytest.mark.django_db

CONTACT_DAY_FIELDS = {f"{name}_on" for name in m.Contact.LOCAL_DATE_FIELDS}


def _marks() -> dict[str, set[dt.date]]:
    out: dict[str, set[dt.date]] = {}
    for family, day in DirtyDay.objects.values_list("family", "day"):
        out.setdefault(family, set()).add(day)
    return out



def _assert_marked_days_rebuilt_equal_a_full_rebuild() -> None:
    facts_recompute_dirty()
    rebuilt = facts_snapshot()
    facts_rebuild()
    assert facts_snapshot() == rebuilt


def _row(record: m.Contact, **changes: str) -> dict[str, str]:
    """The contact as an import row (its stage instants as stored), with `changes`."""
    row = {"external_id": record.external_id, "email": record.email, "source_channel": record.source_channel,
           "campaign_id": record.campaign.external_id if record.campaign else "",
           "owner_email": record.owner.email if record.owner else "",
           "referred_by": record.referred_by.external_id if record.referred_by else "",
           "industry": record.industry, "offer": record.offer,
           "disqualification_reason": record.disqualification_reason}
    for stage in m.Contact.LOCAL_DATE_FIELDS:
        instant = getattr(record, f"{stage}_at")
        row[f"{stage}_at"] = instant.isoformat() if instant else ""
    row.update(changes)
    return row


def test_every_contact_family_is_keyed_by_a_contact_day_field():
    assert {own_day_field(name) for name in CONTACT_FAMILIES} <= CONTACT_DAY_FIELDS
    with pytest.raises(ValueError, match="not keyed by a contact day column"):
        own_day_field("deals_closed")


def test_a_lead_becoming_an_mql_marks_its_lead_day_for_lead_cohorts_and_its_mql_day_for_the_sla():
    lead = contact("x", "2026-03-02 09:00")
    deal("d", 100, "won", "2026-03-05 09:00", "2026-03-20 09:00", contact=lead)
    facts_rebuild()
    result = records_upsert(resource="contacts", rows=[_row(lead, mql_at="2026-04-02T10:00:00+00:00")])
    assert result.ok, result.errors
    marks = _marks()
    lead_day, mql_day = dt.date(2026, 3, 2), dt.date(2026, 4, 2)
    for name in ("contacts_lead", "lags_lead"):
        assert marks[name] == {lead_day}, name
    for name in ("contacts_mql", "sla", "sla_lags", "mql_rejections", "mql_rejection_lags", "lags_mql"):
        assert marks[name] == {mql_day}, name
    # No SQL, customer or churn day before or after: nothing of theirs to rebuild.
    for name in ("contacts_sql", "contacts_customer", "content_assist", "lags_opportunity"):
        assert name not in marks, name
    # The deal's facts carry the contact's channel, on the deal's own days (the contact is no customer).
    for name in DEAL_FAMILIES:
        assert marks[name] == {dt.date(2026, 3, 5), dt.date(2026, 3, 20)}, name
    _assert_marked_days_rebuilt_equal_a_full_rebuild()


def test_an_activity_marks_the_sla_on_its_contacts_mql_day_and_the_activity_facts_on_its_own_day():
    lead = contact("x", "2026-03-01 09:00", mql="2026-03-02 09:00")
    activity(lead, "2026-03-03 10:00")
    facts_rebuild()
    result = records_upsert(resource="activities", rows=[
        {"external_id": "late", "contact_id": "x", "owner_email": "", "activity_type": "call",
         "occurred_at": "2026-05-01T10:00:00+00:00", "connected": "true"}])
    assert result.ok, result.errors
    marks = _marks()
    assert marks == {"activities": {dt.date(2026, 5, 1)}, "sla": {dt.date(2026, 3, 2)},
                     "sla_lags": {dt.date(2026, 3, 2)}}
    _assert_marked_days_rebuilt_equal_a_full_rebuild()


def test_a_signal_without_days_by_field_marks_every_family_on_every_day():
    from smarketing.kpis.services import dirty_mark

    dirty_mark(resource="contacts", days=[dt.date(2026, 3, 2), dt.date(2026, 4, 2)], contact_ids=None)
    marks = _marks()
    assert set(marks) == set(families())
    assert marks["sla"] == {dt.date(2026, 3, 2), dt.date(2026, 4, 2)}


def _later(rng: random.Random, instant: dt.datetime, days: int) -> dt.datetime:
    return instant + dt.timedelta(days=rng.randint(0, days), hours=rng.randint(0, 20))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_contact_imports_then_the_marked_days_rebuilt_equal_a_full_rebuild_on_random_changes(seed):
    """Stages moved, added and cleared, channels and owners changed, by import: the days the
    marks name give the facts a full rebuild gives."""
    rng = random.Random(seed)
    reps = [m.TeamMember.objects.create(email=f"rep{i}@example.com", name=f"Rep {i}", team="sales")
            for i in range(3)]
    campaigns = [m.Campaign.objects.create(external_id=f"cm-{i}", name=f"Campaign {i}", channel="email")
                 for i in range(3)]
    people = []
    for i in range(40):
        lead_at = f"2026-0{rng.randint(1, 4)}-{rng.randint(10, 28)} {rng.randint(10, 17)}:00"
        stages = {}
        if rng.random() < 0.7:
            mql = _later(rng, dt.datetime.fromisoformat(lead_at), 40)
            stages["mql"] = mql.isoformat(sep=" ")
            if rng.random() < 0.5:
                sql = _later(rng, mql, 30)
                stages["sql"] = sql.isoformat(sep=" ")
                if rng.random() < 0.5:
                    stages["customer"] = _later(rng, sql, 30).isoformat(sep=" ")
            if rng.random() < 0.2:
                stages["disqualified"] = _later(rng, mql, 20).isoformat(sep=" ")
        reason = "no_budget" if "disqualified" in stages else ""
        referrer = rng.choice(people) if people and rng.random() < 0.3 else None
        person = contact(f"c{i}", lead_at, channel=rng.choice(["email", "organic_search", "paid_search"]),
                         owner=rng.choice([None, *reps]), campaign=rng.choice([None, *campaigns]), reason=reason,
                         referred_by=referrer, **stages)
        people.append(person)
        if stages.get("mql"):
            for _ in range(rng.randint(0, 6)):
                activity(person, _later(rng, dt.datetime.fromisoformat(stages["mql"]), 10).isoformat(sep=" "),
                         connected=rng.random() < 0.3, owner=rng.choice(reps))
        if stages.get("sql") and rng.random() < 0.5:
            status = rng.choice(["won", "lost", "open"])
            closed = None if status == "open" else \
                _later(rng, dt.datetime.fromisoformat(stages["sql"]), 20).isoformat(sep=" ")
            deal(f"d{i}", rng.randint(100, 900), status, stages["sql"], closed, contact=person)
    facts_rebuild()

    rows = []
    for person in rng.sample(people, 15):
        person.refresh_from_db()
        change = rng.choice(["mql", "move mql", "clear mql", "channel", "owner", "lead", "customer"])
        lead_at = person.lead_at
        if change in ("mql", "move mql") and person.mql_at is None:
            rows.append(_row(person, mql_at=_later(rng, lead_at, 60).isoformat()))
        elif change in ("mql", "move mql"):
            moved = person.mql_at + dt.timedelta(days=rng.choice([-3, 2, 9]))
            rows.append(_row(person, mql_at=max(moved, lead_at).isoformat(),
                             sql_at="", customer_at="", disqualified_at="",
                             disqualification_reason=""))
        elif change == "clear mql":
            rows.append(_row(person, mql_at="", sql_at="", customer_at="", disqualified_at="",
                             disqualification_reason=""))
        elif change == "customer" and person.sql_at is not None:
            # A customer day moved later (its lifetime value now counts from it), or a new customer.
            rows.append(_row(person, customer_at=_later(rng, person.customer_at or person.sql_at, 25).isoformat()))
        elif change in ("channel", "customer"):
            rows.append(_row(person, source_channel="referral"))
        elif change == "owner":
            rows.append(_row(person, owner_email=rng.choice(reps).email))
        else:
            rows.append(_row(person, lead_at=(lead_at - dt.timedelta(days=rng.randint(1, 5))).isoformat()))
    result = records_upsert(resource="contacts", rows=rows)
    assert result.ok, result.errors
    # Narrower than every day: the SLA families were not marked on the lead days.
    assert _marks()["sla"] != _marks()["contacts_lead"]
    _assert_marked_days_rebuilt_equal_a_full_rebuild()


def test_a_contact_referred_by_another_customer_moves_its_deals_out_of_the_old_referrers_lifetime_value():
    # The old referrer became a customer after the deal closed: its share counts from its customer day.
    old = contact("r1", "2026-01-05 09:00", customer="2026-05-01 09:00")
    contact("r2", "2026-01-06 09:00", customer="2026-02-01 09:00")
    referred = contact("x", "2026-02-01 09:00", customer="2026-03-01 09:00", referred_by=old)
    deal("d", 100, "won", "2026-03-05 09:00", "2026-03-20 09:00", contact=referred)
    facts_rebuild()
    result = records_upsert(resource="contacts", rows=[_row(referred, referred_by="r2")])
    assert result.ok, result.errors
    assert dt.date(2026, 5, 1) in _marks()["lifetime_value"]
    _assert_marked_days_rebuilt_equal_a_full_rebuild()
