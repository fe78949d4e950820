"""/api/v1/alerts/: token auth, rule and destination JSON, write-only targets and secrets."""

from __future__ import annotations

import logging

import pytest
from rest_framework.authtoken.models import Token

from smarketing.alerts.models import Destination, Rule

pytestmark = pytest.mark.django_db

SLACK_URL = "https://hooks.slack.com/services/T0AAA/B0BBB/verysecretpartXYZW"
SECRET = "webhook-secret-0123456789abcdef"


@pytest.fixture
def api(api_client, user):
    token = Token.objects.create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api_client


def test_signed_out_is_refused(api_client):
    assert api_client.get("/api/v1/alerts/rules/").status_code in (401, 403)


def test_destination_round_trip_never_shows_the_target_or_secret(api, caplog):
    with caplog.at_level(logging.DEBUG):
        created = api.post("/api/v1/alerts/destinations/", {"name": "ops", "kind": "webhook",
                                                           "target": SLACK_URL, "secret": SECRET}, format="json")
        assert created.status_code == 201, created.content
        listed = api.get("/api/v1/alerts/destinations/")
        one = api.get(f"/api/v1/alerts/destinations/{created.json()['id']}/")
        renamed = api.patch(f"/api/v1/alerts/destinations/{created.json()['id']}/", {"name": "ops 2"}, format="json")
    for response in (created, listed, one, renamed):
        assert response.status_code in (200, 201)
        text = response.content.decode()
        assert SLACK_URL not in text and "verysecretpart" not in text and SECRET not in text
    body = renamed.json()
    assert body["name"] == "ops 2" and body["kind"] == "webhook" and body["target_hint"] == "hooks.slack.com/…XYZW"
    assert "target" not in body and "secret" not in body
    assert SLACK_URL not in caplog.text and SECRET not in caplog.text


@pytest.mark.parametrize(("payload", "field"), [
    ({"name": "x", "kind": "slack", "target": "http://hooks.slack.com/x"}, "target"),
    ({"name": "x", "kind": "email", "target": "not-an-address"}, "target"),
    ({"name": "x", "kind": "webhook", "target": "https://example.com/h"}, "secret"),
    ({"name": "x", "kind": "webhook", "target": "https://example.com/h", "secret": "short"}, "secret"),
    ({"name": "x", "kind": "slack", "target": "https://example.com/h", "secret": SECRET}, "secret"),
    ({"name": "x", "kind": "pager", "target": "https://example.com/h"}, "kind"),
])
def test_bad_destinations_are_refused_naming_the_field(api, payload, field):
    response = api.post("/api/v1/alerts/destinations/", payload, format="json")
    assert response.status_code == 400
    assert field in {error.get("field") for error in response.json()["errors"]}
    assert not Destination.objects.exists()


def test_rule_crud(api, user):
    destination = api.post("/api/v1/alerts/destinations/", {"name": "me", "kind": "email",
                                                            "target": "me@example.com"}, format="json").json()
    created = api.post("/api/v1/alerts/rules/", {
        "name": "Paid search leads drop", "metric": "leads", "dimension": "channel", "key": "paid_search",
        "window": "last_7", "condition": {"type": "change", "percent": 25, "direction": "down"},
        "destinations": [destination["id"]]}, format="json")
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["condition"] == {"type": "change", "percent": 25.0, "direction": "down"}
    assert (rule["metric"], rule["dimension"], rule["key"], rule["window"]) == ("leads", "channel", "paid_search",
                                                                                "last_7")
    assert rule["state"] == "ok" and rule["destinations"] == [destination["id"]]
    patched = api.patch(f"/api/v1/alerts/rules/{rule['id']}/", {"condition": {"type": "above", "value": 10}},
                        format="json")
    assert patched.status_code == 200
    assert patched.json()["condition"] == {"type": "above", "value": 10.0}
    assert patched.json()["dimension"] == "channel"  # untouched fields keep their values
    assert api.get("/api/v1/alerts/rules/").json()["results"][0]["id"] == rule["id"]
    assert api.delete(f"/api/v1/alerts/rules/{rule['id']}/").status_code == 204
    assert not Rule.objects.exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"condition": {"type": "trend"}}, "condition.type"),
    ({"condition": {"type": "below"}}, "condition.value"),
    ({"metric": "nope"}, "metric"),
    ({"window": "custom"}, "window"),
    ({"dimension": "page", "key": "/pricing"}, "dimension"),
])
def test_bad_rules_are_refused_naming_the_field(api, change, field):
    payload = {"name": "r", "metric": "leads", "window": "mtd", "condition": {"type": "below", "value": 3}, **change}
    response = api.post("/api/v1/alerts/rules/", payload, format="json")
    assert response.status_code == 400
    assert field in {error.get("field") for error in response.json()["errors"]}, response.json()
    assert not Rule.objects.exists()


def test_others_rules_and_destinations_are_out_of_reach(api, django_user_model):
    other = django_user_model.objects.create_user(username="other", password="other-pass-123")
    theirs = Destination.objects.create(owner=other, name="theirs", kind="email", target_sealed="x", target_hint="x")
    assert api.get(f"/api/v1/alerts/destinations/{theirs.pk}/").status_code == 404
    response = api.post("/api/v1/alerts/rules/", {"name": "r", "metric": "leads", "window": "mtd",
                                                  "condition": {"type": "below", "value": 3},
                                                  "destinations": [theirs.pk]}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "destinations"


def test_alerts_page_shows_the_masked_target_only(signed_in_client, user):
    from smarketing.alerts.services import destination_save

    destination_save(owner=user, name="ops", kind="slack", target=SLACK_URL, secret=None)
    page = signed_in_client.get("/alerts/").content.decode()
    assert "hooks.slack.com/…XYZW" in page and "Send a test message" in page
    assert SLACK_URL not in page and "verysecretpart" not in page


def test_alerts_page_adds_a_destination_and_a_rule(signed_in_client, user):
    response = signed_in_client.post("/alerts/", {"form": "destination", "d-name": "ops", "d-kind": "slack",
                                                  "d-target": SLACK_URL, "d-secret": ""})
    assert response.status_code == 302
    destination = Destination.objects.get()
    response = signed_in_client.post("/alerts/", {
        "form": "rule", "r-name": "Few leads", "r-metric": "leads", "r-window": "mtd", "r-condition_type": "below",
        "r-threshold": "5", "r-direction": "any", "r-dimension": "", "r-key": "",
        "r-destinations": [str(destination.pk)]})
    assert response.status_code == 302
    rule = Rule.objects.get()
    assert rule.condition == {"type": "below", "value": 5.0} and list(rule.destinations.all()) == [destination]
    page = signed_in_client.get("/alerts/").content.decode()
    assert "Few leads" in page and "below 5" in page


def test_a_bad_rule_on_the_page_says_which_field(signed_in_client):
    response = signed_in_client.post("/alerts/", {
        "form": "rule", "r-name": "x", "r-metric": "leads", "r-window": "mtd", "r-condition_type": "change",
        "r-threshold": "-5", "r-direction": "any", "r-dimension": "", "r-key": ""})
    assert response.status_code == 200
    assert "must be above 0" in response.content.decode()
    assert not Rule.objects.exists()


def test_the_bell_list_names_watched_metrics(signed_in_client, user):
    Rule.objects.create(owner=user, name="r", metric="mqls", window="mtd", condition={"type": "below", "value": 1})
    page = signed_in_client.get("/dashboards/shared/").content.decode()
    assert '<script id="alert-watched" type="application/json">["mqls"]</script>' in page
