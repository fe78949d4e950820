"""Numbers for people, as the web and the digest show them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smarketing.kpis.formatting import format_delta, format_value


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


def test_arrows_follow_the_value_and_colour_follows_the_metric():
    # churn down from 5 to 4: ▼ (it went down), good (lower is better)
    assert format_delta(4, 5, "down") == {"text": "-20.0 %", "good": True, "arrow": "▼"}
    # leads down from 100 to 80: ▼ and bad
    assert format_delta(80, 100, "up") == {"text": "-20.0 %", "good": False, "arrow": "▼"}


@pytest.mark.parametrize(("values", "unit", "texts"), [
    # the "$1.1M / $965,000": one scale in one cell
    ([1_100_000, 965_000], "currency", ["$1.10M", "$0.97M"]),
    ([2_500_000, 1_250_000], "currency", ["$2.5M", "$1.3M"]),  # half up
    ([45_300.4, 12.35], "currency", ["$45,300", "$12"]),
    ([40, 12.35], "currency", ["$40", "$12.35"]),
    ([1234, 980], "count", ["1,234", "980"]),
    ([982.8, None], "count", ["983", "—"]),
    ([3_400_000, 900_000], "count", ["3.40M", "0.90M"]),
    ([21.7, 35], "percent", ["21.7 %", "35.0 %"]),
])
def test_format_values_share_one_scale(values, unit, texts):
    from smarketing.kpis.formatting import format_values

    assert format_values(values, unit) == texts


@pytest.mark.parametrize(("value", "unit", "rounded"), [
    (982.5, "count", 983), (982.49, "count", 982), (0.5, "count", 1), (1304.995, "currency", 1305.0),
    (12.345, "currency", 12.35), (21.74, "percent", 21.74), (None, "count", None),
])
def test_round_like_value_rounds_half_up_like_the_value(value, unit, rounded):
    from smarketing.kpis.formatting import round_like_value

    assert round_like_value(value, unit) == rounded


def test_target_detail_gives_the_real_gap_to_pace():
    from smarketing.kpis.formatting import target_detail, target_status

    # the "$7.0M behind pace · pace $7.0M" for a $1,305 gap
    target = {"value": 12_000_000, "pace": 7_000_000, "projection": 11_997_762.86, "status": "behind"}
    assert target_status(target) == ("Behind pace", "bad")
    assert target_detail(6_998_695, target, "currency") == "by $1,305 · target $12.0M · heading for $12.0M"
    # counts: projection rounded like the value ("heading for 983", never 982.8)
    target = {"value": 1000, "pace": 451.6, "projection": 982.8, "status": "behind"}
    assert target_detail(81, target, "count") == "by 371 · target 1,000 · heading for 983"
    # lower-is-better spend under pace is ahead, by the gap
    target = {"value": 31_000, "pace": 10_000, "projection": 24_800, "status": "ahead"}
    assert target_detail(8_000, target, "currency") == "by $2,000 · target $31,000 · heading for $24,800"
    # a finished period: no pace words
    assert target_detail(900, {"value": 1000, "pace": 1000, "projection": 900, "status": "missed"},
                         "count") == "target 1,000"


@pytest.mark.parametrize(("target", "words"), [
    # a rate has no pace: never "behind pace" on a percentage
    ({"value": 35, "pace": None, "status": "behind"}, ("Below target", "bad")),
    ({"value": 35, "pace": None, "status": "ahead"}, ("On target", "good")),
    ({"value": 35, "pace": None, "status": "below_target"}, ("Below target", "bad")),
    ({"value": 35, "pace": None, "status": "inconclusive"}, ("Too close to call", "neutral")),
    ({"value": 35, "pace": None, "status": "maturing"}, ("Too early to judge", "neutral")),
    ({"value": 100, "pace": 50, "status": "ahead"}, ("Ahead of pace", "good")),
    ({"value": 100, "pace": 100, "status": "met"}, ("Target met", "good")),
    ({"value": 100, "pace": None, "status": None}, ("—", "neutral")),
])
def test_target_status_words(target, words):
    from smarketing.kpis.formatting import target_detail, target_status

    assert target_status(target) == words
    if target["pace"] is None:
        assert "pace" not in target_detail(30, target, "percent")


def test_target_sentence_reads_on_from_the_status():
    from smarketing.kpis.formatting import target_detail, target_sentence

    rate = {"value": 90, "pace": None, "projection": None, "status": "behind"}
    assert target_detail(80, rate, "percent") == "of 90.0 %"
    assert target_sentence(80, rate, "percent") == "Below target of 90.0 %"
    sums = {"value": 229, "pace": 227.4, "projection": 227, "status": "behind"}
    assert target_sentence(208, sums, "count") == "Behind pace by 19 · target 229 · heading for 227"
    done = {"value": 21, "pace": 21, "projection": 19, "status": "missed"}
    assert target_sentence(19, done, "count") == "Target missed · target 21"
    assert target_sentence(19, {"value": 21, "pace": 21, "status": None}, "count") == "target 21"
