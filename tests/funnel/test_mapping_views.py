"""The upload page's mapping step: the JSON preview of the first 100 rows, the upload with a
mapping (and saving it), and the import history page."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from smarketing.funnel import models as m
from smarketing.funnel.watch import folder_poll
from tests.funnel.test_views import _media, capture, confirm  # noqa: F401 (_media: the autouse fixture)

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"
HEADER = ["Record ID", "Email", "Original Source", "Contact owner", "Create Date", "Became a Lead Date"]


@pytest.fixture
def members(db):
    m.TeamMember.objects.create(email="jane@example.com", name="Jane Doe", team="sales")


def hubspot(n: int, bad: dict[int, str] | None = None) -> str:
    """`n` HubSpot-shaped contacts; `bad` puts an Original Source no map covers on some rows (1-based)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for i in range(1, n + 1):
        source = (bad or {}).get(i, "Organic Search" if i % 2 else "Paid Social")
        writer.writerow([str(i), f"p{i}@example.com", source, "Jane Doe", "2026-01-05 09:00", ""])
    return out.getvalue()


def preview(client, text: str, **body):
    response = client.post(reverse("funnel:mapping_preview"), json.dumps({"resource": "contacts", "text": text, **body}),
                           content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def post_upload(client, text: str, mapping: dict, save_as: str = ""):
    with capture(execute=True):
        response = client.post(reverse("funnel:upload"), {
            "resource": "contacts", "file": SimpleUploadedFile("hubspot.csv", text.encode()),
            "mapping": json.dumps(mapping), "save_as": save_as,
        })
    assert response.status_code == 302, response.content
    return m.ImportJob.objects.latest("pk")


def test_preview_proposes_the_preset_shows_the_rows_and_checks_the_first_100(manager_client, members):
    text = hubspot(150, bad={3: "Trade Show", 7: "Trade Show", 120: "Podcast"})
    answer = preview(manager_client, text)
    assert (answer["origin"], answer["name"]) == ("preset", "hubspot_contacts")
    assert answer["header"] == HEADER
    assert answer["rows"][0] == ["1", "p1@example.com", "Organic Search", "Jane Doe", "2026-01-05 09:00", ""]
    assert len(answer["rows"]) == 5
    # Row 120 is past the first 100: not checked, not listed.
    assert answer["uncovered"] == {"source_channel": ["Trade Show"]}
    message = "'Trade Show' (column 'Original Source') is not in the value map of source_channel"
    assert answer["result"]["rows"] == 100
    assert answer["result"]["errors"] == [
        {"resource": "contacts", "row": 3, "field": "source_channel", "message": message},
        {"resource": "contacts", "row": 7, "field": "source_channel", "message": message},
    ]
    assert m.Contact.objects.count() == 0


def test_the_preview_matches_what_the_import_then_does(manager_client, members):
    text = hubspot(100, bad={3: "Trade Show"})
    mapping = preview(manager_client, text)["mapping"]
    # The same file, uploaded with the proposed mapping: the check finds what the preview found.
    job = post_upload(manager_client, text, mapping)
    assert job.status == m.ImportJob.Status.INVALID
    assert job.report["errors"] == preview(manager_client, text, mapping=mapping)["result"]["errors"]
    # One value fixed on the page, as a data manager does.
    mapping["fields"]["source_channel"]["values"]["Trade Show"] = "events"
    fixed = preview(manager_client, text, mapping=mapping)
    assert (fixed["result"]["errors"], fixed["uncovered"]) == ([], {})
    assert (fixed["result"]["created"], fixed["result"]["updated"]) == (100, 0)
    job = post_upload(manager_client, text, fixed["mapping"])
    assert job.status == m.ImportJob.Status.PREVIEWED
    assert (job.report["created"], job.report["updated"], job.report["rows"]) == (100, 0, 100)
    confirm(manager_client, job)
    assert m.Contact.objects.count() == 100
    assert m.Contact.objects.get(external_id="3").source_channel == "events"
    assert m.Contact.objects.filter(source_channel="paid_social").count() == 50
    # Run again on the stored records, the preview now says what a second import would do.
    again = preview(manager_client, text, mapping=fixed["mapping"])
    assert (again["result"]["created"], again["result"]["updated"]) == (0, 100)


def test_a_truncated_start_of_a_file_drops_its_cut_last_line(manager_client, members):
    text = hubspot(3)
    cut = text[: text.rindex("\n") - 5]
    answer = preview(manager_client, cut, truncated=True)
    assert answer["result"]["rows"] == 2


def test_a_mapping_saved_with_an_upload_is_proposed_for_the_next_file_with_those_headers(manager_client):
    text = "Kontakt,Quelle,Erstellt\nk1,Messe,24.12.2025\n"
    mapping = {"fields": {"external_id": "Kontakt", "source_channel": {"from": "Quelle", "values": {"Messe": "events"}},
                          "lead_at": {"from": "Erstellt", "format": "DD.MM.YYYY"}}}
    job = post_upload(manager_client, text, mapping, save_as="Messe-Export")
    assert job.status == m.ImportJob.Status.PREVIEWED
    assert job.mapping["name"] == "Messe-Export"
    saved = m.SavedMapping.objects.get()
    assert (saved.resource, saved.name, saved.headers) == ("contacts", "Messe-Export", ["Kontakt", "Quelle", "Erstellt"])
    answer = preview(manager_client, "Erstellt,Kontakt,Quelle\n01.02.2026,k2,Messe\n")
    assert (answer["origin"], answer["name"]) == ("saved", "Messe-Export")
    assert answer["result"]["errors"] == [] and answer["result"]["created"] == 1
    page = manager_client.get(reverse("funnel:upload")).content.decode()
    assert '"saved": ["Messe-Export"]' in page


def test_an_invalid_mapping_is_a_form_error(manager_client):
    with capture(execute=True):
        response = manager_client.post(reverse("funnel:upload"), {
            "resource": "contacts", "file": SimpleUploadedFile("x.csv", b"a\n1\n"),
            "mapping": json.dumps({"fields": {"nope": "a"}}),
        })
    assert response.status_code == 200
    assert "The column mapping cannot be used: nope: unknown column" in response.content.decode()
    assert not m.ImportJob.objects.exists()


def test_preview_needs_a_manager(signed_in_client):
    assert signed_in_client.post(reverse("funnel:mapping_preview"), "{}",
                                 content_type="application/json").status_code == 403


def test_preview_needs_a_resource_and_text(manager_client):
    url = reverse("funnel:mapping_preview")
    assert manager_client.post(url, "{}", content_type="application/json").status_code == 400
    assert manager_client.get(url).status_code == 405


def test_history_lists_uploads_api_requests_and_folder_imports(manager_client, data_manager, members, settings,
                                                               tmp_path):
    job = post_upload(manager_client, hubspot(2), preview(manager_client, hubspot(2))["mapping"])
    confirm(manager_client, job)
    response = manager_client.post("/api/v1/contacts/bulk/", [
        {"external_id": "api-1", "source_channel": "email", "lead_at": "2026-01-05T09:00:00"}],
        content_type="application/json")
    assert response.status_code == 200, response.content
    settings.IMPORT_WATCH_DIR = str(tmp_path)
    (tmp_path / "contacts.csv").write_text("external_id,source_channel,lead_at\nf1,fax,2026-01-05T09:00:00\n")
    (tmp_path / "contacts.csv.ready").write_text("")
    folder_poll()
    logs = list(m.ImportLog.objects.order_by("pk").values_list("source", "user__username", "filename", "created",
                                                              "errors"))
    assert logs == [("upload", "manager", "hubspot.csv", 2, 0), ("api", "manager", "", 1, 0),
                    ("folder", None, "contacts.csv", 0, 1)]
    page = manager_client.get(reverse("funnel:history")).content.decode()
    assert page.index("Folder import") < page.index("API bulk request: manager") < page.index("Upload: manager")
    assert "mapping hubspot_contacts" in page
