"""The beat task by its scheduled name: in-process (eager), and through a real worker to SMTP."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import override_settings

from smarketing.celery import app as celery_app
from smarketing.digests import tasks
from smarketing.digests.models import Delivery, DeliveryStatus
from tests.digests.conftest import utc


def test_beat_schedule_names_the_task_every_five_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["digests-send-due"]
    assert entry["task"] == tasks.digests_send_due.name == "smarketing.digests.tasks.digests_send_due"
    assert entry["schedule"].minute == set(range(0, 60, 5))
    assert "smarketing.digests.tasks.digests_send_due" in celery_app.tasks


@pytest.mark.django_db
def test_task_sends_what_is_due_at_the_current_time(subscribe):
    subscribe("ann", time_zone="America/New_York")
    with time_machine.travel(utc(2026, 1, 6, 12, 29), tick=False):
        tasks.digests_send_due.delay()
        assert mail.outbox == []
    with time_machine.travel(utc(2026, 1, 6, 12, 30), tick=False):
        tasks.digests_send_due.delay()
        tasks.digests_send_due.delay()
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_embedded_default_writes_the_message_to_a_file(subscribe, tmp_path):
    subscribe("ann")
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
                           EMAIL_FILE_PATH=tmp_path), time_machine.travel(utc(2026, 1, 6, 12, 30), tick=False):
        tasks.digests_send_due.delay()
    [written] = list(tmp_path.iterdir())
    content = written.read_text()
    assert "Content-Type: multipart/related" in content and "To: ann@example.com" in content


def zone_in_working_hours(now: dt.datetime) -> str:
    """A zone where it is mid-day now, so a send time a minute ago is today's and not late."""
    for zone in ("UTC", "Asia/Tokyo", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "America/Los_Angeles"):
        if 6 <= now.astimezone(ZoneInfo(zone)).hour < 17:
            return zone
    raise AssertionError("no listed zone is in working hours")


@pytest.fixture
def worker_smtp_env(smtp_server, monkeypatch):
    """The worker is its own process: it reads EMAIL_URL from its environment, as in production."""
    monkeypatch.setenv("EMAIL_URL", f"smtp://127.0.0.1:{settings.EMAIL_PORT}")
    return smtp_server


@pytest.mark.services
def test_real_worker_sends_due_digest_over_smtp_once(subscribe, worker_smtp_env, celery_worker):
    inbox, worker = worker_smtp_env, celery_worker
    now = dt.datetime.now(dt.UTC)
    zone = zone_in_working_hours(now)
    local = (now - dt.timedelta(minutes=1)).astimezone(ZoneInfo(zone))
    subscribe("ann", time_zone=zone, send_time=local.time().replace(second=0, microsecond=0))
    first = tasks.digests_send_due.apply_async()
    second = tasks.digests_send_due.apply_async()
    first.get(timeout=60)
    second.get(timeout=60)
    deadline = time.monotonic() + 30
    while not inbox.messages and time.monotonic() < deadline:
        time.sleep(0.2)
    assert worker.process.poll() is None
    assert [rcpt for rcpt, _raw in inbox.messages] == [["ann@example.com"]]
    assert Delivery.objects.get().status == DeliveryStatus.SENT
