"""`import_csv RESOURCE FILE [--dry-run] [--mapping FILE.json | --preset NAME]` and
`import_csv --dir FOLDER`: CSV into funnel records."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, no_translations
from django.db import OperationalError
from tqdm import tqdm

from smarketing.funnel.db import WriteConflict
from smarketing.funnel.history import Timing, import_log_add
from smarketing.funnel.importing import CsvSource, ImportReport, csv_import, folder_sources
from smarketing.funnel.mapping import ColumnMapping, MappingError, mapping_named
from smarketing.funnel.models import ImportLog
from smarketing.funnel.presets import PRESETS
from smarketing.funnel.schemas import RESOURCES

# Files smaller than this import without a progress bar.
PROGRESS_BYTES = 256 * 1024


class Command(BaseCommand):
    help = (
        "Import funnel records from CSV (data-contract.md): one resource file, or every "
        "<resource>.csv in a folder in dependency order, all in one transaction. "
        "Exits 1 and prints every error (up to 1,000) when any row is invalid; nothing is written then."
    )

    def add_arguments(self, parser):
        parser.add_argument("resource", nargs="?", choices=list(RESOURCES), help="resource name")
        parser.add_argument("file", nargs="?", type=Path, help="CSV file")
        parser.add_argument("--dir", type=Path, help="folder of <resource>.csv files")
        parser.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
        mapping = parser.add_mutually_exclusive_group()
        mapping.add_argument("--mapping", type=Path, help="column mapping JSON for a file not in the contract's shape")
        mapping.add_argument("--preset", help=f"a shipped or saved mapping by name ({', '.join(PRESETS)})")

    def _mapping(self, resource: str, path: Path | None, preset: str | None) -> ColumnMapping | None:
        spec = RESOURCES[resource]
        try:
            if preset:
                return mapping_named(spec, preset)
            if path:
                try:
                    return ColumnMapping.of(spec, json.loads(path.read_text()))
                except (OSError, ValueError) as exc:
                    if isinstance(exc, MappingError):
                        raise
                    raise CommandError(f"cannot read the mapping {path}: {exc}") from None
        except MappingError as exc:
            raise CommandError(f"mapping: {exc}") from None
        return None

    # Operators read the server's English: messages made during the import are not translated,
    # whatever language the calling process had active.
    @no_translations
    def handle(self, *args, resource=None, file=None, dir=None, dry_run=False, mapping=None, preset=None,
               **options):
        if dir is not None:
            if resource or file or mapping or preset:
                raise CommandError("give either RESOURCE FILE [--mapping/--preset] or --dir FOLDER, not both")
            if not dir.is_dir():
                raise CommandError(f"{dir} is not a folder")
            sources, strays = folder_sources(dir)
            if strays:
                self.stderr.write(f"ignored (not a resource name): {', '.join(strays)}")
            if not sources:
                raise CommandError(f"no <resource>.csv files in {dir}")
        else:
            if not resource or not file:
                raise CommandError("give RESOURCE FILE, or --dir FOLDER")
            if not file.is_file():
                raise CommandError(f"{file} does not exist")
            column_mapping = self._mapping(resource, mapping, preset)
            sources = [CsvSource(resource, file.open("rb"), file.stat().st_size, file.name, column_mapping)]
        started = time.monotonic()
        timing = Timing()
        bar = _Bars(sum(s.size for s in sources), enabled=sum(s.size for s in sources) >= PROGRESS_BYTES,
                    stream=self.stderr._out)
        try:
            report = csv_import(sources=sources, dry_run=dry_run, progress=bar.update)
        except WriteConflict as exc:
            raise CommandError(str(exc)) from None
        except OperationalError as exc:
            # The transaction rolled back: say so plainly, the database's words go to the log.
            logging.getLogger("smarketing.funnel").warning("import_csv failed in the database: %s", exc)
            raise CommandError("the database stopped the import (it may be restarting or overloaded); "
                               "nothing was written. Try again in a few minutes.") from None
        finally:
            bar.close()
            for source in sources:
                source.stream.close()
        if not dry_run:
            import_log_add(source=ImportLog.Source.COMMAND, timing=timing, report=report,
                           filename=", ".join(s.name for s in sources), mapping=preset or (mapping.name if mapping else ""))
        self._print(report, time.monotonic() - started)
        if not report.ok:
            raise SystemExit(1)

    def _print(self, report: ImportReport, seconds: float) -> None:
        if report.errors:
            many = len({e["resource"] for e in report.errors}) > 1 or len(report.results) > 1
            self.stdout.write(self.style.ERROR(f"{len(report.errors)} error(s); nothing was written."))
            head = ("resource", "row", "field", "message") if many else ("row", "field", "message")
            lines = [head] + [
                tuple(str(e[k]) for k in head) for e in report.errors
            ]
            widths = [max(len(line[i]) for line in lines) for i in range(len(head) - 1)]
            for line in lines:
                cells = [cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True)]
                self.stdout.write("  ".join([*cells, line[-1]]))
            return
        verb = "would create" if report.dry_run else "created"
        for result in report.results:
            self.stdout.write(
                f"{result.resource}: {result.rows} rows, {verb} {result.created}, "
                f"{'would update' if report.dry_run else 'updated'} {result.updated}"
            )
        rate = report.rows / seconds if seconds else 0
        suffix = " (dry run: nothing written)" if report.dry_run else "; KPI recompute queued"
        self.stdout.write(self.style.SUCCESS(
            f"{report.rows} rows in {seconds:.1f} s ({rate:,.0f} rows/s){suffix}"
        ))


class _Bars:
    """One tqdm bar over the bytes of every file, with the current file's rows/s."""

    def __init__(self, total: int, *, enabled: bool, stream) -> None:
        self.bar = tqdm(total=total, unit="B", unit_scale=True, disable=not enabled, file=stream,
                        dynamic_ncols=True)
        self.offset = 0
        self.current: str | None = None
        self.started = time.monotonic()
        self.last_bytes = 0

    def update(self, resource: str, rows: int, done: int, total: int) -> None:
        if resource != self.current:
            self.offset += self.last_bytes
            self.current = resource
            self.started = time.monotonic()
        self.last_bytes = done
        self.bar.n = min(self.offset + done, self.bar.total)
        elapsed = time.monotonic() - self.started
        rate = rows / elapsed if elapsed else 0
        self.bar.set_postfix_str(f"{resource}: {rows:,} rows, {rate:,.0f} rows/s", refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()
