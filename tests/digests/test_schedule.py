"""Who is due when: local send times across time zones and DST changes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from smarketing.digests.models import Delivery
from smarketing.digests.services import digests_due, digests_send_due, subscription_due_at
from tests.digests.conftest import utc

pytestmark = pytest.mark.django_db


def due_names(now: dt.datetime) -> set[str]:
    return {subscription.user.username for subscription, _day in digests_due(now=now)}


def test_new_york_0730_is_1230_utc_in_january(subscribe):
    subscription = subscribe("ann", time_zone="America/New_York")
    # Tue 6 Jan 2026, EST = UTC-5
    assert subscription_due_at(subscription=subscription, local_date=dt.date(2026, 1, 6)) == utc(2026, 1, 6, 12, 30)
    assert due_names(utc(2026, 1, 6, 12, 29)) == set()
    assert due_names(utc(2026, 1, 6, 12, 30)) == {"ann"}


def test_new_york_0730_is_1130_utc_in_july(subscribe):
    subscription = subscribe("ann", time_zone="America/New_York")
    # Tue 7 Jul 2026, EDT = UTC-4
    assert subscription_due_at(subscription=subscription, local_date=dt.date(2026, 7, 7)) == utc(2026, 7, 7, 11, 30)
    assert due_names(utc(2026, 7, 7, 11, 25)) == set()
    assert due_names(utc(2026, 7, 7, 11, 30)) == {"ann"}


def test_each_subscriber_is_due_at_their_own_local_morning(subscribe):
    subscribe("tokyo", time_zone="Asia/Tokyo")  # UTC+9: 07:30 = 22:30 UTC the day before
    subscribe("berlin", time_zone="Europe/Berlin")  # CET UTC+1 in February: 06:30 UTC
    subscribe("la", time_zone="America/Los_Angeles")  # PST UTC-8: 15:30 UTC
    # Mon 9 Feb 2026. 06:29 UTC: 07:29 in Berlin (not yet), 15:29 in Tokyo (8 h after its
    # 07:30), 22:29 Sunday in LA (15 h after Sunday's 07:30: too late, waits for Monday).
    assert due_names(utc(2026, 2, 9, 6, 29)) == {"tokyo"}
    assert due_names(utc(2026, 2, 9, 6, 30)) == {"tokyo", "berlin"}
    # 15:30 UTC: 07:30 in LA; Berlin 9 h after its send time; Tokyo 17 h after (too late).
    assert due_names(utc(2026, 2, 9, 15, 29)) == {"berlin"}
    assert due_names(utc(2026, 2, 9, 15, 30)) == {"berlin", "la"}


def test_local_date_decides_not_the_utc_date(subscribe):
    tokyo = subscribe("tokyo", time_zone="Asia/Tokyo")
    # 22:30 UTC on Mon 9 Feb is 07:30 on Tue 10 Feb in Tokyo.
    assert [(s.pk, day) for s, day in digests_due(now=utc(2026, 2, 9, 22, 30))] == [(tokyo.pk, dt.date(2026, 2, 10))]
    assert due_names(utc(2026, 2, 9, 22, 25)) == set()


def test_weekdays_only_skips_the_weekend_in_the_subscribers_zone(subscribe):
    subscribe("weekdays", time_zone="Asia/Tokyo", cadence="weekdays")
    subscribe("daily", time_zone="Asia/Tokyo", cadence="daily")
    # 23:00 UTC Fri 13 Feb 2026 is 08:00 Sat 14 Feb in Tokyo.
    assert due_names(utc(2026, 2, 13, 23, 0)) == {"daily"}
    # 23:00 UTC Sun 15 Feb is 08:00 Mon 16 Feb in Tokyo.
    assert due_names(utc(2026, 2, 15, 23, 0)) == {"weekdays", "daily"}


def test_inactive_or_empty_or_emailless_subscriptions_are_never_due(subscribe):
    subscribe("off", active=False)
    empty = subscribe("empty")
    empty.dashboards = []
    empty.save()
    nomail = subscribe("nomail")
    nomail.user.email = ""
    nomail.user.save()
    assert due_names(utc(2026, 1, 6, 13, 0)) == set()


def run_every_five_minutes(start: dt.datetime, end: dt.datetime, *, minutes: int = 5,
                           runs_per_tick: int = 1) -> list[dt.datetime]:
    """Drive the schedule like beat does (`runs_per_tick` > 1: workers racing on each tick);
    returns the run times that sent something."""
    sending_runs = []
    now = start
    while now <= end:
        before = len(mail.outbox)
        for _ in range(runs_per_tick):
            digests_send_due(now=now)
        if len(mail.outbox) > before:
            sending_runs.append(now)
        now += dt.timedelta(minutes=minutes)
    return sending_runs


def test_send_time_skipped_by_spring_forward_still_sends_once(subscribe):
    # New York springs forward on Sun 8 Mar 2026: 02:00 EST becomes 03:00 EDT, so 02:30 never happens.
    subscription = subscribe("ann", time_zone="America/New_York", send_time=dt.time(2, 30))
    runs = run_every_five_minutes(utc(2026, 3, 8, 0, 0), utc(2026, 3, 9, 12, 0))
    # 02:30 "EST" = 07:30 UTC = 03:30 EDT on the 8th; on the 9th 02:30 EDT = 06:30 UTC.
    assert runs == [utc(2026, 3, 8, 7, 30), utc(2026, 3, 9, 6, 30)]
    assert sorted(Delivery.objects.filter(subscription=subscription).values_list("local_date", flat=True)) == [
        dt.date(2026, 3, 8), dt.date(2026, 3, 9)]


def test_send_time_repeated_by_fall_back_sends_once(subscribe):
    # New York falls back on Sun 1 Nov 2026: 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST).
    subscribe("ann", time_zone="America/New_York", send_time=dt.time(1, 30))
    runs = run_every_five_minutes(utc(2026, 11, 1, 3, 0), utc(2026, 11, 2, 7, 0))
    # On the 2nd, 01:30 EST = 06:30 UTC.
    assert runs == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]
    assert len(mail.outbox) == 2


def test_a_digest_more_than_twelve_hours_late_waits_for_the_next_morning(subscribe):
    subscribe("ann", time_zone="America/New_York")
    # Due 12:30 UTC on Tue 6 Jan; 00:29 UTC Wed 7 Jan is still Tue 19:29 in New York.
    assert due_names(utc(2026, 1, 7, 0, 29)) == {"ann"}
    assert due_names(utc(2026, 1, 7, 0, 30)) == set()


def test_next_send_skips_the_weekend_and_todays_past_send_time(subscribe):
    from smarketing.digests.services import subscription_next_send

    subscription = subscribe("ann", time_zone="America/New_York", cadence="weekdays")
    new_york = subscription.tz
    # Fri 9 Jan 2026 13:00 UTC = 08:00 in New York, after today's 07:30: next is Mon 12 Jan 07:30.
    assert subscription_next_send(subscription=subscription, now=utc(2026, 1, 9, 13, 0)) == dt.datetime(
        2026, 1, 12, 7, 30, tzinfo=new_york)
    assert subscription_next_send(subscription=subscription, now=utc(2026, 1, 9, 12, 0)) == dt.datetime(
        2026, 1, 9, 7, 30, tzinfo=new_york)
    subscription.active = False
    assert subscription_next_send(subscription=subscription, now=utc(2026, 1, 9, 12, 0)) is None
