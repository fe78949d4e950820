"""Exactly once per subscriber-local date: repeated runs, crashes, SMTP failures, races."""

from __future__ import annotations

import datetime as dt
import smtplib
import threading
from collections import Counter

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection as db_connection

from smarketing.digests.models import Delivery, DeliveryStatus
from smarketing.digests.services import (
    MAX_ATTEMPTS,
    deliveries_reclaim,
    delivery_claim,
    digest_for,
    digest_message,
    digest_send,
    digests_send_due,
)
from tests.digests.conftest import utc

DUE = utc(2026, 1, 6, 12, 30)  # 07:30 Tue 6 Jan in New York
LOCAL = dt.date(2026, 1, 6)


class FlakyBackend(LocmemBackend):
    """Locmem that refuses the first `failures` sends as a broken SMTP server would."""

    failures = 0

    def send_messages(self, messages):
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.mark.django_db
def test_running_twice_sends_once(subscribe):
    subscribe("ann")
    first = digests_send_due(now=DUE)
    second = digests_send_due(now=DUE)
    third = digests_send_due(now=DUE + dt.timedelta(minutes=5))
    assert (first.sent, second.sent, third.sent) == (1, 0, 0)
    assert len(mail.outbox) == 1
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.local_date) == (DeliveryStatus.SENT, 1, LOCAL)
    assert delivery.subject == mail.outbox[0].subject


@pytest.mark.django_db
def test_next_local_date_sends_again(subscribe):
    subscribe("ann")
    digests_send_due(now=DUE)
    digests_send_due(now=DUE + dt.timedelta(days=1))
    assert len(mail.outbox) == 2
    assert sorted(Delivery.objects.values_list("local_date", flat=True)) == [LOCAL, LOCAL + dt.timedelta(days=1)]


@pytest.mark.django_db
def test_a_claim_held_by_another_run_is_not_sent(subscribe):
    subscription = subscribe("ann")
    assert delivery_claim(subscription=subscription, local_date=LOCAL, now=DUE) is not None
    assert delivery_claim(subscription=subscription, local_date=LOCAL, now=DUE) is None
    report = digests_send_due(now=DUE)
    assert (report.due, report.sent) == (0, 0)
    assert mail.outbox == []


@pytest.mark.django_db
def test_crash_between_claim_and_send_is_retried_after_fifteen_minutes_once(subscribe):
    subscription = subscribe("ann")
    # The crashed run got as far as committing its claim.
    delivery_claim(subscription=subscription, local_date=LOCAL, now=DUE)
    assert digests_send_due(now=DUE + dt.timedelta(minutes=5)).sent == 0  # maybe still working: hands off
    assert digests_send_due(now=DUE + dt.timedelta(minutes=14)).sent == 0
    report = digests_send_due(now=DUE + dt.timedelta(minutes=15, seconds=1))
    assert (report.reclaimed, report.sent) == (1, 1)
    for minutes in (20, 40, 60):
        digests_send_due(now=DUE + dt.timedelta(minutes=minutes))
    assert len(mail.outbox) == 1
    assert Delivery.objects.get().status == DeliveryStatus.SENT


