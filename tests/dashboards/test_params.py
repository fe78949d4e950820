"""The dashboard state lives in the URL."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.http import QueryDict

from smarketing.dashboards.params import state_from_query


@time_machine.travel(dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC))
def test_default_is_month_to_date():
    state = state_from_query(QueryDict(""))
    assert (state.window.name, state.window.start, state.window.end) == ("mtd", dt.date(2026, 3, 1), dt.date(2026, 3, 15))
    assert state.filters is None and state.errors == ()


@time_machine.travel(dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC))
def test_qtd_follows_the_fiscal_year(settings):
    settings.FISCAL_YEAR_START_MONTH = 2
    state = state_from_query(QueryDict("window=qtd"))
    assert state.window.start == dt.date(2026, 2, 1)


def test_custom_window_and_filters_round_trip_through_the_query():
    state = state_from_query(QueryDict(
        "window=custom&start=2026-01-05&end=2026-02-10&compare=complete&filter=channel:social&filter=channel:paid_social"))
    assert (state.window.start, state.window.end) == (dt.date(2026, 1, 5), dt.date(2026, 2, 10))
    assert state.compare_complete is True
    assert state.filters == {"channel": ["social", "paid_social"]}
    again = state_from_query(QueryDict(state.query()))
    assert again == state


def test_a_second_filter_dimension_is_left_out_and_said_so():
    state = state_from_query(QueryDict("filter=owner:ann@x.com&filter=channel:email"))
    assert state.filters == {"owner": ["ann@x.com"]}
    assert "one dimension at a time" in state.errors[0]


@time_machine.travel(dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC))
def test_a_bad_window_falls_back_to_mtd_and_says_why():
    state = state_from_query(QueryDict("window=custom&start=2026-03-10&end=2026-03-01"))
    assert state.window.name == "mtd"
    assert "after end" in state.errors[0]


def test_as_of_pins_the_window_and_stays_in_the_query():
    state = state_from_query(QueryDict("window=ytd&as_of=2025-06-30"))
    assert (state.window.start, state.window.end) == (dt.date(2025, 1, 1), dt.date(2025, 6, 30))
    assert "as_of=2025-06-30" in state.query(window="mtd")


@pytest.mark.parametrize(("query", "compare", "param"), [
    ("window=mtd", "previous_period", ""),
    ("window=mtd&compare=complete", "complete_previous_period", "complete"),
    ("window=mtd&compare=last_year", "same_period_last_year", "last_year"),
    ("window=mtd&compare=same_period_last_year", "same_period_last_year", "last_year"),
])
def test_compare_choice_round_trips_through_the_url(query, compare, param):
    state = state_from_query(QueryDict(query))
    assert (state.compare, state.compare_param) == (compare, param)
    assert state_from_query(QueryDict(state.query())).compare == compare


def test_unknown_compare_falls_back_and_says_why():
    state = state_from_query(QueryDict("window=mtd&compare=yesterday"))
    assert state.compare == "previous_period"
    assert state.errors[0].startswith("compare: 'yesterday' is not a comparison")
