"""Celery tasks of funnel: thin wrappers over `funnel.jobs`, safe to run twice."""

from celery import shared_task

from smarketing.funnel.jobs import import_job_execute
from smarketing.funnel.watch import folder_poll


@shared_task(name="smarketing.funnel.tasks.import_job_run", acks_late=True)
def import_job_run(job_id: int) -> None:
    import_job_execute(job_id=job_id)


@shared_task(name="smarketing.funnel.tasks.import_folder_poll", acks_late=True)
def import_folder_poll() -> None:
    folder_poll()
