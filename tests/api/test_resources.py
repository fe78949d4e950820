"""`/api/v1/<resource>/`: round trips for every resource, auth, filters, deletes, the OpenAPI docs."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from rest_framework.authtoken.models import Token

from smarketing.api.resources import WriteThrottle
from smarketing.funnel import models as m
from smarketing.funnel.schemas import RESOURCES, row_validate
from smarketing.funnel.selectors import key_format
from tests.funnel.rows import store_examples, valid_rows

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttle")]




@pytest.fixture
def viewer_api(api_client, user):
    token = Token.objects.create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api_client


def contract(resource, row: dict) -> dict:
    """Parse a row through the schema, so '1250.00' and 1250.0 compare equal."""
    values, errors = row_validate(resource, row)
    assert not errors, errors
    return values


def test_every_resource_round_trips_through_rest(manager_api):
    for name, resource in RESOURCES.items():
        sent = valid_rows(name)
        response = manager_api.post(f"/api/v1/{name}/bulk/", sent, format="json")
        assert response.status_code == 200, (name, response.json())
        assert response.json() == {"created": 2, "updated": 0, "recompute": "queued"}
        listed = manager_api.get(f"/api/v1/{name}/").json()
        assert listed["count"] == 2
        assert set(listed["results"][0]) == set(resource.columns)

        def key(row, resource=resource):
            return tuple(str(row[c]) for c in resource.key)

        got = sorted((contract(resource, row) for row in listed["results"]), key=key)
        assert got == sorted((contract(resource, row) for row in sent), key=key), name
        for row in sent:
            url = f"/api/v1/{name}/{quote(key_format(resource, contract(resource, row)), safe='')}/"
            one = manager_api.get(url)
            assert one.status_code == 200, (name, url, one.content)
            assert contract(resource, one.json()) == contract(resource, row)
    again = manager_api.post("/api/v1/contacts/bulk/", valid_rows("contacts"), format="json")
    assert again.json() == {"created": 0, "updated": 2, "recompute": "queued"}


def test_contact_as_the_api_shows_it(manager_api):
    store_examples("contacts")
    response = manager_api.get("/api/v1/contacts/contacts-2/")
    assert response.json() == {
        "external_id": "contacts-2", "email": "person2@example.com", "company": "Example company 2",
        "source_channel": "organic_search", "campaign_id": None, "owner_email": None,
        "referred_by": "contacts-1", "lead_at": "2026-01-06T09:30:00Z", "nurture_at": None, "mql_at": None,
        "demo_at": None, "sql_at": None, "opportunity_at": None, "customer_at": None, "churned_at": None,
        "industry": "Example industry 2", "offer": "demo_request", "disqualified_at": None,
        "disqualification_reason": "",
    }


def test_bulk_errors_answer_400_with_every_error_and_write_nothing(manager_api):
    rows = [
        {"external_id": "ok", "name": "Fine", "channel": "email"},
        {"external_id": "bad", "name": "", "channel": "fax"},
        {"external_id": "ok", "name": "Again", "channel": "email"},
    ]
    response = manager_api.post("/api/v1/campaigns/bulk/", rows, format="json")
    assert response.status_code == 400
    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [
        (2, "name"), (2, "channel"), (3, "external_id"),
    ]
    assert m.Campaign.objects.count() == 0


def test_bulk_needs_a_list(manager_api):
    response = manager_api.post("/api/v1/campaigns/bulk/", {"external_id": "x"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "send a JSON list of rows"


def test_reading_needs_a_signed_in_user(api_client):
    assert api_client.get("/api/v1/contacts/").status_code in (401, 403)


def test_session_user_reads(signed_in_client):
    store_examples("campaigns")
    assert signed_in_client.get("/api/v1/campaigns/").json()["count"] == 2


def test_writing_needs_the_data_manager_permission(viewer_api):
    assert viewer_api.get("/api/v1/campaigns/").status_code == 200
    response = viewer_api.post("/api/v1/campaigns/bulk/", valid_rows("campaigns"), format="json")
    assert response.status_code == 403
    store_examples("campaigns")
    assert viewer_api.delete("/api/v1/campaigns/campaigns-1/").status_code == 403
    assert m.Campaign.objects.count() == 2


def test_writes_are_throttled(manager_api, monkeypatch):
    monkeypatch.setattr(WriteThrottle, "THROTTLE_RATES", {"writes": "2/minute"})
    for _ in range(2):
        assert manager_api.post("/api/v1/campaigns/bulk/", valid_rows("campaigns"), format="json").status_code == 200
    assert manager_api.post("/api/v1/campaigns/bulk/", valid_rows("campaigns"), format="json").status_code == 429
    assert manager_api.get("/api/v1/campaigns/").status_code == 200


def test_filters_on_key_and_dates(manager_api):
    store_examples("contacts", "web_traffic")
    assert [r["external_id"] for r in manager_api.get("/api/v1/contacts/?external_id=contacts-2").json()["results"]] \
        == ["contacts-2"]
    assert [r["external_id"] for r in manager_api.get("/api/v1/contacts/?lead_at_from=2026-01-06").json()["results"]] \
        == ["contacts-2"]
    assert [r["external_id"] for r in manager_api.get("/api/v1/contacts/?lead_at_to=2026-01-05").json()["results"]] \
        == ["contacts-1"]
    assert [r["date"] for r in manager_api.get("/api/v1/web_traffic/?date=2026-01-06").json()["results"]] \
        == ["2026-01-06"]
    bad = manager_api.get("/api/v1/contacts/?lead_at_from=Jan")
    assert bad.status_code == 400
    assert manager_api.get("/api/v1/contacts/?colour=red").status_code == 400


def test_list_is_paginated(manager_api):
    rows = [{"external_id": f"K{i:03d}", "name": f"C{i}", "channel": "email"} for i in range(105)]
    manager_api.post("/api/v1/campaigns/bulk/", rows, format="json")
    first = manager_api.get("/api/v1/campaigns/").json()
    assert (first["count"], len(first["results"])) == (105, 100)
    assert len(manager_api.get(first["next"]).json()["results"]) == 5


def test_delete_by_simple_key(manager_api):
    store_examples("campaigns")
    assert manager_api.delete("/api/v1/campaigns/campaigns-1/").status_code == 204
    assert list(m.Campaign.objects.values_list("external_id", flat=True)) == ["campaigns-2"]
    assert manager_api.delete("/api/v1/campaigns/campaigns-1/").status_code == 404


def test_delete_by_composite_key_with_slashes_and_commas(manager_api):
    rows = [{"date": "2026-01-05", "page": "/a,b/pricing", "section": "site", "source": "direct", "visits": "3"},
            {"date": "2026-01-05", "page": "/other", "section": "site", "source": "direct", "visits": "4"}]
    manager_api.post("/api/v1/web_traffic/bulk/", rows, format="json")
    key = quote("2026-01-05,/a\\,b/pricing,direct", safe="")
    assert manager_api.get(f"/api/v1/web_traffic/{key}/").json()["visits"] == 3
    assert manager_api.delete(f"/api/v1/web_traffic/{key}/").status_code == 204
    assert list(m.WebTraffic.objects.values_list("page", flat=True)) == ["/other"]
    assert manager_api.delete("/api/v1/web_traffic/2026-01-05,direct/").status_code == 400


def test_delete_team_wide_target_by_key_with_empty_owner(manager_api):
    store_examples("team_members")
    rows = [{"metric": "leads", "period": "month", "period_start": "2026-01-01", "value": "100"},
            {"metric": "leads", "period": "month", "period_start": "2026-01-01", "value": "10",
             "owner_email": "person1@example.com"}]
    manager_api.post("/api/v1/targets/bulk/", rows, format="json")
    assert manager_api.delete("/api/v1/targets/leads,month,2026-01-01,,,/").status_code == 204
    assert list(m.Target.objects.values_list("owner__email", flat=True)) == ["person1@example.com"]


def test_target_keys_name_the_slice_and_the_short_form_still_works(manager_api):
    store_examples("team_members", "campaigns")
    team = {"metric": "leads", "period": "month", "period_start": "2026-01-01", "value": "100"}
    rows = [team, {**team, "channel": "blog", "value": "20"}, {**team, "campaign_id": "campaigns-1", "value": "5"},
            {**team, "owner_email": "person1@example.com", "value": "10"}]
    assert manager_api.post("/api/v1/targets/bulk/", rows, format="json").status_code == 200
    assert manager_api.get("/api/v1/targets/leads,month,2026-01-01,,blog,/").json()["value"] == "20.0000"
    assert manager_api.delete("/api/v1/targets/leads,month,2026-01-01,,,campaigns-1/").status_code == 204
    # The four-part key of before the slices names the team-wide row.
    assert manager_api.delete("/api/v1/targets/leads,month,2026-01-01,/").status_code == 204
    left = m.Target.objects.values_list("owner__email", "channel")
    assert sorted(left, key=str) == sorted([("person1@example.com", None), (None, "blog")], key=str)


def test_delete_of_a_referenced_record_is_a_conflict(manager_api):
    store_examples("contacts")
    assert manager_api.delete("/api/v1/contacts/contacts-1/").status_code == 409
    assert m.Contact.objects.count() == 2


def test_openapi_schema_and_docs_render(signed_in_client):
    schema = signed_in_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for name in RESOURCES:
        assert f"/api/v1/{name}/bulk/" in paths
        assert f"/api/v1/{name}/{{key}}/" in paths
    contact_row = schema.json()["components"]["schemas"]["ContactsRow"]
    assert set(contact_row["required"]) == {"external_id", "source_channel", "lead_at"}
    docs = signed_in_client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs.content
    assert b"cdn" not in docs.content.lower()


def test_each_resource_is_documented_under_its_own_name(signed_in_client):
    paths = signed_in_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    for name in RESOURCES:
        for path in (f"/api/v1/{name}/", f"/api/v1/{name}/bulk/", f"/api/v1/{name}/{{key}}/"):
            for operation in paths[path].values():
                assert operation["tags"] == [name], (path, operation["tags"])
    assert paths["/api/v1/contacts/"]["get"]["summary"] == "List contacts"
    assert {p["name"] for p in paths["/api/v1/contacts/"]["get"]["parameters"]} >= {
        "external_id", "lead_at_from", "lead_at_to", "page"}
