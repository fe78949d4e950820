"""Digest cadence: daily, weekdays, or weekly on a chosen weekday; the weekly digest's figures."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from smarketing.digests.compose import ComposeCache, digest_compose, last_complete_week
from smarketing.digests.models import Delivery
from smarketing.digests.services import subscription_next_send
from smarketing.funnel.models import WebTraffic
from smarketing.kpis.services import facts_rebuild
from tests.digests.conftest import utc
from tests.digests.test_schedule import run_every_five_minutes

pytestmark = pytest.mark.django_db


def run_every_fifteen_minutes(start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Beat every 15 minutes with a second worker racing the first on each tick."""
    return run_every_five_minutes(start, end, minutes=15, runs_per_tick=2)


def test_weekly_sends_once_a_week_on_the_chosen_weekday_in_the_subscribers_zone(subscribe):
    # Wednesdays at 07:30 in Tokyo = 22:30 UTC on Tuesdays.
    subscription = subscribe("ann", time_zone="Asia/Tokyo", cadence="weekly", weekday=2)
    runs = run_every_fifteen_minutes(utc(2026, 3, 1, 0, 0), utc(2026, 3, 15, 0, 0))
    assert runs == [utc(2026, 3, 3, 22, 30), utc(2026, 3, 10, 22, 30)]
    assert len(mail.outbox) == 2
    assert sorted(Delivery.objects.filter(subscription=subscription).values_list("local_date", flat=True)) == [
        dt.date(2026, 3, 4), dt.date(2026, 3, 11)]


def test_weekdays_and_daily_cadences_over_one_week(subscribe):
    subscribe("weekdays", time_zone="UTC", cadence="weekdays")
    subscribe("daily", time_zone="UTC", cadence="daily")
    run_every_fifteen_minutes(utc(2026, 3, 2, 0, 0), utc(2026, 3, 8, 23, 45))  # Mon 2 … Sun 8 March
    sent_to = [to for message in mail.outbox for to in message.to]
    assert sent_to.count("weekdays@example.com") == 5
    assert sent_to.count("daily@example.com") == 7


def test_next_send_of_a_weekly_digest(subscribe):
    subscription = subscribe("ann", time_zone="UTC", cadence="weekly", weekday=4)  # Fridays 07:30
    # Fri 6 Mar 08:00: today's has passed, the next is Fri 13 Mar.
    assert subscription_next_send(subscription=subscription, now=utc(2026, 3, 6, 8, 0)) == utc(2026, 3, 13, 7, 30)
    assert subscription_next_send(subscription=subscription, now=utc(2026, 3, 6, 7, 0)) == utc(2026, 3, 6, 7, 30)
    assert subscription.schedule_text == "every Friday"


@pytest.mark.parametrize(("as_of", "start", "end"), [
    (dt.date(2026, 3, 11), dt.date(2026, 3, 2), dt.date(2026, 3, 8)),  # a Wednesday
    (dt.date(2026, 3, 9), dt.date(2026, 3, 2), dt.date(2026, 3, 8)),  # a Monday: the week that ended yesterday
    (dt.date(2026, 3, 8), dt.date(2026, 2, 23), dt.date(2026, 3, 1)),  # a Sunday: its own week is not complete
])
def test_last_complete_week(as_of, start, end):
    week = last_complete_week(as_of)
    assert (week.start, week.end) == (start, end)


def test_weekly_digest_shows_last_week_and_month_to_date(settings):
    settings.SMARKETING_TIMEZONE = "UTC"
    for day, visits in ((dt.date(2026, 3, 1), 500), (dt.date(2026, 3, 3), 40), (dt.date(2026, 3, 8), 2),
                        (dt.date(2026, 3, 10), 300)):
        WebTraffic.objects.create(date=day, page="/blog/a", section="blog", source="social", visits=visits)
    facts_rebuild()

    def compose(weekly: bool) -> str:
        return digest_compose(dashboards=["blog"], as_of=dt.date(2026, 3, 11), local_date=dt.date(2026, 3, 11),
                              recipient_name="Ann", settings_url="http://x/s", unsubscribe_url="http://x/u",
                              cache=ComposeCache(render_charts=False), weekly=weekly).text

    weekly, daily = compose(True), compose(False)
    assert "Complete days only: last week (2 Mar–8 Mar) and month to date" in weekly
    # Blog visits: month to date 500 + 40 + 2 + 300; last week (Mon 2 – Sun 8 March) 40 + 2.
    assert "Blog visits: 842 MTD" in weekly and "| Last week 42 (" in weekly
    assert "Complete days only: month to date 1–11 Mar 2026, and year to date." in daily and "| YTD 842 (" in daily
