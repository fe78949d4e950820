"""Input at the edges: out-of-range timestamps and dates, lone surrogates, bytes that are not
UTF-8, hostile e-mail addresses and over-long lines are row errors naming row and field, in
CSV import, REST bulk and the upload page; upload and zip limits refuse before any work."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from smarketing.funnel import models as m
from smarketing.funnel.importing import CsvSource, csv_import
from smarketing.funnel.jobs import upload_files_expire
from smarketing.funnel.schemas import RESOURCES, row_validate
from tests.funnel.rows import store_examples, to_csv, valid_rows
from tests.funnel.test_import_csv import run
from tests.funnel.test_views import _media, upload  # noqa: F401  (its autouse fixture runs the queued jobs)

pytestmark = pytest.mark.django_db

LATE = "9999-12-31T23:59:59-23:59"
EARLY = "0001-01-01T00:00:00+23:59"
HOSTILE_EMAILS = ["<img/src=x/onerror=alert(11)>@xss.io", "=cmd|'/Ccalc'!A0@x.io"]



def contacts(**changes) -> list[dict[str, str]]:
    """Three valid contacts, the third one changed."""
    rows = [*valid_rows("contacts"), {**valid_rows("contacts")[0], "external_id": "contacts-3"}]
    rows[2].update(changes)
    return rows


def errors_of(report) -> list[tuple[int, str]]:
    return [(e["row"], e["field"]) for e in report.errors]


# --- the schema ------------------------------------------------------------------------------


@pytest.mark.parametrize("stamp", [LATE, EARLY, "1899-12-31T23:59:59+00:00", "2200-01-01T00:00:00Z"])
def test_out_of_range_timestamps_are_row_errors(stamp):
    values, errors = row_validate(RESOURCES["activities"], {**valid_rows("activities")[0], "occurred_at": stamp})
    assert values is None
    ((field, message),) = errors
    assert field == "occurred_at"
    assert "outside 1900–2199" in message


@pytest.mark.parametrize("stamp", ["1900-01-01T00:00:00Z", "2199-12-31T23:59:59+00:00", "2026-03-01T09:30:00"])
def test_timestamps_inside_the_range_pass(stamp):
    assert row_validate(RESOURCES["activities"], {**valid_rows("activities")[0], "occurred_at": stamp})[1] == []


@pytest.mark.parametrize(("day", "ok"), [("1899-12-31", False), ("1900-01-01", True), ("2199-12-31", True),
                                         ("2200-01-01", False), ("9999-12-31", False), ("0001-01-01", False)])
def test_dates_are_bounded_the_same_way(day, ok):
    errors = row_validate(RESOURCES["web_traffic"], {**valid_rows("web_traffic")[0], "date": day})[1]
    assert (errors == []) is ok
    if not ok:
        assert errors == [("date", f"'{day}' is outside 1900–2199")]


@pytest.mark.parametrize("email", [*HOSTILE_EMAILS, "a@b", "a b@example.com", "a@-example.com", "a@example.c0m"])
def test_email_columns_refuse_what_is_no_address(email):
    _, errors = row_validate(RESOURCES["contacts"], {**valid_rows("contacts")[0], "email": email})
    assert errors and errors[0][0] == "email"
    _, errors = row_validate(RESOURCES["team_members"], {**valid_rows("team_members")[0], "email": email})
    assert errors and errors[0][0] == "email"


@pytest.mark.parametrize("email", ["ann.o'neil+crm@example.co.uk", "x_y-z%1@sub.example-mail.com",
                                   "jürgen@bücher.de", "ops@xn--bcher-kva.de"])
def test_real_addresses_pass(email):
    assert row_validate(RESOURCES["contacts"], {**valid_rows("contacts")[0], "email": email})[1] == []


def test_a_lone_surrogate_is_a_row_error_in_any_text_column():
    _, errors = row_validate(RESOURCES["contacts"], {**valid_rows("contacts")[0], "company": "Acme \ud800"})
    assert errors == [("company", "is not UTF-8 text (holds a byte or a lone surrogate such as \\ud800 "
                                  "that is no character)")]


# --- CSV import (command and library) ----------------------------------------------------------


def test_csv_out_of_range_timestamps_name_row_and_field_and_write_nothing():
    store_examples("campaigns", "team_members")
    body = to_csv(contacts(lead_at=LATE, mql_at=EARLY))
    report = csv_import(sources=[CsvSource("contacts", io.BytesIO(body))])
    assert errors_of(report) == [(3, "lead_at"), (3, "mql_at")]
    assert m.Contact.objects.count() == 0


def test_import_csv_reports_out_of_range_timestamps_without_a_traceback(tmp_path):
    store_examples("campaigns", "team_members")
    path = tmp_path / "contacts.csv"
    path.write_bytes(to_csv(contacts(lead_at=LATE)))
    code, out = run("contacts", str(path))
    assert code == 1
    assert "3" in out and "lead_at" in out and "outside 1900–2199" in out
    assert "Traceback" not in out


def test_a_byte_that_is_not_utf8_is_reported_at_its_row_and_field():
    store_examples("campaigns", "team_members")
    body = to_csv(contacts(company="CAFEBABE")).replace(b"CAFEBABE", b"Caf\xe9")
    report = csv_import(sources=[CsvSource("contacts", io.BytesIO(body))])
    assert errors_of(report) == [(3, "company")]
    assert "not UTF-8 text" in report.errors[0]["message"]
    json.dumps(report.to_json()).encode("utf-8")  # storable and showable as it is


def test_a_file_that_is_not_utf8_at_all_is_still_reported_row_by_row():
    body = "external_id,name,channel\nx,Caf\xe9,email\ny,Th\xe9,email\n".encode("latin-1")
    report = csv_import(sources=[CsvSource("campaigns", io.BytesIO(body))])
    assert errors_of(report) == [(1, "name"), (2, "name")]


def test_a_line_past_the_limit_is_refused_without_reading_it_whole(settings):
    settings.UPLOAD_MAX_LINE_KB = 1
    body = b"external_id,name,channel\nx,X,email\n" + b"y," + b"Y" * 5000 + b",email\n"
    report = csv_import(sources=[CsvSource("campaigns", io.BytesIO(body))])
    assert errors_of(report) == [(2, "")]
    assert "longer than 1 KB (UPLOAD_MAX_LINE_KB)" in report.errors[0]["message"]
    assert m.Campaign.objects.count() == 0


def test_a_header_line_past_the_limit_is_refused(settings):
    settings.UPLOAD_MAX_LINE_KB = 1
    report = csv_import(sources=[CsvSource("campaigns", io.BytesIO(b"x" * 5000))])
    assert errors_of(report) == [(0, "")]
    assert "header line is longer than 1 KB" in report.errors[0]["message"]


# --- REST bulk ------------------------------------------------------------------------------------


@pytest.mark.parametrize("stamp", [LATE, EARLY])
def test_rest_bulk_out_of_range_timestamps_are_400_row_errors(manager_api, stamp):
    store_examples("campaigns", "team_members")
    response = manager_api.post("/api/v1/contacts/bulk/", contacts(lead_at=stamp), format="json")
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert (error["row"], error["field"]) == (3, "lead_at")
    assert m.Contact.objects.count() == 0


def test_rest_bulk_lone_surrogate_is_a_400_row_error(manager_api):
    store_examples("campaigns", "team_members")
    rows = contacts(company="SURROGATE")
    body = json.dumps(rows).replace("SURROGATE", "\\ud800")
    response = manager_api.post("/api/v1/contacts/bulk/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"errors": [{
        "row": 3, "field": "company",
        "message": "is not UTF-8 text (holds a byte or a lone surrogate such as \\ud800 that is no character)"}]}
    assert m.Contact.objects.count() == 0


def test_rest_bulk_lone_surrogate_in_a_column_name_is_a_row_error(manager_api):
    body = json.dumps([{**valid_rows("campaigns")[0], "SURROGATE": "x"}]).replace("SURROGATE", "\\udc80")
    response = manager_api.post("/api/v1/campaigns/bulk/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"errors": [{"row": 1, "message": "a column name is not UTF-8 text (holds a byte "
                                                                "or a lone surrogate such as \\ud800 that is no character)"}]}


@pytest.mark.parametrize("email", HOSTILE_EMAILS)
def test_rest_bulk_refuses_hostile_addresses(manager_api, email):
    response = manager_api.post("/api/v1/team_members/bulk/",
                                [{**valid_rows("team_members")[0], "email": email}], format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "email"


# --- the upload page ------------------------------------------------------------------------------


def test_upload_page_lists_out_of_range_timestamps_with_row_and_column(manager_client):
    store_examples("campaigns", "team_members")
    page = upload(manager_client, "contacts", to_csv(contacts(lead_at=LATE)))
    job = m.ImportJob.objects.get()
    assert job.status == m.ImportJob.Status.INVALID
    assert [(e["row"], e["field"]) for e in job.report["errors"]] == [(3, "lead_at")]
    text = page.content.decode()
    assert "outside 1900–2199" in text and "date value out of range" not in text


def test_upload_page_names_the_row_of_a_byte_that_is_not_utf8(manager_client):
    store_examples("campaigns", "team_members")
    page = upload(manager_client, "contacts", to_csv(contacts(company="CAFEBABE")).replace(b"CAFEBABE", b"Caf\xe9"))
    job = m.ImportJob.objects.get()
    assert [(e["row"], e["field"]) for e in job.report["errors"]] == [(3, "company")]
    assert "not UTF-8 text" in page.content.decode()


def test_an_upload_past_the_size_limit_is_refused_before_it_is_stored(manager_client, settings, tmp_path):
    settings.UPLOAD_MAX_MB = 1
    body = to_csv(valid_rows("campaigns")) + b"#" * (2 * 1024 * 1024)
    response = upload(manager_client, "campaigns", body)
    assert response.status_code == 413
    assert "the limit is 1 MB (UPLOAD_MAX_MB)" in response.content.decode()
    assert not m.ImportJob.objects.exists()
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").rglob("*.csv"))


def test_an_upload_at_the_limit_is_accepted(manager_client, settings):
    settings.UPLOAD_MAX_MB = 1
    body = to_csv(valid_rows("campaigns"))
    body += b"\n" * (1024 * 1024 - len(body))
    response = upload(manager_client, "campaigns", body)
    assert response.status_code == 200
    assert m.ImportJob.objects.get().status == m.ImportJob.Status.PREVIEWED


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_by_its_expansion_ratio(manager_client):
    bomb = _zip({"campaigns.csv": b"external_id,name,channel\n" + b"x" * (20 * 1024 * 1024)})
    response = upload(manager_client, "__zip__", bomb, name="data.zip")
    assert response.status_code == 200
    assert "campaigns.csv would expand" in response.content.decode()
    assert "UPLOAD_ZIP_MAX_RATIO" in response.content.decode()
    assert not m.ImportJob.objects.exists()


def test_a_zip_past_the_total_unpacked_size_is_refused(manager_client, settings):
    settings.UPLOAD_ZIP_MAX_TOTAL_MB = 1
    rows = b"".join(b"c%d,Campaign %d,email\n" % (i, i * 7919 % 100003) for i in range(60_000))
    response = upload(manager_client, "__zip__", _zip({"campaigns.csv": b"external_id,name,channel\n" + rows}),
                      name="data.zip")
    assert "UPLOAD_ZIP_MAX_TOTAL_MB" in response.content.decode()
    assert not m.ImportJob.objects.exists()


def test_a_file_named_zip_that_is_none_is_refused_at_once(manager_client):
    response = upload(manager_client, "__zip__", b"not a zip", name="data.zip")
    assert "The file is not a zip archive." in response.content.decode()
    assert not m.ImportJob.objects.exists()


# --- retention --------------------------------------------------------------------------------------


def test_upload_files_past_the_retention_are_deleted_and_abandoned_jobs_closed(settings, data_manager):
    settings.UPLOAD_RETENTION_DAYS = 7
    now = dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC)
    S = m.ImportJob.Status

    def job(status, created_days_ago, finished_days_ago=None):
        made = m.ImportJob.objects.create(created_by=data_manager, resource="campaigns", filename="f.csv",
                                          file=SimpleUploadedFile("f.csv", b"external_id,name,channel\n"),
                                          status=status)
        m.ImportJob.objects.filter(pk=made.pk).update(
            created_at=now - dt.timedelta(days=created_days_ago),
            finished_at=None if finished_days_ago is None else now - dt.timedelta(days=finished_days_ago))
        made.refresh_from_db()
        return made

    old_failed = job(S.FAILED, 9, finished_days_ago=8)
    old_invalid = job(S.INVALID, 9, finished_days_ago=7.5)
    abandoned_preview = job(S.PREVIEWED, 8)
    stuck = job(S.PREVIEW_QUEUED, 10)
    recent_failed = job(S.FAILED, 9, finished_days_ago=6)
    recent_preview = job(S.PREVIEWED, 6)
    paths = {j.pk: j.file.path for j in m.ImportJob.objects.all()}

    assert upload_files_expire(now=now) == 4
    gone = {old_failed.pk, old_invalid.pk, abandoned_preview.pk, stuck.pk}
    for one in m.ImportJob.objects.all():
        assert bool(one.file) is (one.pk not in gone)
        assert (one.pk in gone) is not __import__("os").path.exists(paths[one.pk])
    abandoned_preview.refresh_from_db()
    assert abandoned_preview.status == S.FAILED
    assert "not imported within 7 days" in abandoned_preview.message
    assert m.ImportJob.objects.get(pk=recent_preview.pk).status == S.PREVIEWED
    assert m.ImportJob.objects.get(pk=recent_failed.pk).status == S.FAILED
    assert upload_files_expire(now=now) == 0  # idempotent
