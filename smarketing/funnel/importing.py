"""CSV in and out: a streaming reader over uploaded or local files, folder and zip imports,
and the per-resource template and example files generated from the row schemas.

Memory stays bounded: a file is read row by row and handed to `services.records_upsert`
in chunks; only the keys seen so far (to report duplicates) grow with the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from smarketing.funnel import services
from smarketing.funnel.db import retrying
from smarketing.funnel.mapping import (
    ColumnMapping,
    MappingError,
    mapping_named,
    mapping_propose,
    values_uncovered,
)
from smarketing.funnel.schemas import RESOURCES, Resource, header_errors, printable, resource_get

ORDER = list(RESOURCES)

# (resource, rows done, bytes done, bytes total)
Progress = Callable[[str, int, int, int], None]


@dataclass
class CsvSource:
    resource: str
    stream: IO[bytes]
    size: int = 0
    name: str = ""
    # The file's columns are not the contract's: this mapping turns each row into a contract row.
    mapping: ColumnMapping | None = None


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


class LineTooLong(Exception):
    pass


def _bounded_lines(text: IO[str], limit: int) -> Iterator[str]:
    """The file's lines, refusing one longer than `limit` characters before reading it whole."""
    readline = text.readline
    while True:
        line = readline(limit + 1)
        if not line:
            return
        if len(line) > limit and line[-1] != "\n":
            raise LineTooLong
        yield line


def csv_rows(text: IO[str], header: list[str]) -> Iterator[dict[str, str] | services.BadRow]:
    """Data rows as {column: cell}; a row the reader cannot split becomes a `BadRow`."""
    limit = settings.UPLOAD_MAX_LINE_KB * 1024
    # A quoted cell may span lines: the same bound holds for one cell.
    csv.field_size_limit(limit)
    reader = csv.reader(_bounded_lines(text, limit))
    width = len(header)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except LineTooLong:
            yield services.BadRow("", _("the line is longer than {limit} KB (UPLOAD_MAX_LINE_KB): is this a CSV file?")
                                  .format(limit=f"{settings.UPLOAD_MAX_LINE_KB:,}"))
            return
        except csv.Error as exc:
            yield services.BadRow("", _("unreadable CSV: {error}").format(error=exc))
            return
        if len(cells) == width:
            yield dict(zip(header, cells, strict=True))
        elif not cells or (len(cells) == 1 and not cells[0].strip()):
            # A blank line is counted (row numbers follow the file's lines) but holds nothing.
            continue
        else:
            yield services.BadRow("", _("has {cells} cells; the header has {width}").format(cells=len(cells), width=width))


def _read_header(text: IO[str], comment: str | None = None) -> list[str] | None:
    """The header's names (None: a line over UPLOAD_MAX_LINE_KB); with `comment`, note lines
    starting with it (and blank lines) before the header are skipped."""
    limit = settings.UPLOAD_MAX_LINE_KB * 1024
    line = text.readline(limit + 1)
    while comment and line and (line.startswith(comment) or not line.strip()):
        line = text.readline(limit + 1)
    if len(line) > limit and line[-1] != "\n":
        return None
    first = next(csv.reader([line]), None)
    return [name.strip() for name in first] if first else []


def file_header(stream: IO[bytes], comment: str | None = None) -> list[str]:
    """The header of a CSV file (its first line, past notes starting with `comment`)."""
    # A header (past notes) longer than this is no CSV export.
    head = io.BytesIO(stream.read(1 << 20))
    return _read_header(io.TextIOWrapper(head, encoding="utf-8-sig", newline=""), comment) or []


def _mapping_bad(problems: list[tuple[str, str]]) -> services.BadRow:
    (field_name, message), *more = problems
    return services.BadRow(field_name, message, tuple(more))


