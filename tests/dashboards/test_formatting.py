"""Numbers for people, as the web and the digest show them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smarketing.dashboards.formatting import format_delta, format_value


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (None, "count", "—"),
        (None, "percent", "—"),
        (0, "count", "0"),
        (950, "count", "950"),
        (1234, "count", "1.2k"),
        (45_300, "count", "45.3k"),
        (999_960, "count", "1.0M"),
        (3_400_000, "count", "3.4M"),
        (2_500_000_000, "count", "2.5B"),
        (-1500, "count", "-1.5k"),
        (45_300, "currency", "$45,300"),
        (Decimal("45300.40"), "currency", "$45,300"),
        (12.345, "currency", "$12.35"),
        (40, "currency", "$40"),
        (1_250_000, "currency", "$1.2M"),
        (-200, "currency", "-$200"),
        (23.5, "percent", "23.5 %"),
        (100, "percent", "100.0 %"),
        (12.34, "days", "12.3 days"),
        (2.44, "ratio", "2.4×"),
        (1234.5, "currency_per_day", "$1,234/day"),
        (float("nan"), "count", "—"),
    ],
)
def test_format_value(value, unit, text):
    assert format_value(value, unit) == text


def test_currency_symbol_follows_the_currency_setting(settings):
    settings.CURRENCY = "EUR"
    assert format_value(45300, "currency") == "€45,300"
    settings.CURRENCY = "CHF"
    assert format_value(45300, "currency") == "CHF 45,300"


def test_delta_up_is_good_when_higher_is_better():
    assert format_delta(108, 100, "up") == {"text": "+8.0 %", "good": True, "arrow": "▲"}


def test_delta_up_is_bad_when_lower_is_better():
    assert format_delta(108, 100, "down") == {"text": "+8.0 %", "good": False, "arrow": "▲"}


def test_delta_down_is_good_when_lower_is_better():
    assert format_delta(45, 60, "down") == {"text": "-25.0 %", "good": True, "arrow": "▼"}


def test_delta_of_a_negative_previous_value_is_relative_to_its_size():
    # ROI from -50 % to -25 %: up by half of 50, good news when higher is better
    assert format_delta(-25, -50, "up") == {"text": "+50.0 %", "good": True, "arrow": "▲"}


@pytest.mark.parametrize(("value", "previous"), [(None, 10), (10, None), (None, None), (10, 0)])
def test_delta_is_neutral_without_both_sides(value, previous):
    assert format_delta(value, previous, "up") == {"text": "—", "good": None, "arrow": ""}


def test_delta_without_change_is_neutral():
    assert format_delta(Decimal("50"), 50.0, "up") == {"text": "±0.0 %", "good": None, "arrow": ""}
