"""GET /api/v1/kpis/ and `manage.py kpis --json`: the exact JSON of DESIGN.md, and clear 400s."""

from __future__ import annotations

import json
import time

import pytest
from django.core.management import CommandError, call_command

from smarketing.kpis.services import facts_rebuild
from tests.kpis.builders import contact, deal

pytestmark = pytest.mark.django_db
URL = "/api/v1/kpis/"


@pytest.fixture
def data(db):
    contact("a", "2026-03-02 09:00", channel="email", mql="2026-03-03 09:00")
    contact("b", "2026-03-03 09:00", channel="social")
    contact("c", "2026-02-03 09:00", channel="email", mql="2026-02-04 09:00")
    deal("d", 150, "won", "2026-03-01 09:00", "2026-03-05 09:00")
    facts_rebuild()


def test_signed_out_is_refused(client, data):
    assert client.get(URL, {"metrics": "leads"}).status_code == 403


def test_report_shape(signed_in_client, data):
    response = signed_in_client.get(URL, {"metrics": "lead_to_mql_rate,revenue", "window": "mtd",
                                          "as_of": "2026-03-15", "dimension": "channel"})
    assert response.status_code == 200
    body = response.json()
    assert body["as_of"] == "2026-03-15"
    assert body["window"] == {"name": "mtd", "start": "2026-03-01", "end": "2026-03-15"}
    assert body["facts_as_of"]
    rate, revenue = body["results"]
    empty = {"numerator": 0, "denominator": 0, "value": None}
    assert rate == {
        "metric": "lead_to_mql_rate", "label": "Lead → MQL", "unit": "percent", "value": 50.0,
        "numerator": 1, "denominator": 2,
        # February's cohort as it stood on Feb 15 (same age): 1 of 1.
        "previous": {"value": 100.0, "start": "2026-02-01", "end": "2026-02-15", "kind": "previous_period",
                     "same_age": True, "numerator": 1, "denominator": 1},
        # 1/2 vs 1/1: z = −0.87, noise.
        "change": {"absolute": -50.0, "relative": -0.5, "significant": False, "direction": "down"},
        "mature": empty,  # Mar 15 − 30 days is before the window
        "target": None, "filtered": True,
        "breakdown": [
            {"key": "email", "label": "Email", "value": 100.0, "numerator": 1, "denominator": 1,
             "previous": {"value": 100.0, "start": "2026-02-01", "end": "2026-02-15", "kind": "previous_period",
                          "same_age": True, "numerator": 1, "denominator": 1},
             "change": {"absolute": 0.0, "relative": 0.0, "significant": False, "direction": None},
             "mature": empty, "target": None},
            {"key": "social", "label": "Social", "value": 0.0, "numerator": 0, "denominator": 1,
             "previous": {"value": None, "start": "2026-02-01", "end": "2026-02-15", "kind": "previous_period",
                          "same_age": True, "numerator": 0, "denominator": 0},
             "change": None, "mature": empty, "target": None},
        ],
    }
    assert revenue["value"] == 150.0 and revenue["numerator"] is None
    # Currency from 0: any rise is a quarter of |0|; relative is undefined.
    assert revenue["change"] == {"absolute": 150.0, "relative": None, "significant": True, "direction": "up"}
    assert [(row["key"], row["value"], row["previous"]["value"], row["target"]) for row in revenue["breakdown"]] == \
        [("(none)", 150.0, 0, None)]


def test_filter_parameter_restricts_to_dimension_values(signed_in_client, data):
    body = signed_in_client.get(URL, {"metrics": "leads,visits", "as_of": "2026-03-15",
                                      "channel": "social,paid_social"}).json()
    leads, visits = body["results"]
    assert (leads["value"], leads["filtered"]) == (1, True)
    assert visits["filtered"] is False


@pytest.mark.parametrize(("params", "message"), [
    ({"metrics": "nope"}, "unknown metric 'nope'"),
    ({"metrics": ""}, "name at least one metric"),
    ({"metrics": "leads", "window": "fortnight"}, "unknown window 'fortnight'"),
    ({"metrics": "leads", "dimension": "colour"}, "unknown dimension 'colour'"),
    ({"metrics": "leads", "window": "custom", "start": "2026-01-01"}, "needs both start and end"),
    ({"metrics": "leads", "as_of": "yesterday"}, "YYYY-MM-DD"),
    ({"metrics": "leads", "dimension": "owner", "channel": "email"}, "cannot be filtered by channel"),
])
def test_bad_queries_answer_400_with_a_clear_message(signed_in_client, data, params, message):
    response = signed_in_client.get(URL, params)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert message in error["message"]


def test_schema_documents_the_kpi_endpoint(signed_in_client):
    schema = signed_in_client.get("/api/schema/", {"format": "json"}).json()
    assert "/api/v1/kpis/" in schema["paths"]
    assert "KpiReport" in schema["components"]["schemas"]


def test_command_prints_the_same_json_as_the_api(signed_in_client, data, capsys):
    call_command("kpis", "--metrics", "lead_to_mql_rate,revenue", "--window", "mtd", "--as-of", "2026-03-15",
                 "--dimension", "channel", "--json")
    printed = json.loads(capsys.readouterr().out)
    api = signed_in_client.get(URL, {"metrics": "lead_to_mql_rate,revenue", "window": "mtd",
                                     "as_of": "2026-03-15", "dimension": "channel"}).json()
    assert printed == api