def source_import(
    source: CsvSource, *, dry_run: bool, progress: Progress | None = None, notify: bool = True
) -> tuple[services.UpsertResult, list[dict[str, Any]]]:
    """Import one CSV stream; its errors carry the resource name."""
    resource = resource_get(source.resource)
    counting = _CountingReader(source.stream)
    # utf-8-sig drops a BOM when there is one. A byte that is not UTF-8 becomes a lone
    # surrogate, which validation reports with its row and column.
    text = io.TextIOWrapper(io.BufferedReader(counting, 1 << 16), encoding="utf-8-sig", errors="surrogateescape",
                            newline="")
    result = services.UpsertResult(resource=resource.name)
    mapping = source.mapping
    header = _read_header(text, mapping.comment if mapping else None)
    bound = None
    if header is None:
        problems = [("", _("the header line is longer than {limit} KB (UPLOAD_MAX_LINE_KB)").format(
            limit=f"{settings.UPLOAD_MAX_LINE_KB:,}"))]
    elif not header:
        problems = [("", _("the file is empty: the first line must be the header"))]
    elif mapping is not None:
        try:
            bound = mapping.bind(header)
            problems = []
        except MappingError as exc:
            problems = exc.problems
    else:
        problems = header_errors(resource, header)
    if problems:
        result.errors = [{"row": 0, "field": printable(f), "message": printable(msg)} for f, msg in problems]
    else:
        def report(rows: int, done: int) -> None:
            if progress:
                progress(resource.name, rows, done, source.size)

        rows = csv_rows(text, header)
        result = services.records_upsert(
            resource=resource.name,
            rows=bound.rows(rows, _mapping_bad) if bound else rows,
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
    errors would only echo the first ones. A deadlock or serialization failure reads the
    files again from the start (a bounded number of times), then raises `WriteConflict`.
    """

    def rewind() -> bool:
        if not all(source.stream.seekable() for source in sources):
            return False
        for source in sources:
            source.stream.seek(0)
        return True

    return retrying(_csv_import, rewind=rewind)(sources=sources, dry_run=dry_run, progress=progress)


def _csv_import(*, sources: list[CsvSource], dry_run: bool, progress: Progress | None) -> ImportReport:
    report = ImportReport(dry_run=dry_run)
    ordered = sorted(sources, key=lambda s: ORDER.index(s.resource))
    with transaction.atomic():
        # Every resource's write lock before any row: one global order across all writers.
        services.resource_lock(*(resource_get(s.resource) for s in ordered))
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


# --- column mapping preview ---------------------------------------------------------------

PREVIEW_ROWS = 100
COMMENT = "#"


def mapping_preview(
    *, resource: Resource, text: str, truncated: bool, spec: dict[str, Any] | None = None, name: str = ""
) -> dict[str, Any]:
    """What the upload page shows once a file is chosen: its header and first rows, the mapping
    (`spec`, else the named one, else the proposed one) and what importing the first 100 rows
    with it would do, by the import's own path in a dry run. `text` is the file's start;
    `truncated`: the file goes on (its last line here may be cut)."""
    lines = io.StringIO(text.lstrip("\ufeff"))
    notes = []
    line = lines.readline()
    while line and (line.startswith(COMMENT) or not line.strip()):
        notes.append(line)
        line = lines.readline()
    reader = csv.reader(itertools.chain([line], lines))
    header = [h.strip() for h in next(reader, [])]
    rows = list(itertools.islice(reader, PREVIEW_ROWS + 1))
    if truncated and len(rows) <= PREVIEW_ROWS:
        rows = rows[:-1]
    rows = rows[:PREVIEW_ROWS]
    out: dict[str, Any] = {"header": header, "rows": rows[:5], "origin": "given", "name": name}
    try:
        if spec is None and name:
            spec = mapping_named(resource, name).to_json()
            out["origin"] = "named"
        elif spec is None:
            proposal = mapping_propose(resource, header)
            spec = proposal["mapping"]
            out.update(origin=proposal["origin"], name=proposal["name"])
            if notes and any(n.startswith(COMMENT) for n in notes):
                spec["comment"] = COMMENT
        mapping = ColumnMapping.of(resource, spec)
    except MappingError as exc:
        out.update(mapping=spec, problems=[{"field": f, "message": m} for f, m in exc.problems],
                   uncovered={}, result=None)
        return out
    out["mapping"] = mapping.to_json()
    data = io.StringIO()
    writer = csv.writer(data, lineterminator="\n")
    # As the file has them: the import reads past them only when the mapping says so.
    data.write("".join(notes))
    writer.writerow(header)
    writer.writerows(rows)
    raw = data.getvalue().encode()
    report = csv_import(sources=[CsvSource(resource.name, io.BytesIO(raw), len(raw), "preview.csv", mapping)],
                        dry_run=True)
    try:
        bound = mapping.bind(header)
    except MappingError as exc:
        out.update(problems=[{"field": f, "message": m} for f, m in exc.problems], uncovered={})
    else:
        width = len(header)
        out.update(problems=[], uncovered=values_uncovered(
            bound, (dict(zip(header, r, strict=True)) for r in rows if len(r) == width)))
    out["result"] = report.to_json()
    return out


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
    if resource.name == "targets" and name == "channel":
        # A target names at most one slice: the examples are team-wide (owner and campaign
        # are optional references, left empty like every optional reference).
        return ""
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
