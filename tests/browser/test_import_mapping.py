"""In real Chromium: a HubSpot contacts export uploaded, its proposed mapping accepted, one value the
preset does not cover mapped by hand, the first rows checked live, imported, and the dashboard moves."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.cache import cache

from smarketing.funnel import models as m

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = ["Record ID", "First Name", "Email", "Company Name", "Original Source", "Contact owner", "Create Date",
          "Became a Lead Date", "Became a Marketing Qualified Lead Date"]
ROWS = [
    ["501", "Ada", "ada@example.com", "Analytical", "Organic Search", "Jane Doe", "2026-01-05 09:30", "", "2026-01-07 10:00"],
    ["502", "Bob", "bob@example.com", "Byte", "Paid Social", "Jane Doe", "2026-01-06 08:00", "2026-01-06 08:05", ""],
    ["503", "Cy", "cy@example.com", "Coder", "Trade Show", "jane@example.com", "2026-01-08 14:20", "", ""],
    ["504", "Di", "di@example.com", "Dot", "Referrals", "", "2026-01-09 16:05", "", "2026-01-12 09:00"],
    ["505", "Ed", "ed@example.com", "Edge", "Direct Traffic", "Jane Doe", "2026-01-10 07:45", "", ""],
]
DASHBOARD = "/dashboards/shared/?window=custom&start=2026-01-01&end=2026-01-31"


def export() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(ROWS)
    return out.getvalue().encode()


def leads_tile(page, live_server) -> str:
    page.goto(f"{live_server.url}{DASHBOARD}")
    return page.locator('[data-metric="leads"] .tile-value').first.inner_text().strip()


def test_hubspot_export_mapped_fixed_checked_and_imported(page, live_server, data_manager, settings, tmp_path,
                                                          screenshot_dir):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    m.TeamMember.objects.create(email="jane@example.com", name="Jane Doe", team="sales")
    page.goto(f"{live_server.url}/accounts/login/?next={DASHBOARD.replace('&', '%26')}")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "manager-pass-123")
    page.click("button[type=submit]")
    assert leads_tile(page, live_server) == "0"

    page.goto(f"{live_server.url}/data/upload/")
    page.select_option("#id_resource", "contacts")
    page.set_input_files("#id_file", files=[{"name": "hubspot-contacts.csv", "mimeType": "text/csv",
                                             "buffer": export()}])
    page.wait_for_selector("#mapping-values-table")
    assert "preset “hubspot_contacts”" in page.locator("#mapping-origin").inner_text()
    source = page.locator('#mapping-columns tr[data-column="source_channel"] select[data-role="source"]')
    assert source.input_value() == "Original Source"
    assert page.locator('#mapping-columns tr[data-column="lead_at"] .then').inner_text() == "if empty, then: Create Date"
    assert page.locator("#mapping-ignored").inner_text() == "Ignored file columns: First Name"
    assert page.locator("#mapping-sample tbody tr").count() == 5
    assert page.locator("#mapping-errors tbody tr").all_inner_texts() == [
        "3\tsource_channel\t'Trade Show' (column 'Original Source') is not in the value map of source_channel"]
    page.screenshot(path=str(screenshot_dir / "mapping-proposed.png"), full_page=True)

    page.select_option('#mapping-values-table tr[data-value="Trade Show"] select', "events")
    page.wait_for_selector("#mapping-ok")
    assert page.locator("#mapping-ok").inner_text() == "All 5 rows checked are valid: 5 would be created, 0 updated."
    assert m.Contact.objects.count() == 0
    page.screenshot(path=str(screenshot_dir / "mapping-fixed.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(screenshot_dir / "mapping-fixed-phone.png"), full_page=True)
    # Wide tables scroll inside their panel: the page itself keeps the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1366, "height": 900})

    page.click("#check-button")
    page.wait_for_selector("#preview")
    assert page.locator("#counts tbody tr td").all_inner_texts() == ["contacts", "5", "5", "0"]
    page.click("#confirm-button")
    page.wait_for_selector("#done")
    assert page.locator("#done #counts tbody tr td").all_inner_texts() == ["contacts", "5", "5", "0"]
    page.screenshot(path=str(screenshot_dir / "mapping-imported.png"), full_page=True)
    assert dict(m.Contact.objects.values_list("external_id", "source_channel")) == {
        "501": "organic_search", "502": "paid_social", "503": "events", "504": "referral", "505": "direct"}

    assert leads_tile(page, live_server) == "5"
    page.screenshot(path=str(screenshot_dir / "mapping-dashboard.png"), full_page=True)
    page.goto(f"{live_server.url}/data/history/")
    cells = page.locator("#import-history tbody tr").first.locator("td").all_inner_texts()
    assert cells[1:] == ["Upload: manager", "hubspot-contacts.csv\nmapping hubspot_contacts", "contacts", "5", "5",
                         "0", "0", cells[-1]]
    page.screenshot(path=str(screenshot_dir / "import-history.png"), full_page=True)
