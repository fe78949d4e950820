"""The judgement rules as plain functions, each with hand-computed values and its boundaries."""

from __future__ import annotations

import datetime as dt

import pytest

from smarketing.kpis import judgement as j


def test_wilson_boundary_against_a_35_percent_target():
    # 25/100: p = .25, centre (.25 + 1.9208/100) / 1.038416 = .259; half-width .0838 → upper 34.30 %.
    _low, high = j.wilson_interval(25, 100)
    assert high * 100 == pytest.approx(34.30, abs=0.005)
    assert j.rate_status(numerator=25, denominator=100, target_pct=35.0, direction="up") == "below_target"
    # 26/100: upper 35.37 % reaches past 35 %: the shortfall may be noise.
    assert j.wilson_interval(26, 100)[1] * 100 == pytest.approx(35.37, abs=0.005)
    assert j.rate_status(numerator=26, denominator=100, target_pct=35.0, direction="up") == "inconclusive"


def test_wilson_small_denominator_and_good_side():
    # 29 is under the 30 minimum even at 0 %; 30 at 0 % is far below 35 %.
    assert j.rate_status(numerator=0, denominator=29, target_pct=35.0, direction="up") == "inconclusive"
    assert j.rate_status(numerator=0, denominator=30, target_pct=35.0, direction="up") == "below_target"
    # 60/100: lower bound 50.2 % > 35 %: on target. 40/100: interval (30.9 %, 49.7 %) holds 35 %.
    assert j.rate_status(numerator=60, denominator=100, target_pct=35.0, direction="up") == "on_target"
    assert j.rate_status(numerator=40, denominator=100, target_pct=35.0, direction="up") == "inconclusive"
    # Lower is better (bounce rate): 60/100 against a 35 % ceiling is below target.
    assert j.rate_status(numerator=60, denominator=100, target_pct=35.0, direction="down") == "below_target"
    assert j.rate_status(numerator=25, denominator=100, target_pct=35.0, direction="down") == "on_target"
    assert j.rate_status(numerator=0, denominator=0, target_pct=35.0, direction="up") is None


def test_wilson_clips_p():
    # A numerator above the denominator cannot happen in a cohort, but p stays in [0, 1].
    low, high = j.wilson_interval(120, 100)
    assert high <= 1.0 + 1e-12 and low == pytest.approx(j.wilson_interval(100, 100)[0])


def test_pace_projection_and_rounding_half_up():
    # 1,000 leads a 30-day month, 5 days elapsed: pace 166.67 → 167; 150 leads → projection 900.
    out = j.pace_judgement(value=150, target=1000, elapsed=5, period_days=30, direction="up", unit="count")
    assert out == {"pace": 167, "projection": 900, "status": "behind"}
    # Half up: 1,000 × 3 / 4 = 750; 10 × 1 / 4 = 2.5 → 3 (not banker's 2); 3 ≥ 3 is ahead.
    assert j.pace_judgement(value=3, target=10, elapsed=1, period_days=4, direction="up", unit="count") == \
        {"pace": 3, "projection": 12, "status": "ahead"}
    # Currency to cents: $1,000.25 × 1 / 8 = 125.03125 → 125.03.
    out = j.pace_judgement(value=125.03, target=1000.25, elapsed=1, period_days=8, direction="up", unit="currency")
    assert out["pace"] == 125.03 and out["status"] == "ahead" and out["projection"] == 1000.24


def test_pace_zero_elapsed_and_complete_period():
    assert j.pace_judgement(value=4, target=100, elapsed=0, period_days=31, direction="up", unit="count") == \
        {"pace": 0, "projection": None, "status": None}
    done = j.pace_judgement(value=99, target=100, elapsed=31, period_days=31, direction="up", unit="count")
    assert done["status"] == "missed" and done["pace"] == 100
    assert j.pace_judgement(value=100, target=100, elapsed=31, period_days=31, direction="up",
                            unit="count")["status"] == "met"
    # Spend is better low: over pace is behind.
    assert j.pace_judgement(value=600, target=1000, elapsed=15, period_days=30, direction="down",
                            unit="currency")["status"] == "behind"


def test_elapsed_days_are_complete_days():
    start, end = dt.date(2026, 3, 1), dt.date(2026, 3, 31)
    # A window ending today on the 1st: 0 complete days; on the 6th: 5.
    assert j.elapsed_days(period_start=start, period_end=end, window_end=dt.date(2026, 3, 1),
                          today=dt.date(2026, 3, 1)) == 0
    assert j.elapsed_days(period_start=start, period_end=end, window_end=dt.date(2026, 3, 6),
                          today=dt.date(2026, 3, 6)) == 5
    # A window in the past counts through its end; never past the period.
    assert j.elapsed_days(period_start=start, period_end=end, window_end=dt.date(2026, 3, 15),
                          today=dt.date(2026, 6, 1)) == 15
    assert j.elapsed_days(period_start=start, period_end=end, window_end=dt.date(2026, 3, 31),
                          today=dt.date(2026, 6, 1)) == 31


