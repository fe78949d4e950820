"""Which parts of a series' pieces are read from month sums and which day by day."""

import datetime as dt

from smarketing.kpis.selectors import _piece_reads

D = dt.date


def test_whole_months_inside_a_piece_come_from_their_sums_the_rest_day_by_day():
    cuts = [D(2025, 12, 31), D(2026, 1, 15), D(2026, 4, 10), D(2026, 4, 30), D(2026, 7, 31)]
    reads = _piece_reads(cuts)
    # Piece 0 (up to Dec 31) is every month from the first fact to December.
    assert reads.months_until == D(2025, 12, 1)
    # Jan 16 – Apr 10 holds February and March whole; May – July is three whole months.
    assert reads.months == (D(2026, 2, 1), D(2026, 3, 1), D(2026, 5, 1), D(2026, 6, 1), D(2026, 7, 1))
    # Jan 1–15 and Jan 16–31 join; Apr 1–10 and Apr 11–30 (no whole month) join.
    assert reads.days == ((D(2026, 1, 1), D(2026, 1, 31)), (D(2026, 4, 1), D(2026, 4, 30)))


def test_a_first_piece_ending_mid_month_and_a_leap_day():
    cuts = [D(2028, 2, 28), D(2028, 2, 29), D(2028, 3, 31)]
    reads = _piece_reads(cuts)
    assert reads.months_until == D(2028, 1, 1)
    assert reads.months == (D(2028, 3, 1),)
    assert reads.days == ((D(2028, 2, 1), D(2028, 2, 29)),)


def test_daily_pieces_within_one_month_read_only_days():
    cuts = [D(2026, 10, 31), D(2026, 11, 1), D(2026, 11, 2)]
    reads = _piece_reads(cuts)
    assert reads.months_until == D(2026, 10, 1)
    assert reads.months == ()
    assert reads.days == ((D(2026, 11, 1), D(2026, 11, 2)),)


def test_a_piece_starting_on_a_months_last_day_reads_that_day_and_the_next_month_whole():
    reads = _piece_reads([D(2026, 1, 30), D(2026, 2, 28)])
    # Whole months before January still come from their sums.
    assert reads.months_until == D(2025, 12, 1)
    assert reads.months == (D(2026, 2, 1),)
    # Jan 1–30 of piece 0 and Jan 31 of piece 1 are read as one range of days.
    assert reads.days == ((D(2026, 1, 1), D(2026, 1, 31)),)
