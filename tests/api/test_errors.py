"""One error shape for every API answer, `{"errors": [{"row"?, "field"?, "message"}]}`, request
bodies bounded in size and depth, the `page_path` filter, and the schema saying all of it."""

from __future__ import annotations

import json

import pytest
from rest_framework.authtoken.models import Token

from tests.funnel.rows import store_examples, valid_rows

pytestmark = pytest.mark.django_db



@pytest.fixture
def viewer_api(api_client, user):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api_client


def only_error(response) -> dict:
    body = response.json()
    assert set(body) == {"errors"}
    (error,) = body["errors"]
    assert set(error) <= {"row", "field", "message"} and error["message"]
    return error


def test_signed_out_is_401_with_the_error_shape(api_client):
    error = only_error(api_client.get("/api/v1/campaigns/"))
    assert error == {"message": "Authentication credentials were not provided."}


def test_without_permission_is_403_with_the_error_shape(viewer_api):
    response = viewer_api.post("/api/v1/campaigns/bulk/", valid_rows("campaigns"), format="json")
    assert response.status_code == 403
    assert only_error(response) == {"message": "Changing data needs the data-manager permission."}


def test_unknown_record_is_404_with_the_error_shape(viewer_api):
    response = viewer_api.get("/api/v1/campaigns/nope/")
    assert response.status_code == 404
    assert only_error(response) == {"message": "Not found."}


def test_a_bad_key_names_the_key(viewer_api):
    response = viewer_api.get("/api/v1/web_traffic/2026-01-05/")
    assert response.status_code == 400
    assert only_error(response)["field"] == "key"


def test_a_bad_filter_is_400_with_the_error_shape(viewer_api):
    response = viewer_api.get("/api/v1/campaigns/", {"colour": "red"})
    assert response.status_code == 400
    assert only_error(response) == {"message": "unknown filter 'colour'"}


def test_a_body_that_is_not_a_list_is_one_error_without_row_or_field(manager_api):
    response = manager_api.post("/api/v1/campaigns/bulk/", {"external_id": "x"}, format="json")
    assert response.status_code == 400
    assert only_error(response) == {"message": "send a JSON list of rows"}


