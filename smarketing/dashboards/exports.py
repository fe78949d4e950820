"""The records behind a number, as a page of rows and as CSV safe to open in a spreadsheet;
a panel's table as CSV or XLSX with the same guard."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Sequence
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

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


# --- a panel's table as a file -------------------------------------------------------------
# Excel number formats matching what the page prints for each unit.
XLSX_FORMATS = {"count": "#,##0", "currency": "#,##0.00", "currency_per_day": "#,##0.00",
                "percent": '0.0" %"', "days": '0.0" days"', "ratio": '0.0"×"'}


def _cell(value: object, unit: str) -> object:
    # Counts summed from float facts read 4.0; the page and the file say 4.
    if unit == "count" and isinstance(value, float) and value.is_integer():
        return int(value)
    return csv_safe(value)


def table_lines(table: dict) -> Iterator[list[object]]:
    """Header, the rows and the total of a panel's export, every cell escaped."""
    yield [csv_safe(name) for name in table["header"]]
    for row in [*table["rows"], *([table["total"]] if table.get("total") else [])]:
        yield [_cell(cell, unit) for cell, unit in zip(row, table["units"], strict=True)]


def table_xlsx(table: dict, *, title: str) -> bytes:
    """The same cells as the CSV in one worksheet, numbers as numbers with the page's formats."""
    book = Workbook()
    sheet = book.active
    # A sheet title cannot hold []:*?/\ and is at most 31 characters.
    sheet.title = "".join(char for char in title if char not in "[]:*?/\\")[:31] or "Table"
    for row in table_lines(table):
        sheet.append(row)
    for column, unit in enumerate(table["units"], start=1):
        number_format = XLSX_FORMATS.get(unit)
        if number_format is None:
            continue
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            if isinstance(cell.value, int | float):
                cell.number_format = number_format
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "B2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_filename(*parts: object, extension: str) -> str:
    """dashboard-panel-window-start-end.ext, in characters every file system accepts."""
    text = "-".join(str(part) for part in parts if part not in (None, ""))
    safe = "".join(char.lower() if char.isalnum() else "-" for char in text)
    while "--" in safe:
        safe = safe.replace("--", "-")
    return f"{safe.strip('-')}.{extension}"
