"""Every role dashboard shows the same numbers as before role dashboards became board
definitions (the fixture comes from the previous renderer; see role_numbers.py)."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command

from smarketing.dashboards.layouts import DASHBOARDS
from smarketing.dashboards.params import DashboardState
from smarketing.funnel import demo
from smarketing.kpis.windows import window_for
from tests.dashboards import role_numbers

NOON = dt.datetime.combine(role_numbers.TODAY, dt.time(12), tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), time_machine.travel(NOON, tick=False):
        demo.demo_seed(contacts=400, seed=1, today=role_numbers.TODAY)
        call_command("recompute_kpis", "--full")
        try:
            yield
        finally:
            demo.demo_clear()
            call_command("recompute_kpis", "--full")


def render_all() -> dict:
    from smarketing.dashboards.selectors import dashboard_page

    out = {}
    for key, dashboard in DASHBOARDS.items():
        for name in role_numbers.WINDOWS:
            cache.clear()
            page = dashboard_page(dashboard=dashboard, state=DashboardState(window=window_for(name)))
            out[f"{key}:{name}"] = role_numbers.page_numbers(page)
    # as JSON reads it back (tuples become lists)
    return json.loads(json.dumps(out))


@pytest.mark.django_db
def test_every_role_dashboard_shows_the_numbers_it_showed_before(seeded):
    with time_machine.travel(NOON, tick=False):
        numbers = render_all()
    assert len(numbers) == 22
    if os.environ.get("CAPTURE_ROLE_NUMBERS"):
        role_numbers.save(numbers)
    expected = role_numbers.load()
    assert sorted(numbers) == sorted(expected)
    for name in expected:
        assert numbers[name] == expected[name], name


@pytest.mark.django_db
def test_a_role_dashboard_duplicated_into_a_board_shows_the_same_numbers(seeded):
    """The board JSON expresses every role dashboard whole: its copy renders what it renders."""
    from smarketing.dashboards.boards import board_validate, definition_layout, role_definition
    from smarketing.dashboards.selectors import dashboard_page

    expected = role_numbers.load()
    with time_machine.travel(NOON, tick=False):
        for key in DASHBOARDS:
            layout = definition_layout(board_validate(role_definition(key)), key="board-1")
            for name in role_numbers.WINDOWS:
                cache.clear()
                page = dashboard_page(dashboard=layout, state=DashboardState(window=window_for(name)))
                numbers = json.loads(json.dumps(role_numbers.page_numbers(page)))
                assert numbers == expected[f"{key}:{name}"], f"{key}:{name}"
