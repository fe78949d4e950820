"""Conditions, hand-computed at and around each boundary."""

from __future__ import annotations

import pytest

from smarketing.alerts.conditions import (
    RuleError,
    change_percent,
    condition_clean,
    condition_holds,
    target_clean,
)


@pytest.mark.parametrize(("value", "expected"), [(9.99, True), (10, False), (10.01, False), (0, True)])
def test_below_fires_strictly_under_the_number(value, expected):
    assert condition_holds({"type": "below", "value": 10.0}, value=value, previous=None) is expected


@pytest.mark.parametrize(("value", "expected"), [(10.01, True), (10, False), (-3, False)])
def test_above_fires_strictly_over_the_number(value, expected):
    assert condition_holds({"type": "above", "value": 10.0}, value=value, previous=None) is expected


def test_change_is_relative_to_the_previous_period():
    # 80 after 100: (80 - 100) / 100 = -20 %; 130 after 100: +30 %; after -50: (−25 − −50)/50 = +50 %.
    assert change_percent(80, 100) == -20.0
    assert change_percent(130, 100) == 30.0
    assert change_percent(-25, -50) == 50.0


@pytest.mark.parametrize(("value", "direction", "expected"), [
    (120, "any", False),  # +20 % is not beyond 20 %
    (120.5, "any", True),  # +20.5 %
    (79, "any", True),  # -21 %
    (80, "any", False),  # -20 %
    (121, "up", True),
    (79, "up", False),
    (79, "down", True),
    (121, "down", False),
])
def test_change_fires_beyond_the_percentage_in_its_direction(value, direction, expected):
    condition = {"type": "change", "percent": 20.0, "direction": direction}
    assert condition_holds(condition, value=value, previous=100) is expected


def test_no_value_and_no_previous_have_no_answer():
    assert condition_holds({"type": "below", "value": 1.0}, value=None, previous=None) is None
    change = {"type": "change", "percent": 10.0, "direction": "any"}
    assert condition_holds(change, value=5, previous=0) is None
    assert condition_holds(change, value=5, previous=None) is None


@pytest.mark.parametrize(("raw", "field", "words"), [
    ({"type": "trend"}, "condition.type", "not one of below, above, change, attention"),
    ({"type": "below"}, "condition.value", "needs a number"),
    ({"type": "above", "value": "ten"}, "condition.value", "is not a number"),
    ({"type": "above", "value": True}, "condition.value", "is not a number"),
    ({"type": "change", "percent": 0}, "condition.percent", "must be above 0"),
    ({"type": "change", "percent": 5, "direction": "sideways"}, "condition.direction", "not one of"),
    ({"type": "below", "value": 1, "percent": 3}, "condition.percent", "not a field"),
    ("below 3", "condition", "must be an object"),
])
def test_bad_conditions_name_the_field(raw, field, words):
    with pytest.raises(RuleError) as caught:
        condition_clean(raw)
    assert caught.value.field == field
    assert words in caught.value.message


def test_clean_condition_is_stored_with_floats_and_a_direction():
    assert condition_clean({"type": "below", "value": 3}) == {"type": "below", "value": 3.0}
    assert condition_clean({"type": "change", "percent": 15}) == {"type": "change", "percent": 15.0,
                                                                  "direction": "any"}


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"metric": "nope", "dimension": "", "key": "", "window": "mtd"}, "metric"),
    ({"metric": "leads", "dimension": "", "key": "", "window": "custom"}, "window"),
    ({"metric": "leads", "dimension": "page", "key": "/x", "window": "mtd"}, "dimension"),
    ({"metric": "leads", "dimension": "channel", "key": "", "window": "mtd"}, "key"),
    ({"metric": "leads", "dimension": "", "key": "email", "window": "mtd"}, "dimension"),
])
def test_targets_the_query_cannot_answer_are_refused(kwargs, field):
    with pytest.raises(RuleError) as caught:
        target_clean(**kwargs)
    assert caught.value.field == field


def test_a_slice_the_metric_carries_is_accepted():
    target_clean(metric="leads", dimension="channel", key="email", window="last_30")