def test_command_custom_window_and_errors(data, capsys):
    call_command("kpis", "--metrics", "leads", "--window", "custom", "--start", "2026-02-01", "--end",
                 "2026-03-31", "--json")
    assert json.loads(capsys.readouterr().out)["results"][0]["value"] == 3
    with pytest.raises(CommandError, match="unknown metric"):
        call_command("kpis", "--metrics", "nope", "--json")


@pytest.mark.parametrize("params", [
    {"window": "custom", "start": "1000-01-01", "end": "2026-01-01"},
    {"window": "custom", "start": "2026-01-01", "end": "9999-12-30"},
    {"window": "last_30", "as_of": "0001-01-05"},
])
def test_stalling_and_overflowing_windows_answer_400_at_once(signed_in_client, data, params):
    started = time.monotonic()
    response = signed_in_client.get(URL, {"metrics": "leads,lead_to_mql_rate", "dimension": "channel", **params})
    assert response.status_code == 400
    assert "out of range" in response.content.decode()
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(("compare", "kind", "start", "end"), [
    (None, "previous_period", "2026-02-01", "2026-02-15"),
    ("complete", "complete_previous_period", "2026-02-01", "2026-02-28"),
    ("last_year", "same_period_last_year", "2025-03-01", "2025-03-15"),
    ("same_period_last_year", "same_period_last_year", "2025-03-01", "2025-03-15"),
])
def test_compare_names_the_comparison_in_previous(signed_in_client, data, compare, kind, start, end):
    params = {"metrics": "leads", "window": "mtd", "as_of": "2026-03-15"}
    if compare:
        params["compare"] = compare
    previous = signed_in_client.get(URL, params).json()["results"][0]["previous"]
    # a and b are March leads; c (Feb 3) is within Feb 1–15 and Feb 1–28; nothing in March 2025
    assert previous == {"value": 1 if kind != "same_period_last_year" else 0, "start": start, "end": end,
                        "kind": kind, "same_age": False}


def test_unknown_compare_is_a_clear_400(signed_in_client, data):
    response = signed_in_client.get(URL, {"metrics": "leads", "compare": "yesterday"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith("compare: 'yesterday' is not a comparison: use one of")


def test_command_compare(data, capsys):
    call_command("kpis", "--metrics", "leads", "--as-of", "2026-03-15", "--compare", "last_year", "--json")
    previous = json.loads(capsys.readouterr().out)["results"][0]["previous"]
    assert (previous["kind"], previous["start"], previous["end"]) == ("same_period_last_year", "2025-03-01",
                                                                      "2025-03-15")
    with pytest.raises(CommandError, match="compare: 'x' is not a comparison"):
        call_command("kpis", "--metrics", "leads", "--compare", "x")


def test_same_period_last_year_counts_last_years_days(signed_in_client, data):
    contact("y1", "2025-03-10 09:00", channel="email")  # inside Mar 1–15 2025
    contact("y2", "2025-03-16 09:00", channel="email")  # the day after: outside
    facts_rebuild()
    result = signed_in_client.get(URL, {"metrics": "leads", "window": "mtd", "as_of": "2026-03-15",
                                        "compare": "last_year"}).json()["results"][0]
    assert (result["value"], result["previous"]["value"]) == (2, 1)


def test_the_answer_is_compact_json_and_indented_on_request(signed_in_client, data):
    query = {"metrics": "lead_to_mql_rate,revenue", "window": "mtd", "as_of": "2026-03-15", "dimension": "channel"}
    compact = signed_in_client.get(URL, query)
    assert compact["Content-Type"] == "application/json"
    # The same JSON as the standard library's encoder writes, compact and in UTF-8.
    assert compact.content.decode() == json.dumps(compact.json(), ensure_ascii=False, separators=(",", ":"))
    assert "→" in compact.content.decode()
    indented = signed_in_client.get(URL, query, HTTP_ACCEPT="application/json; indent=2")
    assert indented.content.decode().startswith('{\n  "as_of": "2026-03-15"')
    assert indented.json() == compact.json()
    # The browsable API still renders the same answer for people.
    page = signed_in_client.get(URL, query, HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and b"lead_to_mql_rate" in page.content


def test_the_same_question_is_computed_once_until_what_it_reads_changes(signed_in_client, data):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from smarketing.funnel.services import records_upsert

    query = {"metrics": "leads", "window": "mtd", "as_of": "2026-03-15", "dimension": "channel"}

    def leads() -> dict:
        return signed_in_client.get(URL, query).json()["results"][0]

    first = leads()
    assert (first["value"], first["target"]) == (2, None)
    with CaptureQueriesContext(connection) as queries:
        assert leads() == first
    assert not [q for q in queries if "kpis_fact" in q["sql"] and "kpis_factsstate" not in q["sql"]]  # cached

    # A target has no facts and starts no recompute: the cached answer must not outlive it.
    records_upsert(resource="targets", rows=[{"metric": "leads", "period": "month", "period_start": "2026-03-01",
                                             "value": "10"}])
    assert leads()["target"]["value"] == 10
    # New records count once their recompute is done.
    contact("e", "2026-03-10 09:00", channel="email")
    facts_rebuild()
    again = leads()
    assert again["value"] == 3 and {row["key"]: row["value"] for row in again["breakdown"]} == {"email": 2, "social": 1}
    # One copy per language: the labels are the reader's.
    chinese = signed_in_client.get(URL, query, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"][0]
    assert chinese["value"] == 3 and chinese["label"] != again["label"]
