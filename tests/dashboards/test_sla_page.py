"""The SLA in force, in words: settings, targets rows and leads needed from quota, per rep."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from smarketing.dashboards.sla import sla_in_force
from smarketing.funnel.models import Target, TeamMember

pytestmark = pytest.mark.django_db

MARCH = dt.date(2026, 3, 1)


def target(metric: str, value: str, owner: TeamMember | None = None) -> None:
    Target.objects.create(metric=metric, period="month", period_start=MARCH, value=Decimal(value), owner=owner)


@pytest.fixture
def reps(db):
    ann = TeamMember.objects.create(email="ann@t.com", name="Ann", team="sales")
    bob = TeamMember.objects.create(email="bob@t.com", name="Bob", team="sales")
    TeamMember.objects.create(email="mo@t.com", name="Mo", team="marketing")
    return ann, bob


def test_the_settings_and_rows_in_words(reps, settings):
    ann, bob = reps
    settings.SLA_LEADS_PER_REP_PER_MONTH = 80
    settings.SLA_FIRST_ATTEMPT_HOURS = 24
    settings.SLA_WORKED_TARGET_PCT = 90
    target("leads_delivered", "120", owner=bob)
    target("sla_min_attempts", "6")
    target("leads_worked_on_time_rate", "75", owner=ann)
    target("revenue", "50000", owner=ann)
    sla = sla_in_force(as_of=dt.date(2026, 3, 15))
    assert sla["marketing"][0].startswith("Marketing owes each sales rep 80 leads delivered (MQLs) a month")
    assert "First attempt within 24 h of delivery (SLA_FIRST_ATTEMPT_HOURS) for 90.0 % of them." in sla["sales"]
    assert "at least 6 attempts (SLA_MIN_ATTEMPTS, overridden by a sla_min_attempts targets row)" in sla["sales"][2]
    assert [(r["name"], r["leads"], r["source"]) for r in sla["reps"]] == [
        ("Ann", "80", "the monthly setting"), ("Bob", "120", "its own targets row")]
    # No closed deals yet: the quota cannot be turned into leads.
    assert sla["reps"][0]["quota"].startswith("revenue target $50,000")
    assert sla["reps"][0]["overrides"] == ["leads worked on time rate 75.0 %"]
    assert sla["reps"][1]["quota"] == "no revenue target this month"


def test_the_page_answers_signed_in(client, reps, django_user_model):
    client.force_login(django_user_model.objects.create_user(username="dee", password="pw-123456789"))
    with time_machine.travel(dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC)):
        page = client.get(reverse("dashboards:sla"))
    assert page.status_code == 200
    assert b"Lead handover SLA in force" in page.content and b"Bob" in page.content
