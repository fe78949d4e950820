"""`import_csv`: files of every resource round-trip, errors exit 1 with a table, nothing half-written."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.management import call_command

from smarketing.funnel import models as m
from smarketing.funnel.importing import (
    CsvSource,
    csv_example,
    csv_import,
    csv_template,
    zip_sources,
)
from smarketing.funnel.schemas import RESOURCES, row_validate
from smarketing.funnel.selectors import records_query
from tests.funnel.rows import to_csv, valid_rows, write_csv

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("import_csv", *args, stdout=out, stderr=io.StringIO())
    except SystemExit as exc:
        return int(exc.code), out.getvalue()
    return 0, out.getvalue()


def write_examples(folder) -> None:
    for name, resource in RESOURCES.items():
        (folder / f"{name}.csv").write_text(csv_example(resource))


def test_every_resource_round_trips_through_csv(tmp_path):
    write_examples(tmp_path)
    code, out = run("--dir", str(tmp_path))
    assert code == 0, out
    for name, resource in RESOURCES.items():
        sent = [row_validate(resource, row)[0] for row in valid_rows(name)]
        stored = [row_validate(resource, _contract_row(resource, row))[0]
                  for row in records_query(resource=resource)]
        def key(row, resource=resource):
            return tuple(str(row[c]) for c in resource.key)

        assert len(stored) == 2, name
        assert sorted(stored, key=key) == sorted(sent, key=key), name


def _contract_row(resource, row):
    """A stored row under contract column names (references as the referenced keys)."""
    out = {c: row[c] for c in resource.columns if c not in resource.refs}
    out.update({c: row[f"ref_{c}"] for c in resource.refs})
    return out


def test_example_contacts_are_stored_as_written(tmp_path):
    write_examples(tmp_path)
    run("--dir", str(tmp_path))
    second = m.Contact.objects.get(external_id="contacts-2")
    assert second.referred_by.external_id == "contacts-1"
    assert second.lead_at == dt.datetime(2026, 1, 6, 9, 30, tzinfo=dt.UTC)
    assert m.Deal.objects.get(external_id="deals-1").amount == Decimal("1250.00")


def test_importing_the_same_folder_twice_changes_nothing(tmp_path):
    write_examples(tmp_path)
    run("--dir", str(tmp_path))
    before = {name: list(r.model.objects.order_by("pk").values()) for name, r in RESOURCES.items()}
    code, out = run("--dir", str(tmp_path))
    assert code == 0
    assert "contacts: 2 rows, created 0, updated 2" in out
    assert {name: list(r.model.objects.order_by("pk").values()) for name, r in RESOURCES.items()} == before


def test_folder_import_is_one_transaction(tmp_path):
    write_examples(tmp_path)
    touches = valid_rows("touches")
    touches[1]["channel"] = "carrier pigeon"
    write_csv(tmp_path / "touches.csv", touches)
    code, out = run("--dir", str(tmp_path))
    assert code == 1
    assert "touches" in out and "carrier pigeon" in out
    # Files before touches.csv in dependency order were valid, and are not written either.
    assert m.Contact.objects.count() == 0 and m.Campaign.objects.count() == 0


def test_dry_run_writes_nothing_and_counts(tmp_path):
    path = write_csv(tmp_path / "campaigns.csv", valid_rows("campaigns"))
    code, out = run("campaigns", str(path), "--dry-run")
    assert code == 0
    assert "would create 2" in out and "dry run" in out
    assert m.Campaign.objects.count() == 0


def test_invalid_rows_exit_1_with_the_error_table(tmp_path):
    rows = [*valid_rows("audience"), {"date": "2026-01-09", "channel": "tiktok", "size": "-4"}]
    path = write_csv(tmp_path / "audience.csv", rows)
    code, out = run("audience", str(path))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "2 error(s); nothing was written."
    assert lines[1].split() == ["row", "field", "message"]
    assert lines[2].split()[:2] == ["3", "channel"]
    assert lines[3].split()[:2] == ["3", "size"]
    assert m.Audience.objects.count() == 0


def test_unknown_and_missing_columns_are_header_errors(tmp_path):
    rows = [{"date": "2026-01-05", "channel": "twitter", "size": "1", "colour": "red"}]
    path = write_csv(tmp_path / "audience.csv", rows, header=["date", "channel", "colour"])
    code, out = run("audience", str(path))
    assert code == 1
    assert "0    colour  unknown column" in out
    assert "0    size    required column is missing" in out


def test_byte_order_mark_is_accepted(tmp_path):
    path = write_csv(tmp_path / "campaigns.csv", valid_rows("campaigns"), bom=True)
    assert run("campaigns", str(path))[0] == 0
    assert m.Campaign.objects.count() == 2


def test_not_utf8_is_an_error(tmp_path):
    path = tmp_path / "campaigns.csv"
    path.write_bytes("external_id,name,channel\nx,Caf\xe9,email\n".encode("latin-1"))
    code, out = run("campaigns", str(path))
    assert code == 1
    assert "not UTF-8" in out


def test_a_row_with_too_many_cells_names_its_row(tmp_path):
    path = tmp_path / "campaigns.csv"
    path.write_text("external_id,name,channel\na,A,email\nb,B,email,extra\n")
    code, out = run("campaigns", str(path))
    assert code == 1
    assert "2           has 4 cells; the header has 3" in out


def test_csv_rows_are_numbered_from_one_under_the_header():
    body = to_csv([*valid_rows("campaigns"), {"external_id": "x", "name": "", "channel": "email"}])
    report = csv_import(sources=[CsvSource("campaigns", io.BytesIO(body))])
    assert [(e["resource"], e["row"], e["field"]) for e in report.errors] == [("campaigns", 3, "name")]


def test_big_file_streams_in_chunks_and_reports_progress():
    rows = [{"external_id": f"C{i}", "source_channel": "email", "lead_at": "2026-01-05T09:00:00"}
            for i in range(12_000)]
    body = to_csv(rows)
    seen = []
    report = csv_import(sources=[CsvSource("contacts", io.BytesIO(body), len(body))],
                        progress=lambda resource, n, done, total: seen.append((n, total)))
    assert report.ok and report.created == 12_000
    assert [n for n, _ in seen] == [10_000, 12_000]
    assert seen[-1][1] == len(body)


def test_zip_of_csvs_in_dependency_order():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("export/activities.csv", csv_example(RESOURCES["activities"]))
        archive.writestr("export/contacts.csv", csv_example(RESOURCES["contacts"]))
    buffer.seek(0)
    with zipfile.ZipFile(buffer) as archive:
        sources, strays = zip_sources(archive)
        report = csv_import(sources=sources)
    assert strays == []
    assert report.ok, report.errors
    assert [r.resource for r in report.results] == ["contacts", "activities"]
    assert m.Activity.objects.count() == 2


def test_template_is_the_header_of_contract_columns():
    assert csv_template(RESOURCES["audience"]) == "date,channel,size\n"
    assert csv_template(RESOURCES["targets"]) == "metric,period,period_start,value,owner_email,channel,campaign_id\n"


def test_big_file_shows_a_progress_bar_with_rows_per_second(tmp_path):
    rows = [{"external_id": f"CONTACT-{i:06d}", "email": f"someone{i}@example.com", "source_channel": "email",
             "lead_at": "2026-01-05T09:00:00"} for i in range(5000)]
    path = write_csv(tmp_path / "contacts.csv", rows)
    assert path.stat().st_size > 256 * 1024
    out, err = io.StringIO(), io.StringIO()
    call_command("import_csv", "contacts", str(path), stdout=out, stderr=err)
    assert "rows/s" in err.getvalue() and "contacts: 5,000 rows" in err.getvalue()
    assert "contacts: 5000 rows, created 5000, updated 0" in out.getvalue()


def test_small_file_has_no_progress_bar(tmp_path):
    path = write_csv(tmp_path / "campaigns.csv", valid_rows("campaigns"))
    err = io.StringIO()
    call_command("import_csv", "campaigns", str(path), stdout=io.StringIO(), stderr=err)
    assert err.getvalue() == ""
