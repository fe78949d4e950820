"""Import jobs of the upload page: check a file (dry run), then import it, reporting progress.

The Celery task `funnel.tasks.import_job_run` calls `import_job_execute`; it may run twice
(a worker lost mid-import redelivers it): the import's transaction rolled back with the
worker, and an upsert by key repeated leaves the same rows.
"""

from __future__ import annotations

import zipfile
from typing import Any

from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from smarketing.funnel import importing
from smarketing.funnel.history import Timing, import_log_add
from smarketing.funnel.mapping import ColumnMapping, mapping_named, mapping_save
from smarketing.funnel.models import ImportJob, ImportLog
from smarketing.funnel.schemas import resource_get

S = ImportJob.Status
PROGRESS_TTL = 24 * 3600


def progress_key(job_id: int) -> str:
    return f"funnel:import-job:{job_id}:progress"


def import_job_progress(*, job: ImportJob) -> dict[str, Any]:
    """Live progress while the job runs: rows and bytes done of the current file, in the cache
    (the import's own transaction would hide a database write until it commits)."""
    return cache.get(progress_key(job.pk)) or {"resource": job.resource, "rows": 0, "bytes": 0, "total": job.size}


def import_job_create(
    *, user, upload: UploadedFile, resource: str, mapping: ColumnMapping | None = None, save_as: str = ""
) -> ImportJob:
    """Store the upload and queue its dry run (`resource` is "" for a zip of CSV files).
    `save_as`: also save `mapping` under this name, for files with the same header."""
    if mapping is not None and save_as:
        upload.seek(0)
        header = importing.file_header(upload, mapping.comment)
        upload.seek(0)
        mapping_save(resource=mapping.resource, name=save_as, header=header, mapping=mapping, user=user)
        mapping = mapping_named(mapping.resource, save_as)
    job = ImportJob.objects.create(
        created_by=user, resource=resource, filename=upload.name[:255], size=upload.size or 0,
        file=upload, status=S.PREVIEW_QUEUED, mapping=mapping.to_json() if mapping else None,
    )
    _enqueue(job)
    return job


def import_job_confirm(*, job: ImportJob) -> bool:
    """Queue the real import of a checked file; False when the job is not ready for it."""
    updated = ImportJob.objects.filter(pk=job.pk, status=S.PREVIEWED).update(status=S.IMPORT_QUEUED)
    if updated:
        job.status = S.IMPORT_QUEUED
        _enqueue(job)
    return bool(updated)


def _enqueue(job: ImportJob) -> None:
    from smarketing.funnel.tasks import import_job_run

    # After commit: a worker must find the job row; in embedded mode this runs inline.
    transaction.on_commit(lambda: import_job_run.delay(job.pk))


def import_job_execute(*, job_id: int) -> None:
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status not in ImportJob.RUNNING:
        return
    dry_run = job.status in (S.PREVIEW_QUEUED, S.PREVIEWING)
    job.status = S.PREVIEWING if dry_run else S.IMPORTING
    job.save(update_fields=["status"])
    key = progress_key(job.pk)

    def progress(resource: str, rows: int, done: int, total: int) -> None:
        cache.set(key, {"resource": resource, "rows": rows, "bytes": done, "total": total}, PROGRESS_TTL)

    timing = Timing()
    try:
        report = _run(job, dry_run=dry_run, progress=progress)
    except Exception as exc:
        job.status = S.FAILED
        job.message = f"The import stopped: {exc}"
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "message", "finished_at"])
        if not dry_run:
            _log(job, timing, importing.ImportReport(), message=job.message)
        raise
    if report.ok:
        job.status = S.PREVIEWED if dry_run else S.DONE
    else:
        job.status = S.INVALID
    job.report = report.to_json()
    job.finished_at = None if dry_run and report.ok else timezone.now()
    job.save(update_fields=["status", "report", "finished_at"])
    if not dry_run:
        _log(job, timing, report)
    cache.delete(key)
    if job.status == S.DONE:
        job.file.delete(save=False)


def _log(job: ImportJob, timing: Timing, report: importing.ImportReport, message: str = "") -> None:
    import_log_add(source=ImportLog.Source.UPLOAD, timing=timing, report=report, user=job.created_by,
                   resource=job.resource, filename=job.filename, mapping=(job.mapping or {}).get("name", ""),
                   message=message)


def _run(job: ImportJob, *, dry_run: bool, progress: importing.Progress) -> importing.ImportReport:
    with job.file.open("rb") as stream:
        if job.resource:
            mapping = ColumnMapping.of(resource_get(job.resource), job.mapping) if job.mapping else None
            source = importing.CsvSource(job.resource, stream, job.size, job.filename, mapping)
            return importing.csv_import(sources=[source], dry_run=dry_run, progress=progress)
        try:
            archive = zipfile.ZipFile(stream)
        except zipfile.BadZipFile:
            return _report_error(dry_run, "the file is not a zip archive")
        with archive:
            sources, strays = importing.zip_sources(archive)
            if strays:
                return _report_error(
                    dry_run, f"files that name no resource: {', '.join(strays)} (name them <resource>.csv)"
                )
            if not sources:
                return _report_error(dry_run, "the zip holds no <resource>.csv file")
            return importing.csv_import(sources=sources, dry_run=dry_run, progress=progress)


def _report_error(dry_run: bool, message: str) -> importing.ImportReport:
    return importing.ImportReport(
        dry_run=dry_run, errors=[{"resource": "", "row": 0, "field": "", "message": message}]
    )
