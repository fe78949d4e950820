"""The worker round trip: a task sent through Redis runs in a real worker on the test database."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from smarketing.celery import services_check
from smarketing.funnel.models import TeamMember


@pytest.mark.services
def test_services_check_runs_in_the_real_worker_on_the_test_database(celery_worker):
    TeamMember.objects.create(email="rep@example.com", name="Rep", team="sales")
    TeamMember.objects.create(email="cmo@example.com", name="CMO", team="marketing")

    result = services_check.apply_async()
    answer = result.get(timeout=30)

    assert answer == {
        "vendor": "postgresql",
        "name": connection.settings_dict["NAME"],
        "team_members": 2,
        "contacts": 0,
    }
    # Not run in-process: the answer came back through the result backend.
    assert result.backend.__class__.__name__ == "RedisBackend"


@pytest.mark.services
def test_check_services_reports_database_redis_and_worker(celery_worker, capsys):
    call_command("check_services", timeout=5)

    out = capsys.readouterr().out
    assert "database  ok    postgresql" in out
    assert "redis     ok    ping answered" in out
    assert f"services_check saw postgresql {connection.settings_dict['NAME']}" in out
    assert "all services answer" in out


@pytest.mark.django_db
def test_check_services_in_embedded_mode_runs_the_task_in_process(capsys, settings):
    # The embedded mode: no Redis, and (the autouse fixture) eager Celery.
    settings.REDIS_URL = ""
    call_command("check_services")

    out = capsys.readouterr().out
    assert "redis     -     not configured" in out
    assert "worker    ok    eager" in out
