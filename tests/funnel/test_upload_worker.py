"""With services on, the upload page's check and import run in a real Celery worker."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from smarketing.funnel import models as m
from tests.funnel.rows import to_csv

pytestmark = pytest.mark.services


def wait_for(client, job_id: int, status: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = client.get(reverse("funnel:job_status", args=[job_id])).json()
        if not answer["running"]:
            assert answer["status"] == status, answer
            return answer
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still running after {timeout} s")


def test_upload_is_checked_and_imported_by_the_worker(celery_worker, manager_client):
    rows = [{"external_id": f"C{i}", "source_channel": "email", "lead_at": "2026-01-05T09:00:00"}
            for i in range(3000)]
    response = manager_client.post(reverse("funnel:upload"), {
        "resource": "contacts", "file": SimpleUploadedFile("contacts.csv", to_csv(rows)),
    })
    job = m.ImportJob.objects.get()
    assert response["Location"] == reverse("funnel:job", args=[job.pk])
    wait_for(manager_client, job.pk, "previewed")
    job.refresh_from_db()
    assert (job.report["created"], m.Contact.objects.count()) == (3000, 0)
    manager_client.post(reverse("funnel:job_confirm", args=[job.pk]))
    wait_for(manager_client, job.pk, "done")
    assert m.Contact.objects.count() == 3000
    page = manager_client.get(reverse("funnel:job", args=[job.pk])).content.decode()
    assert "Imported" in page and "3,000" in page
