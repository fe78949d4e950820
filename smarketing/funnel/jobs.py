"""Import jobs of the upload page: check a file (dry run), then import it, reporting progress.

The Celery task `funnel.tasks.import_job_run` calls `import_job_execute`; it may run twice
(a worker lost mid-import redelivers it): the import's transaction rolled back with the
worker, and an upsert by key repeated leaves the same rows.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from smarketing.funnel import importing
from smarketing.funnel.models import ImportJob

S = ImportJob.Status
PROGRESS_TTL = 24 * 3600


def progress_key(job_id: int) -> str:
    return f"funnel:import-job:{job_id}:progress"


def import_job_progress(*, job: ImportJob) -> dict[str, Any]:
    """Live progress while the job runs: rows and bytes done of the current file, in the cache
    (the import's own transaction would hide a database write until it commits)."""
    return cache.get(progress_key(job.pk)) or {"resource": job.resource, "rows": 0, "bytes": 0, "total": job.size}


def import_job_create(*, user, upload: UploadedFile, resource: str) -> ImportJob:
    """Store the upload and queue its dry run (`resource` is "" for a zip of CSV files)."""
    job = ImportJob.objects.create(
        created_by=user, resource=resource, filename=upload.name[:255], size=upload.size or 0,
        file=upload, status=S.PREVIEW_QUEUED,
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

    try:
        report = _run(job, dry_run=dry_run, progress=progress)
    except Exception as exc:
        job.status = S.FAILED
        job.message = f"The import stopped: {exc}"
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "message", "finished_at"])
        raise
    if report.ok:
        job.status = S.PREVIEWED if dry_run else S.DONE
    else:
        job.status = S.INVALID
    job.report = report.to_json()
    job.finished_at = None if dry_run and report.ok else timezone.now()
    job.save(update_fields=["status", "report", "finished_at"])
    cache.delete(key)
    if job.status == S.DONE:
        job.file.delete(save=False)


def upload_files_expire(*, now: dt.datetime | None = None) -> int:
    """Delete the files of jobs older than UPLOAD_RETENTION_DAYS: finished, failed, invalid, or
    abandoned (checked but never imported, or stuck waiting). Jobs not finished are closed as
    failed, so nobody confirms an import whose file is gone. Returns how many files went."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.UPLOAD_RETENTION_DAYS)
    finished = Q(finished_at__lt=cutoff) & Q(status__in=(S.DONE, S.FAILED, S.INVALID))
    abandoned = Q(created_at__lt=cutoff) & ~Q(status__in=(S.DONE, S.FAILED, S.INVALID))
    deleted = 0
    for job in ImportJob.objects.exclude(file="").filter(finished | abandoned):
        job.file.delete(save=False)
        if job.status not in (S.DONE, S.FAILED, S.INVALID):
            job.status = S.FAILED
            job.message = (f"The file was not imported within {settings.UPLOAD_RETENTION_DAYS:g} days "
                           "and has been deleted; upload it again.")
            job.finished_at = now or timezone.now()
        job.save(update_fields=["file", "status", "message", "finished_at"])
        deleted += 1
    return deleted


def _run(job: ImportJob, *, dry_run: bool, progress: importing.Progress) -> importing.ImportReport:
    with job.file.open("rb") as stream:
        if job.resource:
            source = importing.CsvSource(job.resource, stream, job.size, job.filename)
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