def test_malformed_json_is_400_with_the_error_shape(manager_api):
    response = manager_api.post("/api/v1/campaigns/bulk/", "[{", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in only_error(response)["message"]


def test_a_method_not_allowed_is_405_with_the_error_shape(manager_api):
    response = manager_api.put("/api/v1/campaigns/bulk/", [], format="json")
    assert response.status_code == 405
    assert only_error(response) == {"message": 'Method "PUT" not allowed.'}


def test_throttled_writes_are_429_with_the_error_shape(manager_api, monkeypatch):
    from smarketing.api.resources import WriteThrottle

    monkeypatch.setattr(WriteThrottle, "THROTTLE_RATES", {"writes": "1/minute"})
    manager_api.post("/api/v1/campaigns/bulk/", valid_rows("campaigns"), format="json")
    response = manager_api.post("/api/v1/campaigns/bulk/", valid_rows("campaigns"), format="json")
    assert response.status_code == 429
    assert response["Retry-After"]
    assert "throttled" in only_error(response)["message"]


def test_row_errors_carry_row_and_field(manager_api):
    rows = valid_rows("campaigns")
    rows[1]["channel"] = "pigeon"
    response = manager_api.post("/api/v1/campaigns/bulk/", rows, format="json")
    assert response.status_code == 400
    error = only_error(response)
    assert (error["row"], error["field"]) == (2, "channel")


def test_json_nested_100000_deep_is_a_400_not_a_crash(manager_api):
    body = "[" * 100_000 + "]" * 100_000
    response = manager_api.post("/api/v1/campaigns/bulk/", body, content_type="application/json")
    assert response.status_code == 400
    assert only_error(response) == {"message": "JSON parse error - nested deeper than 32 levels"}


def test_json_nested_past_the_depth_limit_is_refused_and_at_it_accepted(manager_api):
    deep = json.dumps([{**valid_rows("campaigns")[0], "name": {"a": [[[]]]}}])  # 6 levels
    body = deep
    for _ in range(27):  # 33
        body = "[" + body + "]"
    assert only_error(manager_api.post("/api/v1/campaigns/bulk/", body, content_type="application/json"))[
        "message"] == "JSON parse error - nested deeper than 32 levels"
    shallower = deep
    for _ in range(26):  # 32
        shallower = "[" + shallower + "]"
    # 32 levels parse; the rows are then refused for what they hold, not for their depth.
    response = manager_api.post("/api/v1/campaigns/bulk/", shallower, content_type="application/json")
    assert "nested deeper" not in json.dumps(response.json())


def test_a_body_over_the_size_limit_is_413_json(manager_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = manager_api.post("/api/v1/campaigns/bulk/", json.dumps(valid_rows("campaigns") * 20),
                                content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert only_error(response) == {"message": "The request body is larger than 0 MB: send fewer rows per request."}


def test_kpi_query_errors_have_the_error_shape(viewer_api):
    response = viewer_api.get("/api/v1/kpis/", {"metrics": "nope"})
    assert response.status_code == 400
    assert "unknown metric 'nope'" in only_error(response)["message"]


def test_delete_of_a_referenced_record_is_409_with_the_error_shape(manager_api):
    store_examples("campaigns", "team_members")
    rows = [{**row, "campaign_id": "campaigns-1"} for row in valid_rows("contacts")]
    assert manager_api.post("/api/v1/contacts/bulk/", rows, format="json").status_code == 200
    response = manager_api.delete("/api/v1/campaigns/campaigns-1/")
    assert response.status_code == 409
    assert "still reference" in only_error(response)["message"]


# --- the page filter ---------------------------------------------------------------------------


@pytest.mark.parametrize("resource", ["web_traffic", "landing_pages"])
def test_page_path_filters_and_page_stays_pagination(manager_api, resource):
    rows = valid_rows(resource)
    assert manager_api.post(f"/api/v1/{resource}/bulk/", rows, format="json").status_code == 200
    path = rows[0]["page"]
    listed = manager_api.get(f"/api/v1/{resource}/", {"page_path": path}).json()
    assert [row["page"] for row in listed["results"]] == [path]
    assert manager_api.get(f"/api/v1/{resource}/", {"page": "1"}).json()["count"] == 2
    # The clash of issue 14: a path in `page` is a page number to pagination, never a filter.
    response = manager_api.get(f"/api/v1/{resource}/", {"page": path})
    assert response.status_code == 404
    assert only_error(response) == {"message": "Invalid page."}


def test_the_schema_documents_page_path_and_no_page_column_filter(viewer_api):
    schema = viewer_api.get("/api/schema/", {"format": "json"}).json()
    names = [p["name"] for p in schema["paths"]["/api/v1/web_traffic/"]["get"]["parameters"]]
    assert "page_path" in names
    assert names.count("page") == 1  # pagination's


# --- the schema ------------------------------------------------------------------------------------


def test_the_schema_and_docs_need_sign_in(client, user):
    assert client.get("/api/schema/").status_code in (401, 403)
    docs = client.get("/api/docs/")
    assert docs.status_code == 302 and docs["Location"].startswith("/accounts/login/")
    client.force_login(user)
    assert client.get("/api/schema/").status_code == 200
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert b"<script>" not in page.content  # the start-up script is a file (CSP)
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")


def test_every_operation_documents_the_error_shape(viewer_api):
    schema = viewer_api.get("/api/schema/", {"format": "json"}).json()
    assert schema["components"]["schemas"]["Errors"]["required"] == ["errors"]
    assert "detail" not in json.dumps(schema["components"]["schemas"])
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for code in ("400", "401", "403", "405", "429"):
                content = operation["responses"][code]["content"]["application/json"]["schema"]
                assert content == {"$ref": "#/components/schemas/Errors"}, (path, method, code)
    kpis = schema["paths"]["/api/v1/kpis/"]["get"]["responses"]
    assert "404" not in kpis and "413" not in kpis  # never answered there
    assert "413" in schema["paths"]["/api/v1/campaigns/bulk/"]["post"]["responses"]
    assert "409" in schema["paths"]["/api/v1/campaigns/{key}/"]["delete"]["responses"]
