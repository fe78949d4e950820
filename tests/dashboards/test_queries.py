"""An uncached dashboard page costs a fixed number of queries, however many tiles it shows."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smarketing.dashboards.layouts import DASHBOARDS, SEED_METRICS, Dashboard, Panel
from smarketing.dashboards.params import DashboardState
from smarketing.dashboards.selectors import dashboard_page
from smarketing.funnel.models import Contact
from smarketing.kpis.windows import window_for

pytestmark = pytest.mark.django_db

EMAIL = {"channel": ("email",)}


@pytest.fixture
def facts():
    with time_machine.travel(dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC), tick=False):
        Contact.objects.create(external_id="c1", source_channel="email", lead_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC))
        Contact.objects.create(external_id="c2", source_channel="blog", lead_at=dt.datetime(2026, 3, 9, tzinfo=dt.UTC))
        call_command("recompute_kpis", full=True)
        yield


def _page(dashboard: Dashboard, *, window: str = "mtd", filters: tuple[str, ...] = ()) -> tuple[dict, list[str]]:
    state = DashboardState(window=window_for(window), filter_dimension="channel" if filters else None,
                           filter_values=filters)
    with CaptureQueriesContext(connection) as queries:
        page = dashboard_page(dashboard=dashboard, state=state)
    return page, [query["sql"] for query in queries.captured_queries]


def _dashboard(tiles: tuple[str, ...], series: tuple[str, ...]) -> Dashboard:
    return Dashboard(key="shared", title="T", description="", side_by_side=("mtd", "ytd"), panels=(
        Panel("tiles", "Tiles", tiles),
        Panel("tiles", "Email tiles", tiles, filters=EMAIL),
        Panel("series", "Trend", series),
        Panel("series", "Email trend", series, filters=EMAIL),
    ))


@pytest.mark.parametrize("window", ["mtd", "ytd"])
def test_page_queries_do_not_grow_with_tiles_or_series_lines(facts, window):
    # "reach" carries no channel and "leads" does: both pages read filtered and unfiltered facts.
    _, small = _page(_dashboard(("reach", "leads"), ("leads",)), window=window)
    big_page, big = _page(_dashboard(SEED_METRICS, SEED_METRICS[:6]), window=window)

    assert len(big_page["panels"][0]["tiles"]) == 12
    assert len(big_page["panels"][2]["values"]) == 6 * len(window_for(window).buckets())
    assert len(big) == len(small)
    # Sparklines and series lines: one read of the facts per distinct filter (none, email).
    assert sum("width_bucket" in sql or "CASE WHEN day <=" in sql for sql in big) == 2


def test_series_values_come_from_the_batched_read(facts):
    page, _ = _page(_dashboard(("leads",), ("leads",)))
    tiles, email_tiles, trend, email_trend = page["panels"]
    # Mar 1–15 by day: c1 (email) on Mar 2, c2 (blog) on Mar 9.
    assert trend["values"] == [0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert email_trend["values"] == [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert tiles["tiles"][0]["spark"] != email_tiles["tiles"][0]["spark"]


@pytest.mark.parametrize("key", list(DASHBOARDS))
@pytest.mark.parametrize("reader_filter", [(), ("email",)])
def test_every_dashboard_reads_its_series_once_per_filter(facts, key, reader_filter):
    dashboard = DASHBOARDS[key]
    _, queries = _page(dashboard, filters=reader_filter)
    # A panel's own filter wins; otherwise the reader's applies (tiles and series have no breakdown).
    reader = {"channel": reader_filter} if reader_filter else {}
    distinct = {tuple(sorted((panel.filters or reader).items())) for panel in dashboard.panels
                if panel.kind in ("tiles", "series")}
    assert sum("width_bucket" in sql or "CASE WHEN day <=" in sql for sql in queries) == len(distinct)
    # Per panel at most: the facts of the window (plus filter or breakdown), its targets, key labels;
    # and as much again for the attention banner (which also reads the sales team and the funnel).
    assert len(queries) <= 8 * len(dashboard.panels) + len(distinct) + 8, (key, len(queries))


@pytest.mark.parametrize("key", list(DASHBOARDS))
def test_a_page_never_changes_an_answer_its_panels_share(facts, key, monkeypatch):
    # Within a page each metric's answer is worked out once and handed to every panel (and the
    # attention list) that asks the same question: none of them may change it for the others.
    import copy

    from smarketing.kpis import selectors

    answers = []
    compute = selectors._kpi_values_of

    def kept(*args, **kwargs):
        results = compute(*args, **kwargs)
        answers.extend((result, copy.deepcopy(result)) for result in results)
        return results

    monkeypatch.setattr(selectors, "_kpi_values_of", kept)
    with selectors.reads_once():
        dashboard_page(dashboard=DASHBOARDS[key], state=DashboardState(window=window_for("mtd")))
    assert answers
    assert [shared for shared, _ in answers] == [as_computed for _, as_computed in answers]