@pytest.mark.django_db
def test_crash_while_handing_to_smtp_is_not_resent(subscribe):
    subscription = subscribe("ann")
    delivery = delivery_claim(subscription=subscription, local_date=LOCAL, now=DUE)
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENDING)
    digests_send_due(now=DUE + dt.timedelta(minutes=30))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert "not resent" in delivery.last_error
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_slow_run_whose_claim_was_taken_over_does_not_send_too(subscribe):
    subscription = subscribe("ann")
    slow = delivery_claim(subscription=subscription, local_date=LOCAL, now=DUE)
    later = DUE + dt.timedelta(minutes=20)
    [taken] = deliveries_reclaim(now=later)
    message = digest_message(digest=digest_for(subscription=subscription, now=DUE), subscription=subscription)
    backend = mail.get_connection()
    assert digest_send(delivery=slow, message=message, connection=backend, now=later) == "lost"
    assert digest_send(delivery=taken, message=message, connection=backend, now=later) == DeliveryStatus.SENT
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_smtp_failure_is_recorded_and_retried_with_backoff(subscribe, settings):
    settings.EMAIL_BACKEND = "tests.digests.test_delivery.FlakyBackend"
    FlakyBackend.failures = 2
    subscribe("ann")
    digests_send_due(now=DUE)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.RETRYING, 1)
    assert delivery.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert delivery.next_attempt_at == DUE + dt.timedelta(minutes=5)

    assert digests_send_due(now=DUE + dt.timedelta(minutes=4)).reclaimed == 0
    digests_send_due(now=DUE + dt.timedelta(minutes=5))
    delivery.refresh_from_db()
    # Second failure: the wait doubles.
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.RETRYING, 2)
    assert delivery.next_attempt_at == DUE + dt.timedelta(minutes=5 + 10)

    digests_send_due(now=DUE + dt.timedelta(minutes=15))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.SENT, 3, "")
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_smtp_failures_give_up_after_max_attempts(subscribe, settings):
    settings.EMAIL_BACKEND = "tests.digests.test_delivery.FlakyBackend"
    FlakyBackend.failures = 100
    subscribe("ann")
    now = DUE
    for _ in range(MAX_ATTEMPTS + 3):
        digests_send_due(now=now)
        now += dt.timedelta(hours=1)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, MAX_ATTEMPTS)
    FlakyBackend.failures = 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_dry_run_claims_and_sends_nothing(subscribe):
    subscribe("ann")
    report = digests_send_due(now=DUE, dry_run=True)
    assert [(email, day) for email, day, _subject in report.dry_run] == [("ann@example.com", LOCAL)]
    assert Delivery.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_on_postgres_send_each_digest_once(subscribe):
    assert db_connection.vendor == "postgresql"
    for index in range(12):
        subscribe(f"user{index}")
    runners = 6
    barrier = threading.Barrier(runners)
    reports, errors = [], []

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            reports.append(digests_send_due(now=DUE))
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=run) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    per_recipient = Counter(message.to[0] for message in mail.outbox)
    assert per_recipient == {f"user{index}@example.com": 1 for index in range(12)}
    assert sum(report.sent for report in reports) == 12
    assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 12


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_runs_that_both_saw_the_digest_due_race_on_the_claim_and_one_wins(subscribe, monkeypatch):
    from smarketing.digests import services

    assert db_connection.vendor == "postgresql"
    for index in range(5):
        subscribe(f"user{index}")
    runners = 4
    barrier = threading.Barrier(runners)
    real_due = services.digests_due

    def due_then_wait(*, now):
        found = real_due(now=now)
        barrier.wait(timeout=30)  # every run has the same due list before anyone claims
        return found

    monkeypatch.setattr(services, "digests_due", due_then_wait)
    reports, errors = [], []

    def run() -> None:
        try:
            reports.append(services.digests_send_due(now=DUE))
        except Exception as error:
            errors.append(error)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=run) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert [report.due for report in reports] == [5] * runners
    assert sum(report.claimed for report in reports) == 5
    assert sum(report.lost for report in reports) == 5 * (runners - 1)
    assert Counter(message.to[0] for message in mail.outbox) == {f"user{i}@example.com": 1 for i in range(5)}


@pytest.mark.django_db
def test_batch_claim_returns_only_the_claims_it_won(subscribe):
    from smarketing.digests.services import deliveries_claim

    ann, bob, cy = (subscribe(name) for name in ("ann", "bob", "cy"))
    held = delivery_claim(subscription=bob, local_date=LOCAL, now=DUE)
    won = deliveries_claim(due=[(ann, LOCAL), (bob, LOCAL), (cy, LOCAL)], now=DUE)
    assert [d.subscription.user.username for d in won] == ["ann", "cy"]
    assert len({d.claim_token for d in won}) == 1 and held.claim_token not in {d.claim_token for d in won}
    assert Delivery.objects.get(subscription=bob).claim_token == held.claim_token
    assert deliveries_claim(due=[(ann, LOCAL)], now=DUE) == []


@pytest.mark.django_db
def test_crash_after_smtp_accepted_but_before_the_outcome_commit_never_resends(subscribe):
    subscription = subscribe("ann")
    delivery = delivery_claim(subscription=subscription, local_date=LOCAL, now=DUE)
    message = digest_message(digest=digest_for(subscription=subscription, now=DUE), subscription=subscription)
    pending: list = []
    assert digest_send(delivery=delivery, message=message, connection=mail.get_connection(), now=DUE,
                       pending=pending) == DeliveryStatus.SENT
    # The process dies here: the queued "sent" write is never committed.
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENDING
    for minutes in (5, 20, 60):
        digests_send_due(now=DUE + dt.timedelta(minutes=minutes))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert len(mail.outbox) == 1
