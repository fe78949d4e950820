"""Exports, print view, notes on the timeline and alerts in real Chromium on demo data;
screenshots under var/screenshots/."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.core.management import call_command
from openpyxl import load_workbook

from smarketing.alerts.models import Rule
from smarketing.alerts.services import destination_save, rule_save
from smarketing.dashboards.models import Annotation
from smarketing.kpis.formatting import format_value
from tests.alerts.conftest import receiver  # noqa: F401 (the loopback webhook receiver fixture)
from tests.browser.conftest import last_data_day, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-pass-123"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def reader(django_user_model):
    cache.clear()
    call_command("seed_demo", contacts=400, no_progress=True)
    call_command("recompute_kpis", full=True)
    return django_user_model.objects.create_user(username="reader", password=PASSWORD, email="reader@x.example")


def _open(page, live_server, path: str) -> None:
    sign_in(page, live_server, username="reader", password=PASSWORD)
    page.goto(f"{live_server.url}{path}")
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot').length === document.querySelectorAll('[data-figure]').length")


def test_a_chart_downloads_as_png_and_svg_named_after_dashboard_chart_and_window(page, live_server, reader,
                                                                               tmp_path, screenshot_dir):
    _open(page, live_server, "/dashboards/campaigns/?window=ytd")
    chart = page.locator("section:has(h2:text-is('Leads by campaign')) [data-figure]").first
    chart.hover()
    page.wait_for_timeout(300)
    chart.screenshot(path=str(screenshot_dir / "export-chart-toolbar.png"))
    png = chart.locator('.modebar-btn[data-title="Download PNG"]')
    assert png.is_visible()
    with page.expect_download() as caught:
        png.click()
    download = caught.value
    assert re.fullmatch(r"campaigns-leads-by-campaign-ytd-\d{4}-01-01-\d{4}-\d{2}-\d{2}\.png",
                        download.suggested_filename), download.suggested_filename
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    data = saved.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    chart.hover()
    with page.expect_download() as caught:
        chart.locator('.modebar-btn[data-title="Download SVG"]').click()
    svg = tmp_path / caught.value.suggested_filename
    caught.value.save_as(svg)
    assert svg.suffix == ".svg" and b"<svg" in svg.read_bytes()[:400]


def test_a_table_downloads_as_xlsx_with_the_pages_numbers(page, live_server, reader, tmp_path):
    _open(page, live_server, "/dashboards/campaigns/?window=ytd")
    panel = page.locator("section:has(h2:text-is('Conversion by campaign'))")
    header = [cell.text_content().strip() for cell in panel.locator("table thead th").all()]
    body = [[cell.text_content().strip() for cell in row.locator("th, td").all()]
            for row in panel.locator("table tbody tr").all()]
    with page.expect_download() as caught:
        panel.locator("a.export-link", has_text="XLSX").click()
    saved = tmp_path / caught.value.suggested_filename
    caught.value.save_as(saved)
    sheet = load_workbook(saved).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == header
    assert len(rows) == len(body) + 2  # header, the page's rows, the "All" total
    units = [None, *(panel_unit for panel_unit in _units(page, "Conversion by campaign"))]
    for page_row, file_row in zip(body, rows[1:], strict=False):
        assert file_row[0] == page_row[0]
        for text, value, unit in zip(page_row[1:], file_row[1:], units[1:], strict=True):
            assert format_value(value, unit) == text.split(" / ")[0]


def _units(page, title: str) -> list[str]:
    from smarketing.dashboards.layouts import dashboard_get
    from smarketing.kpis.registry import metric_get

    board = dashboard_get("campaigns")
    panel = next(p for p in board.panels if p.title == title)
    return [metric_get(key).unit for key in panel.metrics]


def test_print_view_is_one_column_with_window_and_data_as_of(page, live_server, reader, screenshot_dir):
    _open(page, live_server, f"/dashboards/shared/?window=mtd&as_of={last_data_day()}")
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    page.wait_for_timeout(500)
    header = page.locator(".print-header")
    assert header.is_visible()
    assert re.search(r"Month to date: .+ · Data as of ", header.inner_text())
    assert not page.locator(".dash-nav").is_visible() and not page.locator(".controls").is_visible()
    lefts = set(page.evaluate("Array.from(document.querySelectorAll('.panels > section'))"
                              ".map(s => Math.round(s.getBoundingClientRect().left))"))
    assert len(lefts) == 1  # one column
    widths = page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot')).map(e => e._fullLayout.width)")
    assert widths and all(width == 680 for width in widths)
    page.screenshot(path=str(screenshot_dir / "print-shared.png"), full_page=True)
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf[:5] == b"%PDF-"
    (screenshot_dir / "print-shared.pdf").write_bytes(pdf)


def test_clicking_a_date_on_a_chart_adds_a_note_with_its_marker(page, live_server, reader, screenshot_dir):
    _open(page, live_server, f"/dashboards/shared/?window=mtd&as_of={last_data_day()}")
    chart = page.locator("[data-annotatable]").first
    chart.scroll_into_view_if_needed()
    x, y, day = page.evaluate("""() => {
        const el = document.querySelector('[data-annotatable]');
        const fl = el._fullLayout, trace = el.data[0], i = Math.floor(trace.x.length / 2);
        const px = fl.xaxis.l2p(fl.xaxis.d2l(trace.x[i])) + fl._size.l;
        const py = fl.yaxis.l2p(trace.y[i] || 0) + fl._size.t;
        const box = el.getBoundingClientRect();
        return [box.left + px, box.top + py, String(trace.x[i]).slice(0, 10)];
    }""")
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    dialog = page.locator("#annotation-dialog")
    dialog.wait_for(state="visible")
    assert page.input_value("#annotation-day") == day
    page.fill("#annotation-text", "Pricing page changed")
    page.screenshot(path=str(screenshot_dir / "annotation-dialog.png"))
    dialog.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    page.wait_for_function("document.querySelector('[data-annotatable]') && "
                           "document.querySelector('[data-annotatable]').classList.contains('js-plotly-plot')")
    note = Annotation.objects.get()
    assert (note.day.isoformat(), note.text, note.author) == (day, "Pricing page changed", reader)
    shapes = page.evaluate("document.querySelector('[data-annotatable]').layout.shapes.map(s => s.x0)")
    assert day in shapes  # (campaign starts of the month are markers too)
    # the label is cut to 16 characters (the whole note is on hover); the person's note keeps
    # its label even beside a campaign start of the month
    label = page.locator("[data-annotatable] .annotation-text", has_text="✎ Pricing page ch…")
    assert label.count() == 1
    page.locator("[data-annotatable]").first.screenshot(path=str(screenshot_dir / "annotation-marker.png"))


def test_alerts_page_and_the_bell_on_a_watched_tile(page, live_server, reader, receiver, screenshot_dir):  # noqa: F811
    slack = destination_save(owner=reader, name="#marketing-alerts", kind="slack",
                             target=f"{receiver.url}/services/T000/B000/secretsecret1234", secret=None)
    rule = rule_save(owner=reader, name="Leads fall behind", metric="leads", dimension="", key="", window="mtd",
                     condition={"type": "change", "percent": 20, "direction": "down"}, destinations=[slack])
    rule_save(owner=reader, name="Too few MQLs from email", metric="mqls", dimension="channel", key="email",
              window="last_30", condition={"type": "below", "value": 1000}, destinations=[slack])
    call_command("alerts_evaluate")
    _open(page, live_server, "/dashboards/shared/?window=mtd")
    bell = page.locator('.tile[data-metric="leads"] .tile-bell').first
    assert bell.is_visible()
    assert page.locator('.tile[data-metric="customers"] .tile-bell').count() == 0
    page.locator(".tiles").first.screenshot(path=str(screenshot_dir / "alerts-bell.png"))
    page.goto(f"{live_server.url}/alerts/")
    assert page.locator(f"#rule-{rule.pk}").is_visible()
    assert "secretsecret1234" not in page.content()
    page.screenshot(path=str(screenshot_dir / "alerts-page.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(screenshot_dir / "alerts-page-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    firing = Rule.objects.get(name="Too few MQLs from email")
    assert firing.state == "firing"
    assert len(receiver.requests) == 1 and receiver.requests[0].json()["blocks"][0]["type"] == "header"
