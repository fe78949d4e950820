"""The window type against the catalogue's window table and previous-period rules."""

from __future__ import annotations

import datetime as dt

import pytest

from smarketing.kpis.windows import Window, WindowError, period_bounds, window_for

D = dt.date


def test_to_date_windows_start_at_their_period():
    assert window_for("mtd", as_of="2026-03-15") == Window("mtd", D(2026, 3, 1), D(2026, 3, 15), D(2026, 3, 15))
    assert window_for("qtd", as_of="2026-05-20").start == D(2026, 4, 1)
    assert window_for("ytd", as_of="2026-05-20").start == D(2026, 1, 1)


def test_last_n_windows_include_as_of():
    window = window_for("last_7", as_of="2026-03-15")
    assert (window.start, window.end, window.days) == (D(2026, 3, 9), D(2026, 3, 15), 7)
    assert window_for("last_90", as_of="2026-03-15").days == 90


def test_fiscal_year_starting_in_april(settings):
    settings.FISCAL_YEAR_START_MONTH = 4
    assert window_for("ytd", as_of="2026-03-15").start == D(2025, 4, 1)
    assert window_for("ytd", as_of="2026-04-01").start == D(2026, 4, 1)
    assert window_for("qtd", as_of="2026-03-15").start == D(2026, 1, 1)  # Q4 of FY Apr 2025
    assert window_for("qtd", as_of="2026-06-30").start == D(2026, 4, 1)
    assert period_bounds("year", D(2026, 3, 15)) == (D(2025, 4, 1), D(2026, 3, 31))
    assert period_bounds("quarter", D(2026, 8, 2)) == (D(2026, 7, 1), D(2026, 9, 30))
    previous = window_for("ytd", as_of="2026-03-15").previous()
    assert (previous.start, previous.end) == (D(2024, 4, 1), D(2025, 3, 15))


def test_previous_mtd_is_the_same_days_of_the_previous_month():
    previous = window_for("mtd", as_of="2026-03-15").previous()
    assert (previous.start, previous.end) == (D(2026, 2, 1), D(2026, 2, 15))


def test_previous_clips_a_missing_day_to_the_month_end():
    previous = window_for("mtd", as_of="2026-03-31").previous()
    assert (previous.start, previous.end) == (D(2026, 2, 1), D(2026, 2, 28))
    leap = window_for("mtd", as_of="2024-03-30").previous()
    assert leap.end == D(2024, 2, 29)


def test_previous_ytd_of_a_leap_day_ends_on_february_28():
    previous = window_for("ytd", as_of="2024-02-29").previous()
    assert (previous.start, previous.end) == (D(2023, 1, 1), D(2023, 2, 28))


def test_previous_complete_period():
    previous = window_for("mtd", as_of="2026-03-15").previous(complete=True)
    assert (previous.start, previous.end) == (D(2026, 2, 1), D(2026, 2, 28))


def test_previous_of_rolling_and_custom_windows_is_the_same_length_before():
    previous = window_for("last_30", as_of="2026-03-15").previous()
    assert (previous.start, previous.end) == (D(2026, 1, 15), D(2026, 2, 13))
    custom = window_for("custom", start="2026-02-27", end="2026-03-02").previous()
    assert (custom.start, custom.end) == (D(2026, 2, 23), D(2026, 2, 26))


def test_unknown_or_incomplete_windows_raise_clear_errors():
    with pytest.raises(WindowError, match="unknown window 'week'"):
        window_for("week")
    with pytest.raises(WindowError, match="needs both start and end"):
        window_for("custom", start="2026-01-01")
    with pytest.raises(WindowError, match="after end"):
        window_for("custom", start="2026-02-01", end="2026-01-01")
    with pytest.raises(WindowError, match="YYYY-MM-DD"):
        window_for("mtd", as_of="15/03/2026")


def test_buckets_cover_the_window_without_gaps():
    window = window_for("custom", start="2026-01-30", end="2026-03-02")
    months = window.buckets("month")
    assert months == [(D(2026, 1, 30), D(2026, 1, 31)), (D(2026, 2, 1), D(2026, 2, 28)),
                      (D(2026, 3, 1), D(2026, 3, 2))]
    days = window.buckets("day")
    assert len(days) == window.days and days[0][0] == window.start and days[-1][1] == window.end


