"""CSV in and out: a streaming reader over uploaded or local files, folder and zip imports,
and the per-resource template and example files generated from the row schemas.

Memory stays bounded: a file is read row by row and handed to `services.records_upsert`
in chunks; only the keys seen so far (to report duplicates) grow with the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import transaction

from smarketing.funnel import services
from smarketing.funnel.schemas import RESOURCES, Resource, header_errors, resource_get

ORDER = list(RESOURCES)

# (resource, rows done, bytes done, bytes total)
Progress = Callable[[str, int, int, int], None]


@dataclass
class CsvSource:
    resource: str
    stream: IO[bytes]
    size: int = 0
    name: str = ""


@dataclass
class ImportReport:
    results: list[services.UpsertResult] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def created(self) -> int:
        return sum(r.created for r in self.results)

    @property
    def updated(self) -> int:
        return sum(r.updated for r in self.results)

    @property
    def rows(self) -> int:
        return sum(r.rows for r in self.results)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "created": self.created,
            "updated": self.updated,
            "rows": self.rows,
            "resources": [
                {"resource": r.resource, "created": r.created, "updated": r.updated, "rows": r.rows}
                for r in self.results
            ],
            "errors": self.errors,
        }


class _CountingReader(io.RawIOBase):
    """Counts the bytes read from a binary stream, for progress on files of known size."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.done = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.done += size
        return size


def csv_rows(text: IO[str], header: list[str]) -> Iterator[dict[str, str] | services.BadRow]:
    """Data rows as {column: cell}; a row the reader cannot split becomes a `BadRow`."""
    reader = csv.reader(text)
    width = len(header)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError:
            yield services.BadRow("", "the file is not UTF-8 text")
            return
        except csv.Error as exc:
            yield services.BadRow("", f"unreadable CSV: {exc}")
            return
        if len(cells) == width:
            yield dict(zip(header, cells, strict=True))
        elif not cells or (len(cells) == 1 and not cells[0].strip()):
            # A blank line is counted (row numbers follow the file's lines) but holds nothing.
            continue
        else:
            yield services.BadRow("", f"has {len(cells)} cells; the header has {width}")


def _read_header(text: IO[str]) -> list[str] | None:
    try:
        first = next(csv.reader([text.readline()]), None)
    except UnicodeDecodeError:
        return None
    return [name.strip() for name in first] if first else []


def source_import(
    source: CsvSource, *, dry_run: bool, progress: Progress | None = None, notify: bool = True
) -> tuple[services.UpsertResult, list[dict[str, Any]]]:
    """Import one CSV stream; its errors carry the resource name."""
    resource = resource_get(source.resource)
    counting = _CountingReader(source.stream)
    # utf-8-sig drops a BOM when there is one.
    text = io.TextIOWrapper(io.BufferedReader(counting, 1 << 16), encoding="utf-8-sig", newline="")
    result = services.UpsertResult(resource=resource.name)
    header = _read_header(text)
    if header is None:
        problems = [("", "the file is not UTF-8 text")]
    elif not header:
        problems = [("", "the file is empty: the first line must be the header")]
    else:
        problems = header_errors(resource, header)
    if problems:
        result.errors = [{"row": 0, "field": f, "message": msg} for f, msg in problems]
    else:
        def report(rows: int, done: int) -> None:
            if progress:
                progress(resource.name, rows, done, source.size)

        result = services.records_upsert(
            resource=resource.name,
            rows=csv_rows(text, header),
            dry_run=dry_run,
            progress=report,
            # Read where the rows are read: in the forked reader of a big file.
            position=lambda: counting.done,
            notify=notify,
        )
    errors = [{"resource": resource.name, **error} for error in result.errors]
    return result, errors


def csv_import(
    *, sources: list[CsvSource], dry_run: bool = False, progress: Progress | None = None
) -> ImportReport:
    """Import files of several resources, in dependency order, in one transaction.

    Stops at the first file with errors: later files may reference its rows, and their
    errors would only echo the first ones.
    """
    report = ImportReport(dry_run=dry_run)
    ordered = sorted(sources, key=lambda s: ORDER.index(s.resource))
    with transaction.atomic():
        for source in ordered:
            result, errors = source_import(source, dry_run=False, progress=progress, notify=not dry_run)
            report.results.append(result)
            report.errors.extend(errors[: services.MAX_ERRORS - len(report.errors)])
            if errors:
                break
        if report.errors or dry_run:
            transaction.set_rollback(True)
    return report


