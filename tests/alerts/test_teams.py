"""Team-owned alert rules: a data manager gives a rule to a team (marketing or sales); every member
of that team may see and edit it; anyone else sees and edits only their own rules."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from smarketing.alerts.models import Rule
from smarketing.funnel.models import TeamMember

pytestmark = pytest.mark.django_db

RULE = {"name": "Blog leads low", "metric": "leads", "dimension": "channel", "key": "blog", "window": "mtd",
        "condition": {"type": "below", "value": 40}}


def _person(django_user_model, username: str, team: str | None) -> object:
    user = django_user_model.objects.create_user(username=username, password=f"{username}-pass-123")
    if team is not None:
        TeamMember.objects.create(email=f"{username}@t.example", name=username.title(), team=team, user=user)
    return user


def _api(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def people(django_user_model, data_manager):
    return {"manager": data_manager, "mia": _person(django_user_model, "mia", "marketing"),
            "max": _person(django_user_model, "max", "marketing"), "sue": _person(django_user_model, "sue", "sales"),
            "nobody": _person(django_user_model, "nobody", None)}


def _team_rule(people) -> dict:
    created = _api(people["manager"]).post("/api/v1/alerts/rules/", {**RULE, "team": "marketing"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["team"] == "marketing" and created.json()["owner"] == "manager"
    return created.json()


def test_members_of_the_team_see_and_edit_its_rule_others_do_not(people):
    rule = _team_rule(people)
    url = f"/api/v1/alerts/rules/{rule['id']}/"
    for name in ("mia", "max"):
        assert _api(people[name]).get(url).status_code == 200, name
    renamed = _api(people["max"]).patch(url, {"name": "Blog leads under 40"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["team"] == "marketing"
    assert Rule.objects.get().name == "Blog leads under 40"
    # Sales and a person without a team: not theirs, so not found, and nothing changes.
    for name in ("sue", "nobody"):
        client = _api(people[name])
        assert client.get(url).status_code == 404, name
        assert client.patch(url, {"name": "mine now"}, format="json").status_code == 404, name
        assert client.delete(url).status_code == 404, name
        assert client.get("/api/v1/alerts/rules/").json()["results"] == [], name
    assert Rule.objects.get().name == "Blog leads under 40"
    assert _api(people["mia"]).delete(url).status_code == 204
    assert not Rule.objects.exists()


def test_only_a_data_manager_gives_a_rule_to_a_team_or_takes_it_away(people):
    mia = _api(people["mia"])
    refused = mia.post("/api/v1/alerts/rules/", {**RULE, "team": "marketing"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "team"
    assert not Rule.objects.exists()
    rule = _team_rule(people)
    url = f"/api/v1/alerts/rules/{rule['id']}/"
    for team in ("", "sales"):
        moved = mia.patch(url, {"team": team}, format="json")
        assert moved.status_code == 400 and moved.json()["errors"][0]["field"] == "team", team
    assert Rule.objects.get().team == "marketing"
    # A member's own rule stays their own; the manager may move any rule.
    own = mia.post("/api/v1/alerts/rules/", RULE, format="json")
    assert own.status_code == 201 and own.json()["team"] == ""
    moved = _api(people["manager"]).patch(f"/api/v1/alerts/rules/{own.json()['id']}/", {"team": "sales"},
                                          format="json")
    assert moved.status_code == 200 and moved.json()["team"] == "sales"
    assert _api(people["sue"]).get(f"/api/v1/alerts/rules/{own.json()['id']}/").status_code == 200


def test_an_unknown_team_is_refused_naming_the_field(people):
    response = _api(people["manager"]).post("/api/v1/alerts/rules/", {**RULE, "team": "finance"}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "team"
    assert not Rule.objects.exists()


def test_the_alerts_page_shows_team_rules_to_their_members_who_can_pause_and_delete_them(client, people):
    client.force_login(people["manager"])
    page = client.get("/alerts/").content.decode()
    assert 'name="r-team"' in page  # a data manager chooses the team on the page
    response = client.post("/alerts/", {"form": "rule", "r-name": "Sales SLA", "r-metric": "leads_worked_rate",
                                        "r-window": "mtd", "r-condition_type": "attention", "r-threshold": "",
                                        "r-direction": "any", "r-dimension": "", "r-key": "", "r-team": "sales"})
    assert response.status_code == 302
    rule = Rule.objects.get()
    assert rule.team == "sales" and rule.owner == people["manager"]

    client.force_login(people["sue"])
    page = client.get("/alerts/").content.decode()
    assert "Sales SLA" in page and "Sales team" in page
    assert 'name="r-team"' not in page  # a member makes personal rules only
    assert client.post(f"/alerts/rules/{rule.pk}/", {"action": "pause"}).status_code == 302
    rule.refresh_from_db()
    assert rule.active is False

    client.force_login(people["mia"])
    assert f'id="rule-{rule.pk}"' not in client.get("/alerts/").content.decode()
    assert client.post(f"/alerts/rules/{rule.pk}/", {"action": "delete"}).status_code == 404
    assert Rule.objects.filter(pk=rule.pk).exists()

    client.force_login(people["sue"])
    assert client.post(f"/alerts/rules/{rule.pk}/", {"action": "delete"}).status_code == 302
    assert not Rule.objects.exists()


def test_a_member_posting_a_team_on_the_page_still_makes_a_personal_rule(client, people):
    client.force_login(people["mia"])
    response = client.post("/alerts/", {"form": "rule", "r-name": "Mine", "r-metric": "leads", "r-window": "mtd",
                                        "r-condition_type": "below", "r-threshold": "3", "r-direction": "any",
                                        "r-dimension": "", "r-key": "", "r-team": "marketing"})
    assert response.status_code == 302
    assert Rule.objects.get().team == ""
