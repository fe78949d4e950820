"""The records behind a number, as a page of rows and as CSV safe to open in a spreadsheet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal

from smarketing.kpis.registry import metric_get
from smarketing.kpis.selectors import metric_records
from smarketing.kpis.windows import Window

PAGE_SIZE = 50
# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection");
# tab and carriage return can smuggle one past a naive check.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CSV_CHUNK = 2000


def csv_safe(value: object) -> object:
    """A text cell that would start a formula, prefixed with ' so it stays text.

    Numbers stay numbers (a negative amount is data, not a formula).
    """
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def records_page(
    *, metric: str, window: Window, filters: dict[str, list[str]] | None, key: str | None,
    dimension: str | None, page: int, per_page: int = PAGE_SIZE,
) -> dict:
    """One page of the records behind `metric` over `window` (optionally one breakdown key)."""
    records = metric_records(metric=metric, window=window, filters=filters, key=key, dimension=dimension)
    total = records.count()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    offset = (page - 1) * per_page
    fields = [field for field, _label in records.columns]
    rows = [[row.get(field) for field in fields] for row in records.rows[offset : offset + per_page]]
    return {
        "metric": metric_get(metric),
        "columns": records.columns,
        "rows": rows,
        "total": total,
        "page": page,
        "pages": pages,
        "first": offset + 1 if total else 0,
        "last": offset + len(rows),
    }


def records_csv_lines(
    *, metric: str, window: Window, filters: dict[str, list[str]] | None, key: str | None,
    dimension: str | None,
) -> Iterator[Sequence[object]]:
    """Header then every record, escaped; a server-side cursor lets a big export stream."""
    records = metric_records(metric=metric, window=window, filters=filters, key=key, dimension=dimension)
    fields = [field for field, _label in records.columns]
    yield [csv_safe(label) for _field, label in records.columns]
    for row in records.rows.iterator(chunk_size=CSV_CHUNK):
        yield [csv_safe(row.get(field)) for field in fields]
