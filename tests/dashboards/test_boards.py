"""Own boards: the board JSON schema, who sees and edits what, the API, export → import, saved views."""

from __future__ import annotations

import io
import json

import pytest
from django.urls import reverse

from smarketing.dashboards.boards import (
    MAX_PANELS,
    BoardError,
    board_can_edit,
    board_can_view,
    board_save,
    board_validate,
    boards_visible,
)
from smarketing.dashboards.models import Board, SavedView
from smarketing.funnel.models import TeamMember


def board_json(**overrides) -> dict:
    data = {"title": "APAC webinar funnel", "description": "Ours", "visibility": "private",
            "panels": [{"kind": "tile", "metrics": ["leads", "mqls"], "width": 2},
                       {"kind": "breakdown", "metrics": ["leads"], "dimension": "channel", "width": 1,
                        "filter": {"dimension": "channel", "key": ["email", "social"]}, "window": "ytd"}]}
    data.update(overrides)
    return data


def refused(data) -> BoardError:
    with pytest.raises(BoardError) as caught:
        board_validate(data)
    return caught.value


# The schema ---------------------------------------------------------------------------------

def test_a_valid_board_is_kept_as_sent_with_defaults_filled():
    board = board_validate(board_json(panels=[{"kind": "series", "metrics": ["leads"]}]))
    assert board == {"title": "APAC webinar funnel", "description": "Ours", "visibility": "private",
                     "panels": [{"kind": "series", "metrics": ["leads"], "width": 3}]}


def test_an_unknown_metric_is_refused_naming_the_panel_and_metric():
    error = refused(board_json(panels=[{"kind": "tile", "metrics": ["leads"]},
                                       {"kind": "tile", "metrics": ["leads", "leeds"]}]))
    assert error.field == "panels[1].metrics[1]"
    assert "unknown metric 'leeds'" in error.message


def test_a_dimension_the_metric_does_not_allow_is_refused():
    error = refused(board_json(panels=[{"kind": "breakdown", "metrics": ["open_rate"], "dimension": "owner"}]))
    assert error.field == "panels[0].dimension"
    assert "'open_rate' cannot be broken down by 'owner'" in error.message
    assert "email_type, campaign" in error.message


def test_a_filter_on_a_dimension_the_metric_does_not_carry_is_refused():
    error = refused(board_json(panels=[{"kind": "tile", "metrics": ["blog_visits"],
                                        "filter": {"dimension": "channel", "key": "email"}}]))
    assert error.field == "panels[0].filter.dimension"


def test_too_many_panels_are_refused():
    panels = [{"kind": "tile", "metrics": ["leads"]}] * (MAX_PANELS + 1)
    error = refused(board_json(panels=panels))
    assert error.field == "panels"
    assert f"{MAX_PANELS + 1} panels: a board has at most {MAX_PANELS}" in error.message
    assert board_validate(board_json(panels=panels[:MAX_PANELS]))["panels"][-1]["metrics"] == ["leads"]


@pytest.mark.parametrize(("panel", "field"), [
    ({"kind": "gauge", "metrics": ["leads"]}, "panels[0].kind"),
    ({"kind": "breakdown", "metrics": ["leads"]}, "panels[0].dimension"),
    ({"kind": "tile", "metrics": ["leads"], "dimension": "channel"}, "panels[0].dimension"),
    ({"kind": "tile", "metrics": ["leads"], "width": 4}, "panels[0].width"),
    ({"kind": "tile", "metrics": ["leads"], "window": "custom"}, "panels[0].window"),
    ({"kind": "tile", "metrics": []}, "panels[0].metrics"),
    ({"kind": "tile", "metrics": ["leads"], "colour": "red"}, "panels[0].colour"),
    # a breakdown narrows only along its own dimension
    ({"kind": "breakdown", "metrics": ["leads"], "dimension": "campaign",
      "filter": {"dimension": "channel", "key": "email"}}, "panels[0].filter.dimension"),
    # only a breakdown of cohort rates can read their mature part
    ({"kind": "tile", "metrics": ["leads"], "mature": True}, "panels[0].mature"),
    ({"kind": "breakdown", "metrics": ["leads"], "dimension": "channel", "mature": "yes"}, "panels[0].mature"),
])
def test_each_bad_panel_field_is_named(panel, field):
    assert refused(board_json(panels=[panel])).field == field


def test_visibility_and_title_are_checked():
    assert refused(board_json(visibility="public")).field == "visibility"
    assert refused(board_json(title="  ")).field == "title"


# Permissions --------------------------------------------------------------------------------

@pytest.fixture
def people(django_user_model, data_manager):
    def person(name: str, team: str | None):
        user = django_user_model.objects.create_user(username=name, password="x-pass-123456")
        if team:
            TeamMember.objects.create(email=f"{name}@acme.example", name=name, team=team, user=user)
        return user
    return {"owner": person("owner", "marketing"), "teammate": person("teammate", "marketing"),
            "seller": person("seller", "sales"), "loner": person("loner", None), "manager": data_manager}


