"""The import page in real Chromium: a file with errors, the fix, the preview, the import."""

from __future__ import annotations

import pytest

from smarketing.funnel import models as m
from tests.funnel.rows import to_csv

pytestmark = pytest.mark.browser

ROWS = [
    {"external_id": "spring", "name": "Spring launch", "channel": "email", "start_date": "2026-03-01",
     "end_date": "2026-03-31", "budget": "5000.00"},
    {"external_id": "webinar-1", "name": "Webinar series", "channel": "webinar", "start_date": "", "end_date": "",
     "budget": ""},
    {"external_id": "fair", "name": "Trade fair", "channel": "trade_fair", "start_date": "2026-05-10",
     "end_date": "2026-05-01", "budget": "12,000"},
]


def test_upload_errors_fix_and_import(page, live_server, data_manager, settings, tmp_path, screenshot_dir):
    settings.MEDIA_ROOT = tmp_path / "media"
    m.Campaign.objects.create(external_id="spring", name="Old name", channel="email")
    # Through the real login form, straight on to the import page.
    page.goto(f"{live_server.url}/accounts/login/?next=/data/upload/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "manager-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url("**/data/upload/")
    assert page.locator("h1").inner_text() == "Import data"
    assert page.locator("table.resources tbody tr").count() == 19
    page.screenshot(path=str(screenshot_dir / "upload-page.png"), full_page=True)
    page.select_option("#id_resource", "campaigns")
    page.set_input_files("#id_file", files=[
        {"name": "campaigns.csv", "mimeType": "text/csv", "buffer": to_csv(ROWS)},
    ])
    # The mapping step's own check of the first rows settles the layout first: a click while
    # it unfolds can land on what it pushed under the pointer.
    page.wait_for_selector("#mapping-ok, #mapping-errors-count")
    page.click("#check-button")
    page.wait_for_selector("#errors-table")
    assert "2 errors — nothing was written" in page.locator("#errors h2").inner_text()
    cells = [
        [cell.inner_text() for cell in row.locator("td").all()]
        for row in page.locator("#errors-table tbody tr").all()
    ]
    assert [(c[0], c[1]) for c in cells] == [("3", "channel"), ("3", "budget")]
    assert "'trade_fair' is not one of" in cells[0][2]
    page.screenshot(path=str(screenshot_dir / "upload-errors.png"), full_page=True)
    assert m.Campaign.objects.get(external_id="spring").name == "Old name"

    fixed = [*ROWS[:2], {**ROWS[2], "channel": "events", "end_date": "2026-05-12", "budget": "12000"}]
    page.select_option("#id_resource", "campaigns")
    page.set_input_files("#id_file", files=[
        {"name": "campaigns.csv", "mimeType": "text/csv", "buffer": to_csv(fixed)},
    ])
    page.click("#check-button")
    page.wait_for_selector("#preview")
    counts = page.locator("#counts tbody tr td").all_inner_texts()
    assert counts == ["campaigns", "3", "2", "1"]
    assert page.locator("#confirm-button").inner_text() == "Import 3 rows"

    page.click("#confirm-button")
    page.wait_for_selector("#done")
    assert page.locator("#done #counts tbody tr td").all_inner_texts() == ["campaigns", "3", "2", "1"]
    page.screenshot(path=str(screenshot_dir / "upload-done.png"), full_page=True)
    assert sorted(m.Campaign.objects.values_list("external_id", flat=True)) == ["fair", "spring", "webinar-1"]
    assert m.Campaign.objects.get(external_id="spring").name == "Spring launch"


def test_api_docs_render_from_local_assets(page, live_server, user, screenshot_dir):
    page.goto(f"{live_server.url}/accounts/login/?next=/api/docs/")
    page.fill("#id_username", "viewer")
    page.fill("#id_password", "viewer-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url("**/api/docs/")
    page.wait_for_selector("text=/api/v1/contacts/bulk/", timeout=20_000)
    page.screenshot(path=str(screenshot_dir / "api-docs.png"))
