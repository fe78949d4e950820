"""GET /api/v1/attention/ and `manage.py attention --json`: one list, the banner's and the digest's."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command

from smarketing.dashboards.layouts import DASHBOARDS
from smarketing.dashboards.params import DashboardState
from smarketing.dashboards.selectors import dashboard_page
from smarketing.digests.compose import ComposeCache, section_compose
from smarketing.funnel import models as m
from smarketing.kpis.services import facts_rebuild
from smarketing.kpis.windows import window_for
from tests.kpis.builders import activity, contact, deal, member

pytestmark = pytest.mark.django_db
URL = "/api/v1/attention/"
NOW = dt.datetime(2026, 4, 16, 12, tzinfo=dt.UTC)  # yesterday is Apr 15 (company zone UTC)


@pytest.fixture
def april(settings):
    settings.SMARKETING_TIMEZONE = "UTC"
    settings.SLA_LEADS_PER_REP_PER_MONTH = 30
    ann = member("ann@t.com", "Ann")
    for i in range(10):
        lead = contact(f"a{i}", "2026-04-01 09:00", mql="2026-04-02 09:00", owner=ann)
        activity(lead, "2026-04-03 09:00")
    for i in range(100):
        contact(f"mar{i}", "2026-03-03 09:00")
    deal("won-mar", 10000, "won", "2026-02-01 09:00", "2026-03-05 09:00", owner=ann)
    deal("won-apr", 5000, "won", "2026-03-01 09:00", "2026-04-05 09:00", owner=ann)
    m.Target.objects.create(metric="leads", period="month", period_start=dt.date(2026, 4, 1), value=Decimal(300))
    facts_rebuild()
    with time_machine.travel(NOW, tick=False):
        yield


def test_signed_out_is_refused(client, april):
    assert client.get(URL, {"dashboard": "shared"}).status_code == 403


def test_the_list_as_of_yesterday_by_default(signed_in_client, april):
    body = signed_in_client.get(URL, {"dashboard": "sales_manager"}).json()
    assert (body["dashboard"], body["as_of"]) == ("sales_manager", "2026-04-15")
    assert body["window"] == {"name": "mtd", "start": "2026-04-01", "end": "2026-04-15"}
    # Ann: 10 delivered against the SLA pace of 30 × 15 / 30 = 15 (marketing's side); her
    # revenue 5,000 against March's 10,000 on the same days (a significant fall).
    assert [(i["kind"], i["metric"], i["dimension"], i["key"], i["value"], i["reference"]) for i in body["items"]] \
        == [("sla", "leads_delivered", "owner", "ann@t.com", 10, 15),
            ("change", "revenue", None, None, 5000.0, 10000.0),
            ("change", "revenue", "owner", "ann@t.com", 5000.0, 10000.0)]
    assert set(body["items"][0]) == {"kind", "metric", "dimension", "key", "value", "reference", "message"}


@pytest.mark.parametrize(("params", "message"), [
    ({}, "dashboard: '' is not a dashboard key"),
    ({"dashboard": "nope"}, "dashboard: 'nope' is not a dashboard key"),
    ({"dashboard": "shared", "window": "fortnight"}, "unknown window 'fortnight'"),
    ({"dashboard": "shared", "as_of": "yesterday"}, "YYYY-MM-DD"),
    ({"dashboard": "shared", "window": "custom", "start": "2026-04-01"}, "needs both start and end"),
])
def test_bad_parameters_are_a_clear_400(signed_in_client, april, params, message):
    response = signed_in_client.get(URL, params)
    assert response.status_code == 400
    assert message in response.json()["errors"][0]["message"]


def test_command_prints_the_same_json(signed_in_client, april, capsys):
    call_command("attention", "--dashboard", "sales_manager", "--as-of", "2026-04-15", "--json")
    printed = json.loads(capsys.readouterr().out)
    api = signed_in_client.get(URL, {"dashboard": "sales_manager", "as_of": "2026-04-15"}).json()
    assert printed == api
    with pytest.raises(CommandError, match="not a dashboard key"):
        call_command("attention", "--dashboard", "nope")


@pytest.mark.parametrize("key", ["shared", "sales_manager"])
def test_banner_digest_and_api_give_the_same_items(signed_in_client, april, key):
    api = signed_in_client.get(URL, {"dashboard": key, "window": "mtd", "as_of": "2026-04-15"}).json()["items"]
    banner = dashboard_page(dashboard=DASHBOARDS[key],
                            state=DashboardState(window=window_for("mtd", as_of="2026-04-15"),
                                                 as_of="2026-04-15"))["attention"]["items"]
    cache = ComposeCache(render_charts=False)
    section = section_compose(dashboard_key=key, as_of=dt.date(2026, 4, 15), cache=cache)
    digest = cache.attention(key, dt.date(2026, 4, 15))  # what the section used, cached
    assert api, "the fixture gives each dashboard something to flag"
    assert banner == api == digest
    # The digest shows exactly those messages under "Needs attention", and nothing else there.
    shown = section.text.split("NEEDS ATTENTION\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert [line.split(" — ", 1)[1] for line in shown if line.startswith("  * ")] == [i["message"] for i in api]