@pytest.mark.parametrize(("kwargs", "message"), [
    # The probes of issue 14: a thousand-year window, an end near date.max, an as_of near date.min.
    ({"name": "custom", "start": "1000-01-01", "end": "2026-01-01"}, "start: 1000-01-01 is out of range"),
    ({"name": "custom", "start": "2026-01-01", "end": "9999-12-30"}, "end: 9999-12-30 is out of range"),
    ({"name": "last_30", "as_of": "0001-01-05"}, "as_of: 0001-01-05 is out of range"),
    ({"name": "ytd", "as_of": dt.date(2101, 1, 1)}, "as_of: 2101-01-01 is out of range"),
    ({"name": "mtd", "as_of": "1969-12-31"}, "use a date from 1970-01-01 to 2100-12-31"),
    # 1,101 days: one more than the longest custom window.
    ({"name": "custom", "start": "2023-01-01", "end": "2026-01-05"}, "is 1,101 days; the longest is 1,100 days"),
])
def test_windows_outside_the_bounds_raise_clear_errors(kwargs, message):
    with pytest.raises(WindowError, match=message):
        window_for(**kwargs)


def test_windows_at_the_bounds_and_their_previous_periods_are_valid():
    # 2023-01-01 … 2026-01-04 is exactly 1,100 days (365 + 366 + 365 + 4).
    longest = window_for("custom", start="2023-01-01", end="2026-01-04")
    assert longest.days == 1100
    assert (longest.previous().start, longest.previous().end) == (D(2019, 12, 28), D(2022, 12, 31))
    first = window_for("custom", start="1970-01-01", end="1970-01-01")
    assert (first.previous().start, first.previous().end) == (D(1969, 12, 31), D(1969, 12, 31))
    last = window_for("ytd", as_of="2100-12-31")
    assert (last.start, last.previous().start, last.previous().end) == (
        D(2100, 1, 1), D(2099, 1, 1), D(2099, 12, 31))
    assert window_for("last_90", as_of="1970-01-01").previous().start == D(1969, 7, 6)


# --- same period last year (the third comparison) ---------------------------------------


def test_same_period_last_year_of_a_month_to_date_on_the_31st_is_the_same_days():
    window = window_for("mtd", as_of="2026-03-31")
    previous = window.previous(kind="same_period_last_year")
    assert (previous.start, previous.end, previous.as_of) == (D(2025, 3, 1), D(2025, 3, 31), D(2025, 3, 31))
    assert previous.days == window.days == 31


def test_same_period_last_year_clips_the_leap_day_to_feb_28():
    window = window_for("mtd", as_of="2024-02-29")
    previous = window.previous(kind="same_period_last_year")
    assert (previous.start, previous.end) == (D(2023, 2, 1), D(2023, 2, 28))
    custom = window_for("custom", start="2024-02-29", end="2024-03-01").previous(kind="same_period_last_year")
    assert (custom.start, custom.end) == (D(2023, 2, 28), D(2023, 3, 1))


def test_same_period_last_year_of_last_30_and_ytd():
    last_30 = window_for("last_30", as_of="2026-03-15").previous(kind="same_period_last_year")
    assert (last_30.start, last_30.end) == (D(2025, 2, 14), D(2025, 3, 15))
    ytd = window_for("ytd", as_of="2026-05-20").previous(kind="same_period_last_year")
    assert (ytd.start, ytd.end) == (D(2025, 1, 1), D(2025, 5, 20))


def test_the_other_comparisons_are_the_previous_period_and_its_whole():
    window = window_for("mtd", as_of="2026-03-15")
    assert window.previous(kind="previous_period") == window.previous()
    assert (window.previous().start, window.previous().end) == (D(2026, 2, 1), D(2026, 2, 15))
    whole = window.previous(kind="complete_previous_period")
    assert (whole.start, whole.end) == (D(2026, 2, 1), D(2026, 2, 28)) == (
        window.previous(complete=True).start, window.previous(complete=True).end)


def test_comparison_names_and_their_short_aliases():
    from smarketing.kpis.windows import comparison_for

    assert comparison_for(None) == comparison_for("") == comparison_for("same_days") == "previous_period"
    assert comparison_for("complete") == "complete_previous_period"
    assert comparison_for("last_year") == comparison_for("same_period_last_year") == "same_period_last_year"
    with pytest.raises(WindowError, match="compare: 'yesterday' is not a comparison: use one of previous_period"):
        comparison_for("yesterday")
