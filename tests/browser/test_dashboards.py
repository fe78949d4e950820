"""Every dashboard in real Chromium on demo data: sign in, open, switch windows, filter,
drill down, export; every Plotly chart has data; screenshots under var/screenshots/."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from smarketing.dashboards.layouts import DASHBOARDS
from tests.browser.conftest import PASSWORD, last_data_day, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _charts_drawn(page) -> list[int]:
    """Per Plotly chart on the page, how many points its traces carry."""
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot').length === document.querySelectorAll('[data-figure]').length"
    )
    # The chart bundle holds only some trace types: a type it lacks would be drawn as another.
    drawn_as = page.evaluate(
        """Array.from(document.querySelectorAll('.js-plotly-plot')).flatMap(el =>
             el.data.map((t, i) => [t.type || 'scatter', el._fullData[i].type]))"""
    )
    assert all(asked == drawn for asked, drawn in drawn_as), drawn_as
    return page.evaluate(
        """Array.from(document.querySelectorAll('.js-plotly-plot')).map(el =>
             el.data.reduce((n, t) => n + (t.x || []).filter(v => v !== null).length, 0))"""
    )


def test_sign_in_opens_the_role_dashboard_and_every_dashboard_draws_its_charts(
    page, live_server, demo_data, screenshot_dir
):
    page.goto(f"{live_server.url}/dashboards/shared/")
    assert "/accounts/login/" in page.url  # nothing visible signed out
    sign_in(page, live_server, username="reader", password=PASSWORD)
    assert page.url.startswith(f"{live_server.url}/dashboards/executive/")

    for key, dashboard in DASHBOARDS.items():
        page.goto(f"{live_server.url}/dashboards/{key}/?window=ytd")
        assert page.locator("h1").inner_text() == dashboard.title
        points = _charts_drawn(page)
        charts = page.locator("[data-figure]").count()
        assert len(points) == charts
        assert all(count > 0 for count in points), (key, points)
        assert page.locator(".tile, .mini").count() > 0
        assert page.locator(".empty-state").count() == 0, key
        page.screenshot(path=str(screenshot_dir / f"dashboard-{key}-desktop.png"), full_page=True)


def test_shared_dashboard_shows_mtd_next_to_ytd_and_fits_a_phone(browser_context, chromium, live_server,
                                                                  demo_data, screenshot_dir):
    phone = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    try:
        page = phone.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        sign_in(page, live_server, username="reader", password=PASSWORD)
        for key in DASHBOARDS:
            page.goto(f"{live_server.url}/dashboards/{key}/?window=mtd")
            _charts_drawn(page)
            # readable on a phone: nothing wider than the screen
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], key
            page.screenshot(path=str(screenshot_dir / f"dashboard-{key}-phone.png"), full_page=True)
        page.goto(f"{live_server.url}/dashboards/shared/")
        windows = page.locator(".panel-tiles").first.locator(".tile").first.locator(".tile-window")
        assert windows.all_inner_texts() == ["Month to date", "Year to date"]  # as people write them
        assert errors == []
    finally:
        phone.close()


def test_switch_windows_filter_drill_down_and_export(page, live_server, demo_data, screenshot_dir):
    sign_in(page, live_server, username="reader", password=PASSWORD)
    page.goto(f"{live_server.url}/dashboards/shared/")

    page.click('.switcher a[data-window="qtd"]')
    page.wait_for_load_state("networkidle")
    assert "window=qtd" in page.url
    assert page.locator('.switcher a.active').inner_text() == "QTD"
    _charts_drawn(page)

    page.click('.switcher a[data-window="ytd"]')
    page.wait_for_load_state("networkidle")
    assert "window=ytd" in page.url

    # custom range from the switcher
    page.click('.switcher a[data-window="custom"]')
    page.fill("#custom-start", "2025-01-01")
    page.fill("#custom-end", "2025-03-31")
    page.click("#custom-range button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "window=custom" in page.url and "start=2025-01-01" in page.url
    assert "Jan 1, 2025" in page.locator(".window-range").inner_text()

    # compare complete periods, then filter by a channel: both stay in the URL
    page.goto(f"{live_server.url}/dashboards/channels/?window=ytd")
    page.select_option("#compare-select", "complete")
    page.wait_for_url(re.compile(r"compare=complete"))
    page.select_option("#filter-select", "channel:email")
    page.wait_for_url(re.compile(r"filter=channel%3Aemail"))
    assert "compare=complete" in page.url and "window=ytd" in page.url
    assert "Channel: Email" in page.locator(".active-filter").inner_text()
    _charts_drawn(page)

    # drill down from a tile into the records behind it, and export them
    # (pinned to the history's last day: a tile's first value is its month to date)
    page.goto(f"{live_server.url}/dashboards/shared/?window=ytd&as_of={last_data_day()}")
    tile = page.locator('.tile[data-metric="leads"]')
    shown = tile.locator(".tile-value").first.inner_text()
    tile.locator(".tile-value").first.click()
    page.wait_for_load_state("networkidle")
    assert "/metrics/leads/records/" in page.url
    total = int(re.search(r"of ([\d,]+)", page.locator("main").inner_text()).group(1).replace(",", ""))
    assert shown in (str(total), f"{total / 1000:.1f}k")
    assert page.locator("table.records tbody tr").count() == min(total, 50)
    page.screenshot(path=str(screenshot_dir / "records-leads-desktop.png"), full_page=True)
    if total > 50:
        page.click("a[rel=next]")
        page.wait_for_load_state("networkidle")
        assert "page=2" in page.url

    with page.expect_download() as download_info:
        page.click("#export-csv")
    download = download_info.value
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert len(rows) == total + 1
    assert download.suggested_filename.startswith("leads-")


def test_signed_out_user_sees_the_login_page_only(page, live_server, demo_data, screenshot_dir):
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.screenshot(path=str(screenshot_dir / "login-desktop.png"))
    sign_in(page, live_server, username="reader", password="wrong-password")
    assert "didn't match" in page.locator(".auth-card").inner_text()
