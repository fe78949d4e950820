"""CSV cells that a spreadsheet would run as formulas are escaped."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from smarketing.dashboards.exports import csv_safe


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+1-2", "'+1-2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("plain text", "plain text"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (-5, -5),
        (Decimal("-12.50"), Decimal("-12.50")),
        (dt.date(2026, 3, 1), "2026-03-01"),
        (dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC), "2026-03-01T09:30:00+00:00"),
    ],
)
def test_csv_safe(value, expected):
    assert csv_safe(value) == expected
