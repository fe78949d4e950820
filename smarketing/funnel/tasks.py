"""Celery tasks of funnel: thin wrappers over `funnel.jobs`, safe to run twice."""

import datetime as dt

from celery import shared_task
from django.conf import settings

from smarketing.funnel.jobs import import_job_execute, import_jobs_requeue, upload_files_expire
from smarketing.funnel.watch import folder_poll


@shared_task(name="smarketing.funnel.tasks.import_job_run", acks_late=True)
def import_job_run(job_id: int) -> None:
    import_job_execute(job_id=job_id)


@shared_task(name="smarketing.funnel.tasks.upload_files_expire")
def upload_files_expire_task() -> int:
    """Beat, hourly: uploaded files past their retention are deleted."""
    return upload_files_expire()


@shared_task(name="smarketing.funnel.tasks.import_jobs_sweep")
def import_jobs_sweep() -> int:
    """Beat, every SWEEP_INTERVAL seconds: send again the upload jobs no worker runs."""
    return import_jobs_requeue(older_than=dt.timedelta(seconds=settings.SWEEP_AFTER))


@shared_task(name="smarketing.funnel.tasks.import_folder_poll", acks_late=True)
def import_folder_poll() -> None:
    folder_poll()