def resource_from_filename(name: str) -> str | None:
    stem = Path(name).name
    if not stem.lower().endswith(".csv"):
        return None
    stem = stem[:-4]
    return stem if stem in RESOURCES else None


def folder_sources(folder: Path) -> tuple[list[CsvSource], list[str]]:
    """Every `<resource>.csv` in a folder, and the names of CSV files that name no resource."""
    sources, strays = [], []
    for path in sorted(folder.glob("*.csv")):
        resource = resource_from_filename(path.name)
        if resource is None:
            strays.append(path.name)
        else:
            sources.append(CsvSource(resource, path.open("rb"), path.stat().st_size, path.name))
    return sources, strays


def zip_sources(archive: zipfile.ZipFile) -> tuple[list[CsvSource], list[str]]:
    """Every `<resource>.csv` in a zip archive (folders inside it ignored), and stray names."""
    sources, strays = [], []
    for info in archive.infolist():
        if info.is_dir() or Path(info.filename).name.startswith((".", "__")):
            continue
        resource = resource_from_filename(info.filename)
        if resource is None:
            strays.append(info.filename)
        else:
            sources.append(CsvSource(resource, archive.open(info), info.file_size, info.filename))
    return sources, strays


# --- templates and examples -----------------------------------------------------------------


def csv_template(resource: Resource) -> str:
    return _to_csv([list(resource.columns)])


def _limit_depths(resource: Resource) -> dict[str, int]:
    """How many `<=` limits sit above a count, so example counts satisfy every limit."""
    limits = dict(resource.schema.limits)
    depth: dict[str, int] = {}

    def of(name: str) -> int:
        if name not in depth:
            depth[name] = 0 if name not in limits else of(limits[name]) + 1
        return depth[name]

    for name in resource.columns:
        of(name)
    return depth


EXAMPLE_DAY = dt.date(2026, 1, 5)


def example_rows(resource: Resource, count: int = 2) -> list[dict[str, str]]:
    """Rows that pass the schema, built from the column declarations."""
    depths = _limit_depths(resource)
    rows = []
    for i in range(1, count + 1):
        row: dict[str, str] = {}
        day = EXAMPLE_DAY + dt.timedelta(days=i - 1)
        for name in resource.columns:
            col = resource.col(name)
            row[name] = _example_value(resource, name, col, i, day, depths.get(name, 0))
        rows.append(row)
    return rows


def _example_value(resource: Resource, name: str, col: Any, i: int, day: dt.date, depth: int) -> str:
    if col.ref:
        if col.ref == resource.name:
            return f"{resource.name}-{i - 1}" if i > 1 else ""
        if not col.required:
            return ""
        return f"{col.ref}-1"
    if name == "external_id":
        return f"{resource.name}-{i}"
    if name == "period_start":
        return dt.date(2026, i, 1).isoformat()
    if name == "metric":
        return "leads"
    if name == "domain":
        return f"example{i}.com"
    if name == "disqualification_reason":
        # Allowed only beside a disqualified_at, which the examples leave empty.
        return ""
    kind = col.kind
    if kind in ("email", "member"):
        return f"person{i}@example.com"
    if kind == "url":
        return f"https://example.com/{resource.name}/{i}"
    if kind == "enum":
        return col.choices[0]
    if kind == "date":
        return day.isoformat()
    if kind == "timestamp":
        return f"{day.isoformat()}T09:30:00" if col.required else ""
    if kind == "count":
        return str(1000 // (2**depth))
    if kind in ("money", "decimal"):
        return "1250.00"
    if kind == "bool":
        return "true" if i % 2 else "false"
    if name == "page":
        return f"/page-{i}"
    return f"Example {name.replace('_', ' ')} {i}"


def csv_example(resource: Resource) -> str:
    rows = example_rows(resource)
    return _to_csv([list(resource.columns)] + [[row[c] for c in resource.columns] for row in rows])


def _to_csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(rows)
    return out.getvalue()
