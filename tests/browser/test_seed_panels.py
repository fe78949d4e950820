"""The seeds' practice panels in real Chromium on demo data: SLA by rep, leads needed, rejection
reasons with drill-down, close rates by offer, paid media, the SLA page; screenshots at 1366 and 390 px."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PASSWORD, sign_in
from tests.browser.test_dashboards import PHONE, _charts_drawn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PANELS = {
    "shared": ("Sales SLA by rep: worked, first attempt within 24 h, speed to lead", "Why MQLs are rejected"),
    "sales_manager": ("Marketing SLA: leads delivered vs leads needed from quota",),
    "campaigns": ("Revenue, ROI and CAC by campaign (closed loop)", "MQL rejection by campaign",
                  "Close rates by offer (type of lead)"),
    "channels": ("Paid media by channel", "Paid media by campaign", "Close rates by industry"),
    "sales_enablement": ("Close rates by offer (type of lead)", "Revenue by content (closed loop)"),
    "social_media": ("Paid social media",),
    "blog": ("Revenue by content (closed loop)",),
}


@pytest.mark.usefixtures("demo_data")
def test_new_panels_draw_and_drill_down(page, live_server, screenshot_dir):
    sign_in(page, live_server, username="reader", password=PASSWORD)
    for key, titles in PANELS.items():
        page.goto(f"{live_server.url}/dashboards/{key}/?window=ytd")
        for title in titles:
            assert page.get_by_role("heading", name=title).count() >= 1, (key, title)
        points = _charts_drawn(page)
        assert all(count > 0 for count in points), (key, points)
        page.screenshot(path=str(screenshot_dir / f"seeds-{key}.png"), full_page=True)

    # Close rates by type of lead read the mature cohorts only, with the counts behind each rate.
    page.goto(f"{live_server.url}/dashboards/campaigns/?window=ytd")
    offers = page.locator("section", has=page.get_by_role("heading", name="Close rates by offer (type of lead)"))
    assert "mature" in offers.locator("thead").inner_text().lower()
    assert offers.locator("[data-role=mature-note]").count() == 1
    parts = offers.locator("tbody td .parts").all_inner_texts()
    assert parts and all(" of " in text for text in parts), parts
    offers.screenshot(path=str(screenshot_dir / "seeds-close-rates-mature.png"))

    page.goto(f"{live_server.url}/dashboards/shared/?window=ytd")
    rejected = page.locator("section", has=page.get_by_role("heading", name="Why MQLs are rejected"))
    link = rejected.locator("table a").first
    link.click()
    page.wait_for_load_state("networkidle")
    assert "/metrics/mql_rejection_rate/records/" in page.url
    assert page.locator("table.records tbody tr").count() >= 1
    assert "reason" in page.locator("table.records thead").inner_text().lower()
    # Every listed lead is one sales rejected for the reason clicked.
    reason = page.url.split("key=")[1].split("&")[0]
    rows = page.locator("table.records tbody tr").all_inner_texts()
    assert rows and all(reason in row for row in rows)

    page.goto(f"{live_server.url}/sla/")
    assert page.locator("h1").inner_text() == "Lead handover SLA in force"
    assert "First attempt within 24 h of delivery" in page.content()
    page.screenshot(path=str(screenshot_dir / "seeds-sla.png"), full_page=True)

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/dashboards/sales_manager/?window=ytd")
    _charts_drawn(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, width
    page.screenshot(path=str(screenshot_dir / "seeds-sales_manager-390.png"), full_page=True)