@pytest.mark.django_db
@pytest.mark.parametrize(("visibility", "who_sees"), [
    ("private", {"owner", "manager"}),
    ("team", {"owner", "teammate", "manager"}),
    ("everyone", {"owner", "teammate", "seller", "loner", "manager"}),
])
def test_who_sees_a_board(people, visibility, who_sees):
    board = board_save(user=people["owner"], data=board_json(visibility=visibility))
    assert board.team == "marketing"
    seen = {name for name, user in people.items() if board_can_view(user=user, board=board)}
    assert seen == who_sees
    listed = {name for name, user in people.items() if board in boards_visible(user)}
    assert listed == who_sees


@pytest.mark.django_db
def test_only_the_owner_and_data_managers_edit(people):
    board = board_save(user=people["owner"], data=board_json(visibility="everyone"))
    editors = {name for name, user in people.items() if board_can_edit(user=user, board=board)}
    assert editors == {"owner", "manager"}


@pytest.mark.django_db
def test_a_reader_may_duplicate_but_not_edit_a_shared_board(client, people):
    board = board_save(user=people["owner"], data=board_json(visibility="everyone"))
    client.force_login(people["seller"])
    assert client.get(reverse("dashboards:board_edit", args=[board.pk])).status_code == 302
    response = client.post(reverse("dashboards:board_copy", args=[board.pk]))
    copy = Board.objects.exclude(pk=board.pk).get()
    assert response["Location"] == reverse("dashboards:board_edit", args=[copy.pk])
    assert (copy.owner, copy.visibility, copy.title) == (people["seller"], "private", "APAC webinar funnel (copy)")
    assert copy.layout["panels"] == board.layout["panels"]


@pytest.mark.django_db
def test_a_private_board_is_not_found_by_others(client, people):
    board = board_save(user=people["owner"], data=board_json())
    client.force_login(people["teammate"])
    assert client.get(reverse("dashboards:board", args=[board.pk])).status_code == 404
    assert client.post(reverse("dashboards:board_copy", args=[board.pk])).status_code == 404
    assert Board.objects.count() == 1


@pytest.mark.django_db
def test_a_role_dashboard_is_duplicated_into_an_editable_board(client, user):
    client.force_login(user)
    client.post(reverse("dashboards:dashboard_copy", args=["executive"]))
    copy = Board.objects.get()
    assert copy.owner == user
    assert copy.title == "Executive (copy)"
    assert [panel["kind"] for panel in copy.layout["panels"]] == ["tile", "velocity", "breakdown", "funnel", "series"]
    assert client.get(reverse("dashboards:board_edit", args=[copy.pk])).status_code == 200


