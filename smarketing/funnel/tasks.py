"""Celery tasks of funnel: thin wrappers over `funnel.jobs`, safe to run twice."""

from celery import shared_task

from smarketing.funnel.jobs import import_job_execute, upload_files_expire


@shared_task(name="smarketing.funnel.tasks.import_job_run", acks_late=True)
def import_job_run(job_id: int) -> None:
    import_job_execute(job_id=job_id)


@shared_task(name="smarketing.funnel.tasks.upload_files_expire")
def upload_files_expire_task() -> int:
    """Beat, hourly: uploaded files past their retention are deleted."""
    return upload_files_expire()
