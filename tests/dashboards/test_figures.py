"""Figure builders: pure functions from KPI results to Plotly figure dicts."""

from __future__ import annotations

import datetime as dt
import json

import plotly.graph_objects as go
import pytest

from smarketing.dashboards import figures


def _result(metric, value, *, label=None, unit="count", previous=None, breakdown=None):
    result = {"metric": metric, "label": label or metric, "unit": unit, "value": value,
              "numerator": None, "denominator": None, "previous": {"value": previous}, "target": None}
    if breakdown is not None:
        result["breakdown"] = breakdown
    return result


def _valid(figure: dict) -> dict:
    """plotly's own validator rejects unknown properties; JSON round trip proves serialisable."""
    go.Figure(figure)
    return json.loads(json.dumps(figure))


FUNNEL = [
    _result("visits", 10000, label="Visits", previous=8000),
    _result("leads", 400, label="Leads", previous=320),
    _result("mqls", 100, label="MQLs", previous=90),
    _result("sqls", 60, label="SQLs", previous=50),
    _result("opportunities", 30, label="Opportunities", previous=20),
    _result("customers", 6, label="Customers", previous=5),
]


# Year to date: 4 % visits → leads, 20 % leads → MQLs, 75 % MQLs → SQLs, 40 %, 25 %.
NORMS = [
    _result("visits", 100000), _result("leads", 4000), _result("mqls", 800), _result("sqls", 600),
    _result("opportunities", 240), _result("customers", 50),
]


def test_funnel_steps_carry_each_steps_ratio_and_flag_the_step_furthest_below_its_year_to_date():
    steps = figures.funnel_steps(FUNNEL, NORMS)
    # 400/10000 = 4 %, 100/400 = 25 %, 60/100 = 60 %, 30/60 = 50 %, 6/30 = 20 %
    assert [step["rate"] for step in steps] == [None, 4.0, 25.0, 60.0, 50.0, 20.0]
    # against the year: 4/4 = 1.0, 25/20 = 1.25, 60/75 = 0.8, 50/40 = 1.25, 20/(50/240 = 20.83) = 0.96
    assert [step["weakest"] for step in steps] == [False, False, False, True, False, False]
    assert steps[2]["rate_label"] == "MQLs per 100 leads this period"
    assert steps[2]["rate_text"] == "25.0 MQLs per 100 leads"


def test_weakest_step_without_norms_is_the_smallest_ratio():
    assert figures.weakest_step([10000, 400, 100, 60, 30, 6]) == 1
    # a step whose norm is missing (0 before it in the year) counts its own ratio
    assert figures.weakest_step([100, 50, 45], [0, 10, 9]) == 1
    assert figures.weakest_step([0, 5]) is None


def test_funnel_step_after_a_zero_has_no_rate():
    steps = figures.funnel_steps([_result("visits", 0), _result("leads", 5), _result("mqls", None)])
    assert [step["rate"] for step in steps] == [None, None, None]
    assert not any(step["weakest"] for step in steps)


def test_funnel_figure_shows_visits_as_a_number_and_leads_to_customers_as_bars():
    figure = _valid(figures.figure_funnel(FUNNEL, compare_previous=True, norms=NORMS))
    current, previous = figure["data"]
    assert current["type"] == "funnel"
    # visits would dwarf customers 1,666 to 1: they are the caption, not a bar
    assert current["x"] == [400, 100, 60, 30, 6]
    assert figure["layout"]["annotations"][0]["text"] == "Visits: 10.0k"
    assert current["marker"]["color"] == [figures.ACCENT, figures.ACCENT, figures.BAD, figures.ACCENT,
                                          figures.ACCENT]
    assert current["text"][0] == "400 · 4.0 leads per 100 visits"
    assert current["text"][1] == "100 · 25.0 MQLs per 100 leads"
    assert not any("%" in text for text in current["text"])  # a step ratio is never shown as a rate
    assert previous["x"] == [320, 90, 50, 20, 5]
    assert figure["layout"]["showlegend"] is True


def test_series_figure_puts_a_second_unit_on_a_right_axis():
    day = dt.date(2026, 3, 1)
    points = [{"start": day + dt.timedelta(days=i), "end": day + dt.timedelta(days=i), "value": v}
              for i, v in enumerate([3, None, 5])]
    figure = _valid(figures.figure_series(
        [{"label": "Revenue", "unit": "currency", "points": points},
         {"label": "Open rate", "unit": "percent", "points": points}], grain="day"))
    first, second = figure["data"]
    assert first["x"] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert first["y"] == [3.0, None, 5.0]
    assert "yaxis" not in first and second["yaxis"] == "y2"
    assert figure["layout"]["yaxis2"]["ticksuffix"] == " %"
    assert first["text"] == ["$3", "—", "$5"]


BREAKDOWN = [
    _result("revenue", 600, unit="currency", breakdown=[
        {"key": "a@x.com", "label": "Ann", "value": 100, "target": {"value": 150}},
        {"key": "b@x.com", "label": "Bob", "value": 500, "target": {"value": 400}},
    ]),
    _result("win_rate", 50.0, unit="percent", breakdown=[
        {"key": "a@x.com", "label": "Ann", "value": 25.0},
        {"key": "c@x.com", "label": "Cy", "value": None},
    ]),
]


def test_breakdown_rows_union_the_keys_biggest_first():
    rows = figures.breakdown_rows(BREAKDOWN)
    assert [row["label"] for row in rows] == ["Bob", "Ann", "Cy"]
    assert rows[1]["cells"]["win_rate"]["value"] == 25.0


