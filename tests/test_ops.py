"""Operations: /healthz and /readyz, /metrics behind its token or address list, and errors
logged with their tracebacks (console, ADMINS mail, JSON lines) also with DEBUG=false."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import logging.config
from unittest import mock

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import path

from smarketing.kpis.models import DirtyDay, FactsState
from smarketing.ops.health import HEARTBEAT_KEY

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_anything(client):
    with mock.patch("django.db.backends.base.base.BaseDatabaseWrapper.cursor", side_effect=AssertionError):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True}


def test_readyz_is_503_when_the_database_fails(client):
    with mock.patch("smarketing.ops.health._database", side_effect=RuntimeError("connection refused")):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "error": "RuntimeError: connection refused"}


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_readyz_is_503_when_redis_does_not_answer(client):
    body = client.get("/readyz")
    assert body.status_code == 503
    assert body.json()["checks"]["redis"]["ok"] is False


@override_settings(READYZ_WORKER_MAX_AGE_SECONDS=180)
def test_readyz_wants_a_recent_worker_heartbeat_when_configured(client):
    from django.core.cache import cache

    from smarketing.ops.tasks import worker_heartbeat

    assert client.get("/readyz").json()["checks"]["worker"] == {
        "ok": False, "heartbeat_age_seconds": None, "max_age_seconds": 180}
    worker_heartbeat.delay()  # what beat sends every minute
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["worker"]["ok"] is True
    cache.set(HEARTBEAT_KEY, (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=181)).isoformat(), None)
    assert client.get("/readyz").status_code == 503


@override_settings(READYZ_FACTS_MAX_AGE_HOURS=26)
def test_readyz_wants_facts_no_older_than_the_setting(client):
    now = dt.datetime.now(dt.UTC)
    FactsState.objects.all().delete()
    assert client.get("/readyz").status_code == 503  # never recomputed
    FactsState.objects.update_or_create(pk=1, defaults={"facts_as_of": now - dt.timedelta(hours=25, minutes=59)})
    assert client.get("/readyz").status_code == 200
    FactsState.objects.filter(pk=1).update(facts_as_of=now - dt.timedelta(hours=26, minutes=1))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["facts"]["ok"] is False


def test_readyz_leaves_out_checks_that_are_not_configured(client, settings):
    settings.REDIS_URL = ""
    assert set(client.get("/readyz").json()["checks"]) == {"database"}


# --- metrics -------------------------------------------------------------------------------------


def test_metrics_refuse_an_address_not_allowed_without_the_token(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 403


@override_settings(METRICS_TOKEN="s3cret", METRICS_ALLOWED_IPS=[])
def test_metrics_answer_the_token(client):
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200


@override_settings(METRICS_ALLOWED_IPS=["10.1.0.0/16"])
def test_metrics_answer_an_allowed_network(client):
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.2.0.1").status_code == 403


def _sample(text: str, name: str, **labels: str) -> float:
    wanted = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{wanted} not in the metrics")


def test_metrics_report_latency_by_view_and_the_state_of_the_work(client, signed_in_client):
    from smarketing.digests.models import Delivery, DeliveryStatus
    from smarketing.funnel.models import ImportJob

    signed_in_client.get("/api/v1/campaigns/")
    day = dt.date(2026, 3, 1)
    DirtyDay.objects.create(day=day, family="contacts")
    DirtyDay.objects.filter(day=day).update(marked_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=600))
    ImportJob.objects.create(filename="a.csv", status=ImportJob.Status.FAILED)
    ImportJob.objects.create(filename="b.csv", status=ImportJob.Status.DONE)
    ImportJob.objects.create(filename="c.csv", status=ImportJob.Status.DONE)
    assert Delivery.objects.count() == 0

    text = client.get("/metrics").content.decode()
    assert _sample(text, "smarketing_http_request_duration_seconds_count",
                   method="GET", status="200", view="campaigns-list") >= 1
    assert _sample(text, "smarketing_recompute_dirty_days") == 1
    assert 600 <= _sample(text, "smarketing_recompute_lag_seconds") < 700
    assert _sample(text, "smarketing_import_jobs", status="done") == 2
    assert _sample(text, "smarketing_import_jobs", status="failed") == 1
    assert _sample(text, "smarketing_digest_deliveries", status=DeliveryStatus.SENT) == 0
    assert _sample(text, "smarketing_digest_deliveries", status=DeliveryStatus.FAILED) == 0


def test_metrics_report_the_last_recompute(client):
    from smarketing.kpis.tasks import facts_recompute_days

    facts_recompute_days.delay(["2026-03-01"])
    text = client.get("/metrics").content.decode()
    assert _sample(text, "smarketing_recompute_last_duration_seconds") >= 0
    assert 0 <= _sample(text, "smarketing_facts_age_seconds") < 60


@pytest.mark.services
def test_metrics_report_the_queue_depth(client):
    from smarketing.celery import app

    app.control.purge()
    text = client.get("/metrics").content.decode()
    assert _sample(text, "smarketing_queue_depth", queue="celery") == 0


# --- error logging ----------------------------------------------------------------------------------


def _boom(request):
    raise ZeroDivisionError("the numbers did not add up")


urlpatterns = [path("boom/", _boom)]


def _console_handler() -> logging.StreamHandler:
    (handler,) = [h for h in logging.getLogger("django").handlers if type(h) is logging.StreamHandler]
    return handler


@pytest.mark.urls("tests.test_ops")
@override_settings(DEBUG=False, ADMINS=[("Ops", "ops@example.com")])
def test_a_server_error_is_logged_with_its_traceback_and_mailed_to_admins(client):
    client.raise_request_exception = False
    handler = _console_handler()
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        response = client.get("/boom/")
    finally:
        handler.setStream(previous)
    assert response.status_code == 500
    logged = stream.getvalue()
    assert "Internal Server Error: /boom/" in logged
    assert "Traceback (most recent call last)" in logged
    assert "ZeroDivisionError: the numbers did not add up" in logged
    (message,) = mail.outbox
    assert message.to == ["ops@example.com"]
    assert "ZeroDivisionError" in message.subject + message.body


@pytest.mark.urls("tests.test_ops")
def test_json_logs_are_one_object_per_line_with_the_traceback(client, settings):
    from django.conf import settings as live

    config = json.loads(json.dumps(live.LOGGING))
    config["handlers"]["console"]["formatter"] = "json"
    stream = io.StringIO()
    logging.config.dictConfig(config)
    try:
        _console_handler().setStream(stream)
        client.raise_request_exception = False
        with override_settings(DEBUG=False):
            client.get("/boom/")
    finally:
        logging.config.dictConfig(live.LOGGING)
    (line,) = [json.loads(line) for line in stream.getvalue().splitlines() if "boom" in line]
    assert line["level"] == "ERROR" and line["logger"] == "django.request"
    assert line["message"] == "Internal Server Error: /boom/"
    assert "ZeroDivisionError: the numbers did not add up" in line["exc_info"]


def test_a_sentry_dsn_switches_error_reporting_on(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = ("import django; django.setup(); import sentry_sdk; "
              "client = sentry_sdk.get_client(); print(client.is_active(), client.dsn)")
    env = {**os.environ, "SENTRY_DSN": "http://public@127.0.0.1:9/1", "SMARKETING_VAR_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "smarketing.settings"}
    result = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parent.parent, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["True", "http://public@127.0.0.1:9/1"], result.stderr
