"""Exactly once on PostgreSQL: two evaluations at once, a process killed holding a claim, and
the whole path through a real Celery worker (recompute → evaluate → deliver)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection, connections
from django.utils import timezone

from smarketing.alerts import services
from smarketing.alerts.models import AlertDelivery, AlertEvent
from smarketing.alerts.services import STALE_CLAIM, alerts_deliver_due, destination_save, rule_save
from smarketing.kpis.services import facts_rebuild
from smarketing.kpis.tasks import facts_recompute_days
from smarketing.kpis.windows import company_today
from tests.conftest import ROOT, _test_database_url
from tests.kpis.builders import contact

pytestmark = pytest.mark.services

SECRET = "s3cret-signing-key-0123456789"


def _setup(user_model, receiver) -> None:
    owner = user_model.objects.create_user(username="owner", password="owner-pass-123")
    today = company_today()
    contact("a", f"{today} 00:30")
    facts_rebuild()
    hook = destination_save(owner=owner, name="ops", kind="webhook", target=f"{receiver.url}/hook", secret=SECRET)
    rule_save(owner=owner, name="Any lead", metric="leads", dimension="", key="", window="mtd",
              condition={"type": "above", "value": 0}, destinations=[hook])


def _in_threads(count: int, target) -> list:
    results, errors = [], []

    def run() -> None:
        try:
            results.append(target())
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_two_evaluations_at_once_fire_once(transactional_db, django_user_model, receiver):
    _setup(django_user_model, receiver)
    barrier = threading.Barrier(2)

    def evaluate():
        barrier.wait(timeout=30)
        return services.rules_evaluate().fired

    assert sorted(_in_threads(2, evaluate)) == [0, 1]
    assert AlertEvent.objects.count() == 1 and AlertDelivery.objects.count() == 1


def test_two_evaluations_that_both_read_ok_write_one_event(transactional_db, django_user_model, receiver,
                                                           monkeypatch):
    """Without the evaluation lock, the conditional UPDATE alone lets only one of them win."""
    _setup(django_user_model, receiver)
    barrier = threading.Barrier(2)
    read_values = services._values

    def values_then_wait(*args, **kwargs):
        out = read_values(*args, **kwargs)
        barrier.wait(timeout=30)  # both have read the rule as "ok" and the facts
        return out

    monkeypatch.setattr(services, "_lock", lambda: None)
    monkeypatch.setattr(services, "_values", values_then_wait)
    assert sorted(_in_threads(2, lambda: services.rules_evaluate().fired)) == [0, 1]
    assert AlertEvent.objects.count() == 1 and AlertDelivery.objects.count() == 1


CLAIM_AND_DIE = """
import os, signal, django
django.setup()
from django.utils import timezone
from smarketing.alerts.services import deliveries_claim
claimed = deliveries_claim(now=timezone.now())
print(len(claimed), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_process_killed_between_claim_and_delivery_loses_nothing(transactional_db, django_user_model, receiver,
                                                                   monkeypatch):
    from smarketing.alerts import tasks

    _setup(django_user_model, receiver)
    # The delivery task queued after the evaluation's commit is lost with its worker.
    monkeypatch.setattr(tasks.alerts_deliver, "delay", lambda: None)
    assert services.rules_evaluate().fired == 1
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "DJANGO_SETTINGS_MODULE": "smarketing.settings"}
    died = subprocess.run([sys.executable, "-c", CLAIM_AND_DIE], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert died.returncode == -9, died.stderr
    assert died.stdout.strip() == "1"
    delivery = AlertDelivery.objects.get()
    assert delivery.status == "claimed" and receiver.requests == []
    assert alerts_deliver_due().claimed == 0  # a fresh claim is the dead run's, for now
    later = timezone.now() + STALE_CLAIM + dt.timedelta(seconds=1)
    assert alerts_deliver_due(now=later).sent == 1
    assert alerts_deliver_due(now=later + STALE_CLAIM * 2).claimed == 0
    assert len(receiver.requests) == 1
    assert receiver.requests[0].json()["state"] == "firing"


def test_a_recompute_on_the_worker_evaluates_and_delivers(celery_worker, django_user_model, receiver):
    _setup(django_user_model, receiver)
    connection.close()
    facts_recompute_days.delay([company_today().isoformat()]).get(timeout=60)
    deadline = time.monotonic() + 60
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(receiver.requests) == 1
    assert receiver.requests[0].json()["rule"] == "Any lead"
    facts_recompute_days.delay([company_today().isoformat()]).get(timeout=60)  # still true: nothing new
    time.sleep(1)
    assert len(receiver.requests) == 1
    assert AlertEvent.objects.count() == 1
    assert AlertDelivery.objects.get().status == "sent"
