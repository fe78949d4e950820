"""Beat entry point: every few minutes, send the digests that fell due (see services)."""

from celery import shared_task

from smarketing.digests.services import digests_send_due as digests_send_due_service


@shared_task(name="smarketing.digests.tasks.digests_send_due")
def digests_send_due() -> dict:
    report = digests_send_due_service()
    return {"due": report.due, "sent": report.sent, "retrying": report.retrying, "failed": report.failed}
