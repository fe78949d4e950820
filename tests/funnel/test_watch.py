"""The watched import folder: complete files imported once through the import path, moved to
done/ or failed/ (with their errors beside them), half-written files left alone."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from pathlib import Path

import pytest

from smarketing.funnel import models as m
from smarketing.funnel.watch import folder_poll, watch_name_parse
from tests.funnel.rows import to_csv

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def inbox(tmp_path, settings):
    settings.IMPORT_WATCH_DIR = str(tmp_path)
    return tmp_path


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()


def contacts(n: int, start: int = 0) -> bytes:
    return to_csv([{"external_id": f"C{i}", "source_channel": "email", "lead_at": "2026-01-05T09:00:00"}
                   for i in range(start, start + n)])


def ready(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.with_name(path.name + ".ready").write_text("")
    return path


def names(folder: Path) -> list[str]:
    # Moved files carry a time stamp: compare what follows it.
    return sorted(p.name.split("_", 1)[1] for p in folder.iterdir()) if folder.exists() else []


def test_names():
    assert watch_name_parse("contacts.csv") == ("contacts", "")
    assert watch_name_parse("contacts__hubspot_contacts.csv") == ("contacts", "hubspot_contacts")
    assert watch_name_parse("deals__my crm.csv") == ("deals", "my crm")
    assert watch_name_parse("leads.csv") is None
    assert watch_name_parse("contacts.txt") is None


def test_a_file_is_imported_once_and_moved(inbox):
    ready(inbox / "contacts.csv", contacts(3))
    [outcome] = folder_poll()
    assert (outcome.status, outcome.report.created) == ("done", 3)
    assert m.Contact.objects.count() == 3
    assert names(inbox / "done") == ["contacts.csv"]
    assert sorted(p.name for p in inbox.iterdir()) == ["done"]
    log = m.ImportLog.objects.get()
    assert (log.source, log.filename, log.rows, log.created, log.updated, log.errors) == (
        "folder", "contacts.csv", 3, 3, 0, 0)
    assert folder_poll() == []


def test_the_same_content_again_is_not_imported_twice(inbox):
    ready(inbox / "contacts.csv", contacts(2))
    folder_poll()
    m.Contact.objects.filter(external_id="C0").update(company="changed since")
    ready(inbox / "contacts.csv", contacts(2))
    [outcome] = folder_poll()
    assert outcome.status == "duplicate"
    # Not re-imported: the change made since stays.
    assert m.Contact.objects.get(external_id="C0").company == "changed since"
    assert names(inbox / "done") == ["contacts.csv", "contacts.csv", "contacts.csv.note.txt"]
    assert m.ImportLog.objects.count() == 1


def test_a_bad_file_writes_nothing_and_its_errors_go_beside_it(inbox):
    data = contacts(2) + b"C9,fax,2026-01-05T09:00:00\n"
    ready(inbox / "contacts.csv", data)
    [outcome] = folder_poll()
    assert outcome.status == "failed"
    assert m.Contact.objects.count() == 0
    assert names(inbox / "failed") == ["contacts.csv", "contacts.csv.errors.csv"]
    report = list(csv.reader(next((inbox / "failed").glob("*.errors.csv")).open()))
    assert report[0] == ["resource", "row", "field", "message"]
    assert report[1][:3] == ["contacts", "3", "source_channel"]
    assert report[1][3].startswith("'fax' is not one of: organic_search, ")
    assert len(report) == 2
    log = m.ImportLog.objects.get()
    assert (log.errors, log.created, log.sha256) == (1, 0, "")


def test_a_half_written_file_waits_until_its_size_is_stable(inbox):
    path = inbox / "contacts.csv"
    data = contacts(5)
    path.write_bytes(data[:40])
    assert folder_poll() == []  # first sight: its size is noted
    with path.open("ab") as out:
        out.write(data[40:])
    assert folder_poll() == []  # it grew since
    assert m.Contact.objects.count() == 0 and path.exists()
    [outcome] = folder_poll()  # unchanged since the last poll: complete
    assert (outcome.status, m.Contact.objects.count()) == ("done", 5)


def test_a_mapping_named_in_the_file_name_is_used(inbox):
    m.TeamMember.objects.create(email="jane@example.com", name="Jane Doe", team="sales")
    m.TeamMember.objects.create(email="sam@example.com", name="Sam Lee", team="marketing")
    shutil.copy(FIXTURES / "hubspot_contacts.csv", inbox / "contacts__hubspot_contacts.csv")
    (inbox / "contacts__hubspot_contacts.csv.ready").write_text("")
    [outcome] = folder_poll()
    assert (outcome.status, m.Contact.objects.count()) == ("done", 5)
    assert m.ImportLog.objects.get().mapping == "hubspot_contacts"


def test_a_zip_of_resources_imports_in_dependency_order_and_an_unknown_mapping_fails(inbox):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("touches.csv", to_csv([{"external_id": "T1", "contact_id": "C0",
                                                 "occurred_at": "2026-01-06T10:00:00", "channel": "email"}]))
        archive.writestr("contacts.csv", contacts(1))
    ready(inbox / "batch.zip", buffer.getvalue())
    ready(inbox / "deals__nope.csv", b"x\n1\n")
    outcomes = {o.name: o.status for o in folder_poll()}
    assert outcomes == {"batch.zip": "done", "deals__nope.csv": "failed"}
    assert (m.Contact.objects.count(), m.Touch.objects.count()) == (1, 1)
    errors = next((inbox / "failed").glob("*.errors.csv")).read_text()
    assert "deals__nope.csv: no mapping named 'nope' for deals" in errors


def test_a_file_naming_no_resource_fails_with_a_reason(inbox):
    ready(inbox / "leads.csv", contacts(1))
    [outcome] = folder_poll()
    assert outcome.status == "failed"
    assert outcome.report.errors[0]["message"] == (
        "files that name no resource: leads.csv (name them <resource>[__<mapping>].csv)")


def test_no_folder_set_does_nothing(settings):
    settings.IMPORT_WATCH_DIR = ""
    assert folder_poll() == []
