"""Warming: after a recompute the common pages are computed before anyone asks."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command

from smarketing.dashboards import selectors
from smarketing.dashboards.layouts import DASHBOARDS
from smarketing.dashboards.tasks import dashboards_warm_pages
from smarketing.funnel.models import Contact

pytestmark = pytest.mark.django_db


@time_machine.travel(dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC), tick=False)
def test_warm_computes_each_page_once_per_facts_version_and_readers_then_hit_the_cache(
    signed_in_client, monkeypatch
):
    Contact.objects.create(external_id="c1", source_channel="email", lead_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC))
    call_command("recompute_kpis", full=True)

    assert dashboards_warm_pages.delay().get() == {"computed": len(DASHBOARDS) * 4}
    assert dashboards_warm_pages.delay().get() == {"computed": 0}  # same facts: nothing to do

    def no_queries(**kwargs):
        raise AssertionError("a warmed page must not ask the engine again")

    monkeypatch.setattr(selectors, "kpi_values", no_queries)
    monkeypatch.setattr(selectors, "kpi_series_many", no_queries)
    response = signed_in_client.get("/dashboards/shared/", {"window": "mtd"})
    assert response.status_code == 200
    assert "Data as of" in response.content.decode()


def test_warm_runs_on_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["dashboards-warm-pages"]
    assert entry["task"] == dashboards_warm_pages.name