# The API ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_api_create_read_update_delete(api_client, people):
    api_client.force_authenticate(people["owner"])
    created = api_client.post("/api/v1/boards/", board_json(), format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["panels"][1] == {"kind": "breakdown", "metrics": ["leads"], "dimension": "channel",
                                           "width": 1, "filter": {"dimension": "channel", "key": ["email", "social"]},
                                           "window": "ytd"}
    assert api_client.get("/api/v1/boards/").json()["count"] == 1
    changed = api_client.put(f"/api/v1/boards/{pk}/", board_json(title="Mine now", visibility="team"), format="json")
    assert changed.status_code == 200
    assert Board.objects.get(pk=pk).title == "Mine now"

    api_client.force_authenticate(people["teammate"])
    assert api_client.get(f"/api/v1/boards/{pk}/").json()["can_edit"] is False
    assert api_client.put(f"/api/v1/boards/{pk}/", board_json(title="Hijacked"), format="json").status_code == 403
    assert api_client.delete(f"/api/v1/boards/{pk}/").status_code == 403
    api_client.force_authenticate(people["seller"])
    assert api_client.get(f"/api/v1/boards/{pk}/").status_code == 404

    api_client.force_authenticate(people["owner"])
    assert api_client.delete(f"/api/v1/boards/{pk}/").status_code == 204
    assert not Board.objects.exists()


@pytest.mark.django_db
def test_api_refuses_a_bad_board_and_writes_nothing(api_client, people):
    api_client.force_authenticate(people["owner"])
    bad = board_json(panels=[{"kind": "breakdown", "metrics": ["leads"], "dimension": "network"}])
    response = api_client.post("/api/v1/boards/", bad, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "panels[0].dimension"
    assert not Board.objects.exists()
    board = board_save(user=people["owner"], data=board_json())
    assert api_client.put(f"/api/v1/boards/{board.pk}/", bad, format="json").status_code == 400
    board.refresh_from_db()
    assert board.layout["panels"][1]["dimension"] == "channel"


@pytest.mark.django_db
def test_api_takes_a_token(api_client, people):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=people["owner"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.post("/api/v1/boards/", board_json(), format="json").status_code == 201
    api_client.credentials()
    assert api_client.get("/api/v1/boards/").status_code in (401, 403)


# Export → import ----------------------------------------------------------------------------

@pytest.mark.django_db
def test_export_then_import_gives_the_same_board(client, people):
    board = board_save(user=people["owner"], data=board_json(visibility="team", side_by_side=["mtd", "ytd"]))
    client.force_login(people["teammate"])
    exported = client.get(reverse("dashboards:board_export", args=[board.pk]))
    assert exported["Content-Disposition"] == 'attachment; filename="apac-webinar-funnel.board.json"'
    upload = io.BytesIO(exported.content)
    upload.name = "board.json"
    response = client.post(reverse("dashboards:board_import"), {"file": upload})
    imported = Board.objects.exclude(pk=board.pk).get()
    assert response["Location"] == reverse("dashboards:board", args=[imported.pk])
    assert imported.owner == people["teammate"]
    assert imported.as_json() == json.loads(exported.content) == board.as_json()


@pytest.mark.django_db
def test_a_bad_import_says_why_and_writes_nothing(client, user):
    client.force_login(user)
    upload = io.BytesIO(json.dumps(board_json(panels=[{"kind": "tile", "metrics": ["nope"]}])).encode())
    upload.name = "board.json"
    response = client.post(reverse("dashboards:board_import"), {"file": upload}, follow=True)
    assert "panels[0].metrics[0]: unknown metric &#x27;nope&#x27;" in response.content.decode()
    assert not Board.objects.exists()


# Saved views --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_saved_view_save_default_and_link(client, people):
    board = board_save(user=people["owner"], data=board_json(visibility="everyone"))
    client.force_login(people["owner"])
    save_url = reverse("dashboards:view_save", args=[f"board-{board.pk}"])
    response = client.post(save_url, {"name": "Email this year", "window": "ytd", "compare": "last_year",
                                      "filter": "channel:email", "default": "1"})
    view = SavedView.objects.get()
    assert (view.board_key, view.query, view.is_default) == (
        f"board-{board.pk}", "window=ytd&compare=last_year&filter=channel%3Aemail", True)
    assert response["Location"] == f"/boards/{board.pk}/?{view.query}"

    # No window in the URL: the default view opens.
    page = client.get(reverse("dashboards:board", args=[board.pk]))
    assert page.context["state"].window.name == "ytd"
    assert page.context["state"].filters == {"channel": ["email"]}
    assert page.context["default_view"] == view
    # A window in the URL wins over the default.
    assert client.get(reverse("dashboards:board", args=[board.pk]) + "?window=qtd").context["state"].window.name == "qtd"

    # The link opens the view for anyone who can see the board; the view stays its owner's.
    client.force_login(people["seller"])
    link = client.get(reverse("dashboards:view_link", args=[view.token]))
    assert link["Location"] == f"/boards/{board.pk}/?{view.query}"
    page = client.get(reverse("dashboards:board", args=[board.pk]))
    assert page.context["state"].window.name == "mtd"
    assert list(page.context["saved_views"]) == []
    assert "Email this year" not in page.content.decode()
    assert client.post(reverse("dashboards:view_change", args=[view.pk]), {"delete": "1"}).status_code == 404


@pytest.mark.django_db
def test_saved_views_on_a_role_dashboard_and_one_default(client, user):
    client.force_login(user)
    url = reverse("dashboards:view_save", args=["shared"])
    client.post(url, {"name": "Year", "window": "ytd", "default": "1"})
    client.post(url, {"name": "Quarter", "window": "qtd", "default": "1"})
    assert SavedView.objects.get(is_default=True).name == "Quarter"
    assert client.get(reverse("dashboards:dashboard", args=["shared"])).context["state"].window.name == "qtd"
    year = SavedView.objects.get(name="Year")
    client.post(reverse("dashboards:view_change", args=[year.pk]))
    assert SavedView.objects.get(is_default=True).name == "Year"
    assert client.post(url, {"name": "", "window": "ytd"}).status_code == 302
    assert SavedView.objects.count() == 2


@pytest.mark.django_db
def test_a_private_boards_view_link_is_not_found_by_others(client, people):
    board = board_save(user=people["owner"], data=board_json())
    client.force_login(people["owner"])
    client.post(reverse("dashboards:view_save", args=[f"board-{board.pk}"]), {"name": "Mine", "window": "ytd"})
    client.force_login(people["teammate"])
    assert client.get(reverse("dashboards:view_link", args=[SavedView.objects.get().token])).status_code == 404


# The board page -----------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_board_page_draws_widths_fixed_windows_and_edits_at_once(client, people):
    board = board_save(user=people["owner"], data=board_json())
    client.force_login(people["owner"])
    page = client.get(reverse("dashboards:board", args=[board.pk]) + "?window=mtd")
    first, second = page.context["panels"]
    assert (first["span"], second["span"]) == (4, 2)  # two thirds, one third of a 6-unit row
    assert first["own_window"] is None
    assert second["own_window"].name == "ytd"
    assert second["title"] == "Leads by channel"
    assert second["own_filter"] == "Email, Social"
    # the page cache is keyed by the layout: an edit shows on the next request
    board_save(user=people["owner"], board=board, data=board_json(panels=[
        {"kind": "tile", "metrics": ["leads"], "title": "Just leads", "width": 3}]))
    page = client.get(reverse("dashboards:board", args=[board.pk]) + "?window=mtd")
    assert [panel["title"] for panel in page.context["panels"]] == ["Just leads"]
    assert page.context["panels"][0]["span"] == 6
