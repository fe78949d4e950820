"""The import page: who may use it, upload → preview → confirm, errors, templates, progress."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from smarketing.funnel import models as m
from smarketing.funnel.importing import csv_example
from smarketing.funnel.schemas import RESOURCES
from tests.funnel.rows import to_csv, valid_rows

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Tests run inside a transaction: run the on-commit task queueing when the request ends.
    _commit.append(django_capture_on_commit_callbacks)
    yield
    _commit.clear()


_commit: list = []


def capture(**kwargs):
    return _commit[-1](**kwargs)


def upload(client, resource: str, body: bytes, name: str = "file.csv"):
    """Post the form; the queued task runs (eagerly) once the request's work commits."""
    with capture(execute=True):
        response = client.post(reverse("funnel:upload"), {"resource": resource,
                                                           "file": SimpleUploadedFile(name, body)})
    if response.status_code != 302:
        return response
    return client.get(response["Location"])


def confirm(client, job):
    with capture(execute=True):
        response = client.post(reverse("funnel:job_confirm", args=[job.pk]))
    return client.get(response["Location"])


def test_signed_out_goes_to_login(client):
    response = client.get(reverse("funnel:upload"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_viewer_without_permission_sees_a_clear_forbidden_page(signed_in_client):
    response = signed_in_client.get(reverse("funnel:upload"))
    assert response.status_code == 403
    assert b"needs the data-manager permission" in response.content


def test_page_lists_every_resource_with_template_and_example(manager_client):
    page = manager_client.get(reverse("funnel:upload")).content.decode()
    for name in RESOURCES:
        assert f'href="/data/templates/{name}.csv"' in page
        assert f'href="/data/examples/{name}.csv"' in page
    assert "Your recent uploads" not in page


def test_template_and_example_downloads(signed_in_client):
    template = signed_in_client.get("/data/templates/cta_stats.csv")
    assert template["Content-Type"].startswith("text/csv")
    assert template.content == b"date,cta,placement,views,clicks\n"
    example = signed_in_client.get("/data/examples/cta_stats.csv")
    assert example.content.decode() == csv_example(RESOURCES["cta_stats"])
    assert signed_in_client.get("/data/templates/nope.csv").status_code == 404


def test_upload_preview_then_confirm(manager_client):
    rows = valid_rows("campaigns")
    response = upload(manager_client, "campaigns", to_csv(rows))
    job = m.ImportJob.objects.get()
    assert job.status == m.ImportJob.Status.PREVIEWED
    assert job.report["created"] == 2
    assert m.Campaign.objects.count() == 0
    assert b"Ready to import" in response.content and b"Import 2 rows" in response.content
    done = confirm(manager_client, job)
    job.refresh_from_db()
    assert job.status == m.ImportJob.Status.DONE
    assert m.Campaign.objects.count() == 2
    assert b"Imported" in done.content
    assert manager_client.get(reverse("funnel:upload")).content.count(b"campaigns") > 1


def test_upload_with_errors_shows_the_table_and_writes_nothing(manager_client):
    rows = [*valid_rows("campaigns"), {"external_id": "x", "name": "X", "channel": "fax"}]
    response = upload(manager_client, "campaigns", to_csv(rows))
    job = m.ImportJob.objects.get()
    assert job.status == m.ImportJob.Status.INVALID
    assert job.report["errors"] == [
        {"resource": "campaigns", "row": 3, "field": "channel",
         "message": "'fax' is not one of: " + ", ".join(RESOURCES["campaigns"].col("channel").choices)},
    ]
    assert b"1 error" in response.content and b"nothing was written" in response.content
    assert m.Campaign.objects.count() == 0
    # A job with errors cannot be confirmed.
    confirm(manager_client, job)
    job.refresh_from_db()
    assert job.status == m.ImportJob.Status.INVALID and m.Campaign.objects.count() == 0


def test_zip_upload(manager_client):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("contacts.csv", csv_example(RESOURCES["contacts"]))
        archive.writestr("campaigns.csv", csv_example(RESOURCES["campaigns"]))
    upload(manager_client, "__zip__", buffer.getvalue(), "data.zip")
    job = m.ImportJob.objects.get()
    assert [r["resource"] for r in job.report["resources"]] == ["campaigns", "contacts"]
    confirm(manager_client, job)
    assert (m.Campaign.objects.count(), m.Contact.objects.count()) == (2, 2)


def test_zip_with_a_stray_file_is_refused(manager_client):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("leads.csv", "a,b\n")
    upload(manager_client, "__zip__", buffer.getvalue(), "data.zip")
    job = m.ImportJob.objects.get()
    assert job.status == m.ImportJob.Status.INVALID
    assert "leads.csv" in job.report["errors"][0]["message"]


def test_form_refuses_a_zip_for_one_resource(manager_client):
    response = upload(manager_client, "campaigns", b"PK", "data.zip")
    assert b"choose the zip option" in response.content
    assert m.ImportJob.objects.count() == 0


def test_status_and_other_users_jobs(manager_client, django_user_model):
    upload(manager_client, "campaigns", to_csv(valid_rows("campaigns")))
    job = m.ImportJob.objects.get()
    status = manager_client.get(reverse("funnel:job_status", args=[job.pk])).json()
    assert status == {"status": "previewed", "label": "Checked: ready to import", "running": False,
                      "progress": None}
    other = django_user_model.objects.create_user("other")
    job.created_by = other
    job.save()
    assert manager_client.get(reverse("funnel:job", args=[job.pk])).status_code == 404


def test_running_job_page_polls_progress(manager_client, data_manager):
    from django.core.cache import cache

    from smarketing.funnel.jobs import progress_key

    job = m.ImportJob.objects.create(created_by=data_manager, resource="contacts", filename="big.csv",
                                     size=1000, file="imports/big.csv", status=m.ImportJob.Status.IMPORTING)
    cache.set(progress_key(job.pk), {"resource": "contacts", "rows": 1234, "bytes": 500, "total": 1000})
    page = manager_client.get(reverse("funnel:job", args=[job.pk])).content.decode()
    assert 'value="500"' in page and "1,234 rows done" in page
    assert reverse("funnel:job_status", args=[job.pk]) in page
    status = manager_client.get(reverse("funnel:job_status", args=[job.pk])).json()
    assert status["running"] is True and status["progress"]["rows"] == 1234