def test_breakdown_rows_keep_the_top_items():
    many = [_result("entrances", 0, breakdown=[{"key": f"/p{i}", "value": i} for i in range(25)])]
    rows = figures.breakdown_rows(many, top=10)
    assert [row["key"] for row in rows] == [f"/p{i}" for i in range(24, 14, -1)]


def test_breakdown_figures_split_by_unit_and_mark_targets():
    money, percent = (_valid(figure) for figure in figures.figures_breakdown(BREAKDOWN))
    bars, targets = money["data"]
    # biggest on top = last in plotly's category order
    assert bars["y"] == ["Cy", "Ann", "Bob"]
    assert bars["x"] == [None, 100.0, 500.0]
    assert targets["x"] == [None, 150.0, 400.0]
    assert percent["data"][0]["x"] == [None, 25.0, None]
    assert percent["layout"]["xaxis"]["ticksuffix"] == " %"


def test_breakdown_without_items_draws_nothing():
    assert figures.figures_breakdown([_result("leads", 0, breakdown=[])]) == []


SLA = [
    _result("leads_delivered", 150, breakdown=[
        {"key": "a@x.com", "label": "Ann", "value": 120, "target": {"value": 100}},
        {"key": "b@x.com", "label": "Bob", "value": 30, "target": {"value": 100}},
    ]),
    _result("leads_worked_rate", 80.0, unit="percent", breakdown=[
        {"key": "a@x.com", "label": "Ann", "value": 95.0}, {"key": "b@x.com", "label": "Bob", "value": 40.0}]),
    _result("sla_attempt_compliance", 50.0, unit="percent", breakdown=[
        {"key": "a@x.com", "label": "Ann", "value": 60.0}, {"key": "b@x.com", "label": "Bob", "value": 10.0}]),
]


def test_sla_delivered_colours_reps_by_whether_they_reached_the_sla():
    figure = _valid(figures.figure_sla_delivered(SLA))
    bars, line = figure["data"]
    assert bars["y"] == ["Bob", "Ann"]
    assert bars["marker"]["color"] == [figures.WARN, figures.GOOD]
    assert line["x"] == [100.0, 100.0]


def test_sla_worked_draws_the_worked_target_line():
    figure = _valid(figures.figure_sla_worked(SLA, worked_target=90.0))
    worked, compliance = figure["data"]
    assert worked["x"] == [40.0, 95.0] and compliance["x"] == [10.0, 60.0]
    assert figure["layout"]["shapes"][0]["x0"] == 90.0


def test_velocity_compares_with_the_previous_period():
    figure = _valid(figures.figure_velocity([
        _result("avg_days_lead_to_mql", 4.5, label="Lead → MQL", unit="days", previous=6.0),
        _result("avg_days_mql_to_sql", None, label="MQL → SQL", unit="days", previous=2.0),
    ]))
    current, previous = figure["data"]
    assert current["y"] == ["MQL → SQL", "Lead → MQL"]
    assert current["x"] == [None, 4.5] and previous["x"] == [2.0, 6.0]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 2], ["0.0,28.0 120.0,2.0"]),
        ([5, 5, 5], ["0.0,28.0 60.0,28.0 120.0,28.0"]),
        # a lone point before a gap draws no line
        ([1, None, 2, 3], ["80.0,15.0 120.0,2.0"]),
        ([None, None], []),
        ([7], []),
    ],
)
def test_sparkline_points_scale_into_the_box_and_break_at_gaps(values, expected):
    assert figures.sparkline_points(values) == expected


def test_small_counts_tick_at_whole_numbers():
    figure = _valid(figures.figures_breakdown([_result("deals_won", 3, breakdown=[
        {"key": "a", "label": "Ann", "value": 2}, {"key": "b", "label": "Bob", "value": 1}])])[0])
    assert figure["layout"]["xaxis"]["dtick"] == 1
    big = _valid(figures.figures_breakdown([_result("leads", 3, breakdown=[{"key": "a", "value": 2500}])])[0])
    assert "dtick" not in big["layout"]["xaxis"]


def test_todays_point_is_drawn_apart_not_as_a_drop():
    day = dt.date(2026, 3, 1)
    points = [{"start": day + dt.timedelta(days=i), "end": day + dt.timedelta(days=i), "value": v}
              for i, v in enumerate([30, 32, 4])]
    figure = _valid(figures.figure_series([{"label": "Leads", "unit": "count", "points": points}], grain="day",
                                          today=dt.date(2026, 3, 3)))
    line, today = figure["data"]
    assert line["y"] == [30.0, 32.0, None]  # the complete days only
    assert today["x"] == ["2026-03-02", "2026-03-03"] and today["y"] == [32.0, 4.0]
    assert today["line"]["dash"] == "dot" and today["marker"]["symbol"][-1] == "circle-open"
    assert today["texttemplate"] == ["", "today so far"]
    # a window that ended before today has no partial point
    figure = figures.figure_series([{"label": "Leads", "unit": "count", "points": points}], grain="day",
                                   today=dt.date(2026, 3, 4))
    assert len(figure["data"]) == 1 and figure["data"][0]["y"] == [30.0, 32.0, 4.0]


def test_sparkline_leaves_today_off_the_line_and_marks_it():
    values = [10, 20, 0]
    # 10 and 20 on a 0..20 scale; the 0 of today is not joined to them
    assert figures.sparkline_points(values, partial=2) == ["0.0,15.0 60.0,2.0"]
    assert figures.sparkline_partial(values, 2) == {"x": "120.0", "y": "28.0"}
    assert figures.sparkline_partial(values, None) is None
