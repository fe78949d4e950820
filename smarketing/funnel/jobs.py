"""Import jobs of the upload page: check a file (dry run), then import it, reporting progress.

The Celery task `funnel.tasks.import_job_run` calls `import_job_execute`; it may run twice
(a worker lost mid-import redelivers it, the beat sweep sends a job again that stayed queued):
the import's transaction rolled back with the worker, an upsert by key repeated leaves the
same rows, and on PostgreSQL a lock per job keeps two runs of one job from overlapping.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from smarketing.accounts.services import language_for
from smarketing.funnel import importing
from smarketing.funnel.db import WriteConflict
from smarketing.funnel.history import Timing, import_log_add
from smarketing.funnel.mapping import ColumnMapping, mapping_named, mapping_save
from smarketing.funnel.models import ImportJob, ImportLog
from smarketing.funnel.schemas import resource_get

S = ImportJob.Status
PROGRESS_TTL = 24 * 3600
# pg_try_advisory_lock(class, job id): held by the process running the job.
JOB_LOCK_CLASS = 74_186
QUEUE_DOWN = gettext_noop("The task queue cannot be reached right now: the job starts by itself as soon as "
                          "it is back. You may leave this page.")


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
    # After commit: a worker must find the job row; in embedded mode this runs inline.
    ImportJob.objects.filter(pk=job.pk).update(queued_at=timezone.now())
    transaction.on_commit(lambda: _send(job.pk))


def _send(job_id: int) -> bool:
    from smarketing.celery import task_send
    from smarketing.funnel.tasks import import_job_run

    sent = task_send(import_job_run, job_id)
    # The page says why nothing moves (in the uploader's words); the sweep sends the job again
    # once the queue is back.
    message = ""
    if not sent:
        job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
        with translation.override(_uploader_language(job.created_by if job else None)):
            message = _(QUEUE_DOWN)
    ImportJob.objects.filter(pk=job_id, status__in=ImportJob.RUNNING).update(message=message)
    return sent


def _uploader_language(user) -> str:
    """The language an upload's messages are written in: its uploader's (see `language_for`),
    the site's when the uploader's account is gone."""
    return language_for(user) if user is not None else settings.LANGUAGE_CODE


def import_jobs_requeue(*, older_than: dt.timedelta) -> int:
    """Send again the jobs still waiting or running `older_than` after they were sent, when no
    process runs them (their worker died, or the queue was down): returns how many."""
    cutoff = timezone.now() - older_than
    sent = 0
    for job_id in ImportJob.objects.filter(status__in=ImportJob.RUNNING, queued_at__lt=cutoff).values_list(
            "pk", flat=True):
        with _job_lock(job_id) as free:
            if not free:
                continue  # a worker is on it
            ImportJob.objects.filter(pk=job_id).update(queued_at=timezone.now())
        sent += _send(job_id)
    return sent


@contextmanager
def _job_lock(job_id: int) -> Iterator[bool]:
    """Whether this process may run the job (PostgreSQL: a session lock per job; SQLite runs
    jobs in-process, one at a time)."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [JOB_LOCK_CLASS, job_id])
        free = cursor.fetchone()[0]
    try:
        yield free
    finally:
        if free:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [JOB_LOCK_CLASS, job_id])


def import_job_execute(*, job_id: int) -> None:
    with _job_lock(job_id) as free:
        if free:
            _execute(job_id)


def _execute(job_id: int) -> None:
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.status not in ImportJob.RUNNING:
        return
    # The report's errors and the job's message are stored as text: written in the uploader's
    # language, whichever worker runs the job (the request's language, inline in embedded mode).
    with translation.override(_uploader_language(job.created_by)):
        _execute_job(job)


def _execute_job(job: ImportJob) -> None:
    dry_run = job.status in (S.PREVIEW_QUEUED, S.PREVIEWING)
    job.status = S.PREVIEWING if dry_run else S.IMPORTING
    job.message = ""
    job.save(update_fields=["status", "message"])
    key = progress_key(job.pk)

    def progress(resource: str, rows: int, done: int, total: int) -> None:
        cache.set(key, {"resource": resource, "rows": rows, "bytes": done, "total": total}, PROGRESS_TTL)

    timing = Timing()
    try:
        report = _run(job, dry_run=dry_run, progress=progress)
    except Exception as exc:
        job.status = S.FAILED
        job.message = _failure_message(exc)
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "message", "finished_at"])
        if not dry_run:
            _log(job, timing, importing.ImportReport(), message=job.message)
        if isinstance(exc, WriteConflict | OperationalError):
            return  # said on the page; nothing the worker's log needs beyond the warning
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


def upload_files_expire(*, now: dt.datetime | None = None) -> int:
    """Delete the files of jobs older than UPLOAD_RETENTION_DAYS: finished, failed, invalid, or
    abandoned (checked but never imported, or stuck waiting). Jobs not finished are closed as
    failed, so nobody confirms an import whose file is gone. Returns how many files went."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.UPLOAD_RETENTION_DAYS)
    finished = Q(finished_at__lt=cutoff) & Q(status__in=(S.DONE, S.FAILED, S.INVALID))
    abandoned = Q(created_at__lt=cutoff) & ~Q(status__in=(S.DONE, S.FAILED, S.INVALID))
    deleted = 0
    for job in ImportJob.objects.exclude(file="").filter(finished | abandoned).select_related("created_by"):
        job.file.delete(save=False)
        if job.status not in (S.DONE, S.FAILED, S.INVALID):
            job.status = S.FAILED
            with translation.override(_uploader_language(job.created_by)):
                job.message = _("The file was not imported within {days} days and has been deleted; "
                                "upload it again.").format(days=f"{settings.UPLOAD_RETENTION_DAYS:g}")
            job.finished_at = now or timezone.now()
        job.save(update_fields=["file", "status", "message", "finished_at"])
        deleted += 1
    return deleted


def _failure_message(exc: Exception) -> str:
    """What the upload page says: never the database's own words (they name tables and SQL)."""
    if isinstance(exc, WriteConflict):
        return str(exc)
    if isinstance(exc, OperationalError):
        import logging

        logging.getLogger("smarketing.funnel").warning("import job failed in the database: %s", exc)
        return _("The database stopped the import (it may be restarting or overloaded); nothing was written. "
                 "Try again in a few minutes.")
    return _("The import stopped: {error}").format(error=exc)


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
            return _report_error(dry_run, _("the file is not a zip archive"))
        with archive:
            sources, strays = importing.zip_sources(archive)
            if strays:
                return _report_error(dry_run, _("files that name no resource: {names} (name them <resource>.csv)")
                                     .format(names=", ".join(strays)))
            if not sources:
                return _report_error(dry_run, _("the zip holds no <resource>.csv file"))
            return importing.csv_import(sources=sources, dry_run=dry_run, progress=progress)


def _report_error(dry_run: bool, message: str) -> importing.ImportReport:
    return importing.ImportReport(
        dry_run=dry_run, errors=[{"resource": "", "row": 0, "field": "", "message": message}]
    )
