"""Scheduled folder imports: files a CRM drops into `IMPORT_WATCH_DIR` are imported by the beat
task `funnel.tasks.import_folder_poll`, through the same path as an upload.

A file is `<resource>[__<mapping>].csv` (mapping: a preset or a saved mapping's name) or a zip
of such files. It is picked up once it is complete: a `<file>.ready` marker beside it, or the
same size and modification time at two polls in a row. It then moves to `done/` or, with its
errors in `<file>.errors.csv` beside it, to `failed/`.

Each content is imported once: the history row (with the file's SHA-256, unique among imports
that wrote) is written in the import's own transaction, so a worker killed mid-import leaves
nothing and the file where it was, and one killed after the commit leaves a file the next poll
recognises and moves without importing it again. Two workers never import the same content
side by side: on PostgreSQL the import holds an advisory lock on the hash (SQLite writes one
transaction at a time).
"""

from __future__ import annotations

import csv
import hashlib
import logging
import re
import shutil
import zipfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from smarketing.funnel import importing
from smarketing.funnel.history import Timing, import_log_add
from smarketing.funnel.mapping import MappingError, mapping_named
from smarketing.funnel.models import ImportLog
from smarketing.funnel.schemas import RESOURCES

READY = ".ready"
DONE, FAILED = "done", "failed"
NAME_RE = re.compile(r"^(?P<resource>[a-z_]+?)(?:__(?P<mapping>[^/\\]+))?\.csv$")
SIZE_TTL = 7 * 24 * 3600
PROGRESS_KEY = "funnel:folder-import:progress"
logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    name: str
    status: str  # done | failed | duplicate | busy
    report: importing.ImportReport | None = None


def watch_name_parse(name: str) -> tuple[str, str] | None:
    """(resource, mapping name or "") of a `<resource>[__<mapping>].csv` file name."""
    match = NAME_RE.match(Path(name).name)
    if match is None or match["resource"] not in RESOURCES:
        return None
    return match["resource"], match["mapping"] or ""


def _candidates(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(READY)
        and p.suffix.lower() in (".csv", ".zip")
    )


def _ready(path: Path) -> bool:
    """Complete: a `.ready` marker, or unchanged since the last poll (a writer still at it grows it)."""
    if path.with_name(path.name + READY).exists():
        return True
    stat = path.stat()
    now = [stat.st_size, stat.st_mtime_ns]
    key = f"funnel:watch:{hashlib.sha256(str(path).encode()).hexdigest()}"
    before = cache.get(key)
    cache.set(key, now, SIZE_TTL)
    return before == now


def folder_poll(folder: Path | str | None = None) -> list[Outcome]:
    """Import every complete new file of the watched folder; what happened to each."""
    where = folder or settings.IMPORT_WATCH_DIR
    if not where or not Path(where).is_dir():
        return []
    outcomes = []
    for path in _candidates(Path(where)):
        if _ready(path):
            outcome = folder_file_import(path)
            logger.info("watched folder: %s %s", outcome.name, outcome.status)
            outcomes.append(outcome)
        else:
            logger.info("watched folder: %s may still be written; checked again at the next poll", path.name)
    return outcomes


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            sha.update(block)
    return sha.hexdigest()


def _claimed(digest: str) -> bool:
    """This transaction holds the content's lock (another worker importing it: False)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [int(digest[:15], 16)])
        return bool(cursor.fetchone()[0])


def _error(message: str) -> importing.ImportReport:
    return importing.ImportReport(errors=[{"resource": "", "row": 0, "field": "", "message": message}])


def _sources(path: Path, stack: ExitStack) -> tuple[list[importing.CsvSource], str] | importing.ImportReport:
    """The file's sources with their mappings, and the mapping names; or the report of why not."""
    if path.suffix.lower() == ".zip":
        try:
            archive = stack.enter_context(zipfile.ZipFile(path))
        except zipfile.BadZipFile:
            return _error("the file is not a zip archive")
        entries = [(i.filename, i) for i in archive.infolist()
                   if not i.is_dir() and not Path(i.filename).name.startswith((".", "__"))]
    else:
        entries = [(path.name, None)]
    sources, names, strays = [], [], []
    for name, info in entries:
        parsed = watch_name_parse(name)
        if parsed is None:
            strays.append(name)
            continue
        resource, mapping_name = parsed
        try:
            mapping = mapping_named(RESOURCES[resource], mapping_name) if mapping_name else None
        except MappingError as exc:
            return _error(f"{name}: {exc}")
        if info is None:
            stream, size = stack.enter_context(path.open("rb")), path.stat().st_size
        else:
            stream, size = stack.enter_context(archive.open(info)), info.file_size
        sources.append(importing.CsvSource(resource, stream, size, name, mapping))
        names.append(mapping_name)
    if strays:
        return _error(f"files that name no resource: {', '.join(strays)} (name them <resource>[__<mapping>].csv)")
    if not sources:
        return _error("the zip holds no <resource>[__<mapping>].csv file")
    return sources, ", ".join(sorted({n for n in names if n}))


def folder_file_import(path: Path) -> Outcome:
    """Import one complete file of the watched folder and move it to done/ or failed/."""
    digest = _digest(path)
    timing = Timing()
    mapping = ""

    def progress(resource: str, rows: int, done: int, total: int) -> None:
        cache.set(PROGRESS_KEY, {"file": path.name, "resource": resource, "rows": rows}, SIZE_TTL)

    with transaction.atomic():
        if not _claimed(digest):
            return Outcome(path.name, "busy")
        earlier = ImportLog.objects.filter(sha256=digest, errors=0).first()
        if earlier is None:
            with ExitStack() as stack:
                found = _sources(path, stack)
                if isinstance(found, importing.ImportReport):
                    report = found
                else:
                    sources, mapping = found
                    report = importing.csv_import(sources=sources, progress=progress)
            if report.ok:
                # In the import's transaction: the content counts as imported exactly when its rows do.
                import_log_add(source=ImportLog.Source.FOLDER, timing=timing, report=report, filename=path.name,
                               mapping=mapping, sha256=digest)
    cache.delete(PROGRESS_KEY)
    if earlier is not None:
        _move(path, DONE, note=f"Not imported again: the same content as {earlier.filename} "
                               f"(imported {earlier.started_at:%Y-%m-%d %H:%M:%S} UTC).\n")
        return Outcome(path.name, "duplicate")
    if report.ok:
        _move(path, DONE)
        return Outcome(path.name, DONE, report)
    import_log_add(source=ImportLog.Source.FOLDER, timing=timing, report=report, filename=path.name,
                   mapping=mapping)
    _move(path, FAILED, errors=report.errors)
    return Outcome(path.name, FAILED, report)


def _move(path: Path, where: str, *, note: str = "", errors: list[dict] | None = None) -> Path:
    """Into done/ or failed/, stamped so a daily file of the same name never overwrites yesterday's."""
    folder = path.parent / where
    folder.mkdir(exist_ok=True)
    stamp = f"{timezone.now():%Y%m%dT%H%M%S}"
    target = folder / f"{stamp}_{path.name}"
    n = 1
    while target.exists():
        n += 1
        target = folder / f"{stamp}-{n}_{path.name}"
    shutil.move(str(path), target)
    path.with_name(path.name + READY).unlink(missing_ok=True)
    if note:
        target.with_name(target.name + ".note.txt").write_text(note)
    if errors is not None:
        with target.with_name(target.name + ".errors.csv").open("w", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["resource", "row", "field", "message"])
            writer.writerows([e["resource"], e["row"], e["field"], e["message"]] for e in errors)
    return target