def test_direct_status():
    assert j.direct_status(value=24000, target=24000, direction="up") == "on_target"
    assert j.direct_status(value=23999.99, target=24000, direction="up") == "below_target"
    assert j.direct_status(value=51, target=50, direction="down") == "below_target"
    assert j.direct_status(value=None, target=50, direction="down") is None


def test_count_change_around_the_poisson_threshold():
    # x₀ = 100: 1.96 √174 = 25.85 → a fall to 74 (gap 26) is significant, to 75 (gap 25, 1.96 √175 = 25.93) not.
    assert j.change(value=74, previous=100, klass=j.POISSON)["significant"] is True
    assert j.change(value=75, previous=100, klass=j.POISSON)["significant"] is False
    out = j.change(value=74, previous=100, klass=j.POISSON)
    assert out == {"absolute": -26.0, "relative": -0.26, "significant": True, "direction": "down"}


def test_the_ten_percent_floor():
    # x₀ = 10,000: the Poisson bound is 1.96 √19,050 = 270.5, the floor 1,000.
    assert j.change(value=9050, previous=10000, klass=j.POISSON)["significant"] is False
    assert j.change(value=9000, previous=10000, klass=j.POISSON)["significant"] is True
    # Rates: 5,000/10,000 vs 5,200/10,000 has z = −2.83 but differs by 3.8 % of 52 %: not significant.
    assert j.proportions_significant(5000, 10000, 5200, 10000) is False
    # 20/100 vs 40/100: pooled .3, z = −.2 / √(.21 × .02) = −3.09, and 50 % of the previous rate.
    assert j.proportions_significant(20, 100, 40, 100) is True
    # 30/100 vs 40/100: z = −1.46: noise.
    assert j.proportions_significant(30, 100, 40, 100) is False


def test_change_edge_cases():
    assert j.change(value=None, previous=3, klass=j.POISSON) is None
    assert j.change(value=5, previous=5, klass=j.POISSON) == {"absolute": 0.0, "relative": 0.0,
                                                               "significant": False, "direction": None}
    assert j.change(value=5, previous=0, klass=j.POISSON)["relative"] is None
    # 1.96 √5 = 4.38: a jump from 0 to 5 is significant (the floor of 0 is 0).
    assert j.change(value=5, previous=0, klass=j.POISSON)["significant"] is True
    assert j.proportions_significant(0, 0, 3, 10) is False
    assert j.proportions_significant(0, 10, 0, 10) is False  # no variance
    # Currency: 25 % of |previous|.
    assert j.change(value=75, previous=100, klass=j.LUMPY)["significant"] is True
    assert j.change(value=75.01, previous=100, klass=j.LUMPY)["significant"] is False
    assert j.change(value=1, previous=100, klass=j.NEVER)["significant"] is False


def test_classes_of_the_catalogue():
    assert j.target_class(key="leads", unit="count", kind="flow") == j.SUM
    assert j.target_class(key="revenue_pipeline", unit="currency", kind="derived") == j.SUM
    assert j.target_class(key="blog_subscriber_growth", unit="count", kind="derived") == j.SUM
    assert j.target_class(key="reach", unit="count", kind="stock") == j.DIRECT
    assert j.target_class(key="average_deal_size", unit="currency", kind="ratio") == j.DIRECT
    assert j.target_class(key="roi", unit="percent", kind="ratio") == j.DIRECT
    assert j.target_class(key="lead_to_mql_rate", unit="percent", kind="cohort") == j.RATE
    assert j.change_class(key="leads", unit="count", kind="flow") == j.POISSON
    assert j.change_class(key="reach", unit="count", kind="stock") == j.NEVER
    assert j.change_class(key="blog_subscriber_growth", unit="count", kind="derived") == j.NEVER
    assert j.change_class(key="roi", unit="percent", kind="ratio") == j.NEVER
    assert j.change_class(key="win_rate", unit="percent", kind="ratio") == j.PROPORTIONS
    assert j.change_class(key="revenue", unit="currency", kind="flow") == j.LUMPY
    assert j.change_class(key="avg_sales_cycle_days", unit="days", kind="average") == j.LUMPY
    assert j.change_class(key="open_pipeline", unit="currency", kind="stock") == j.NEVER
    assert j.change_class(key="ltv_to_cac", unit="ratio", kind="derived") == j.NEVER
    assert j.change_class(key="pipeline_velocity", unit="currency_per_day", kind="derived") == j.NEVER


def test_behind_enough_and_bad_direction():
    target = {"value": 1000, "projection": 949, "elapsed_days": 7}
    assert j.behind_enough(target=target, direction="up") is True
    assert j.behind_enough(target={**target, "projection": 950}, direction="up") is False
    assert j.behind_enough(target={**target, "elapsed_days": 6}, direction="up") is False
    assert j.behind_enough(target={**target, "projection": 1051}, direction="down") is True
    assert j.bad_direction(change_direction="down", metric_direction="up") is True
    assert j.bad_direction(change_direction="down", metric_direction="down") is False
    assert j.bad_direction(change_direction=None, metric_direction="up") is False
