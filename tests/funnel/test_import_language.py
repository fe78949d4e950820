"""Import errors in the reader's language: an upload's job writes its errors in the uploader's
language (the job runs after the request, in a worker or on commit), `import_csv` stays English.
Row numbers, field and column names, enum values and the file's own cells are never translated."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from smarketing.accounts.services import set_language
from smarketing.funnel import jobs
from smarketing.funnel import models as m
from tests.funnel.rows import to_csv, valid_rows, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def bad_web_traffic() -> bytes:
    """Row 1 fine; row 2 has a day February lacks and no page."""
    good, second = valid_rows("web_traffic")
    second.update(date="2026-02-30", page="")
    return to_csv([good, second])


def upload(client, body: bytes, capture, **headers):
    """Post the upload form; its job runs once the request's transaction commits, i.e. after the
    request's language was switched back (as in a worker)."""
    with capture(execute=True):
        response = client.post(reverse("funnel:upload"), {
            "resource": "web_traffic", "file": SimpleUploadedFile("traffic.csv", body)}, **headers)
    assert response.status_code == 302, response.content
    assert translation.get_language() == "en"
    return client.get(response["Location"], **headers)


def test_upload_errors_are_in_the_uploaders_language(manager_client, data_manager,
                                                     django_capture_on_commit_callbacks):
    set_language(data_manager, "zh-hans")
    page = upload(manager_client, bad_web_traffic(), django_capture_on_commit_callbacks)
    job = m.ImportJob.objects.get()
    assert job.status == m.ImportJob.Status.INVALID
    assert job.report["errors"] == [
        {"resource": "web_traffic", "row": 2, "field": "date", "message": "'2026-02-30' 不是有效的日历日期"},
        {"resource": "web_traffic", "row": 2, "field": "page", "message": "为必填项"},
    ]
    text = page.content.decode()
    assert "&#x27;2026-02-30&#x27; 不是有效的日历日期" in text and "为必填项" in text
    assert "is not a calendar date" not in text and "is required" not in text
    assert m.WebTraffic.objects.count() == 0


def test_uploader_without_a_setting_gets_their_browsers_language(manager_client,
                                                                  django_capture_on_commit_callbacks):
    # The upload page was read in Chinese (Accept-Language), which is remembered for the job.
    manager_client.get(reverse("funnel:upload"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    upload(manager_client, bad_web_traffic(), django_capture_on_commit_callbacks,
           HTTP_ACCEPT_LANGUAGE="zh-hans")
    messages = [e["message"] for e in m.ImportJob.objects.get().report["errors"]]
    assert messages == ["'2026-02-30' 不是有效的日历日期", "为必填项"]


def test_an_english_uploader_still_reads_english(manager_client, django_capture_on_commit_callbacks):
    upload(manager_client, bad_web_traffic(), django_capture_on_commit_callbacks)
    assert m.ImportJob.objects.get().report["errors"] == [
        {"resource": "web_traffic", "row": 2, "field": "date", "message": "'2026-02-30' is not a calendar date"},
        {"resource": "web_traffic", "row": 2, "field": "page", "message": "is required"},
    ]


def test_file_level_errors_are_translated_too(manager_client, data_manager, django_capture_on_commit_callbacks):
    set_language(data_manager, "zh-hans")
    body = b"date,page,section,source,visits,colour\n"
    upload(manager_client, body, django_capture_on_commit_callbacks)
    errors = m.ImportJob.objects.get().report["errors"]
    assert errors[0] == {
        "resource": "web_traffic", "row": 0, "field": "colour",
        "message": "未知列（web_traffic 的列：date, page, section, source, visits, entrances, bounces）",
    }


def test_queue_down_note_is_in_the_uploaders_language(data_manager, monkeypatch, settings, tmp_path):
    set_language(data_manager, "zh-hans")
    job = m.ImportJob.objects.create(created_by=data_manager, resource="web_traffic", filename="t.csv",
                                     status=m.ImportJob.Status.PREVIEW_QUEUED)
    monkeypatch.setattr("smarketing.celery.task_send", lambda task, *args: False)
    assert jobs._send(job.pk) is False
    job.refresh_from_db()
    assert job.message == "目前无法连接任务队列：队列恢复后任务会自动开始。您可以离开此页面。"


def test_import_csv_stays_english_whatever_language_is_active(tmp_path):
    good, second = valid_rows("web_traffic")
    second.update(date="2026-02-30", page="")
    path = write_csv(tmp_path / "web_traffic.csv", [good, second])
    out = io.StringIO()
    with translation.override("zh-hans"), pytest.raises(SystemExit) as exited:
        call_command("import_csv", "web_traffic", str(path), stdout=out, stderr=io.StringIO())
    assert exited.value.code == 1
    text = out.getvalue()
    assert "'2026-02-30' is not a calendar date" in text and "is required" in text
    assert "日历" not in text and "必填" not in text
    assert m.WebTraffic.objects.count() == 0
