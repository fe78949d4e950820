"""Own boards in real Chromium: build one by clicking (pick, drag, resize, save, reload), and
duplicate `shared` and edit it. Screenshots of both at laptop and phone widths."""

from __future__ import annotations

import re

import pytest

from smarketing.dashboards.models import Board
from tests.browser.conftest import PASSWORD, sign_in
from tests.browser.test_presentation import OVERLAPS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
BOARD_PAGE = re.compile(r".*/boards/\d+/(\?.*)?$")

# Any two header, control or panel-title texts drawn over each other.
HEAD_OVERLAPS = """() => {
  const els = Array.from(document.querySelectorAll(
    '.dash-head h1, .board-actions > *, .switcher .seg, .filters .field, .saved-views > summary, .panel-head h2, .panel-head .chip'))
    .filter(el => el.getBoundingClientRect().width > 0);
  const hits = [];
  for (let i = 0; i < els.length; i++) for (let j = i + 1; j < els.length; j++) {
    if (els[i].contains(els[j]) || els[j].contains(els[i])) continue;
    const a = els[i].getBoundingClientRect(), b = els[j].getBoundingClientRect();
    const w = Math.min(a.right, b.right) - Math.max(a.left, b.left), h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    if (w > 1 && h > 1) hits.push(els[i].textContent.trim().slice(0, 30) + ' × ' + els[j].textContent.trim().slice(0, 30));
  }
  return hits;
}"""


def _looks_right(page, name: str, screenshot_dir) -> None:
    for size, label in ((LAPTOP, "laptop"), (PHONE, "phone")):
        page.set_viewport_size(size)
        page.reload()
        page.wait_for_load_state("networkidle")
        assert page.evaluate(HEAD_OVERLAPS) == [], label
        assert page.evaluate(OVERLAPS)["hits"] == [], label
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"], label
        page.screenshot(path=str(screenshot_dir / f"board-{name}-{label}.png"), full_page=True)
    page.set_viewport_size(LAPTOP)


def _panel_titles(page) -> list[str]:
    return page.locator(".editor-panel .metric-chip").all_inner_texts()


def _drag(page, source, target) -> None:
    """Press on the handle, move in steps past the target's top edge, release (SortableJS's
    pointer fallback, as a person's mouse does)."""
    start = source.bounding_box()
    end = target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    steps = 12
    for step in range(1, steps + 1):
        x = start["x"] + (end["x"] + 8 - start["x"]) * step / steps
        y = start["y"] + (end["y"] + 8 - start["y"]) * step / steps
        page.mouse.move(x, y)
        page.wait_for_timeout(30)
    page.mouse.up()


def test_build_a_board_by_clicking_and_the_layout_persists(page, live_server, demo_data, screenshot_dir):
    sign_in(page, live_server, username="reader", password=PASSWORD)
    page.goto(f"{live_server.url}/dashboards/shared/")
    page.click("#new-board-link")
    page.wait_for_url("**/boards/new/")
    page.fill("#board-title", "My reps this quarter")
    for search, key in (("lead", "leads"), ("mql", "mqls"), ("revenue", "revenue")):
        page.fill("#metric-search", search)
        page.click(f".metric-option[data-key={key}]")
    assert page.locator(".editor-panel").count() == 3
    chips = _panel_titles(page)
    assert [chip.split(" ×")[0].strip() for chip in chips] == ["Leads", "MQLs", "Revenue"] or len(chips) == 3

    # drag the third panel (revenue) to the top
    _drag(page, page.locator(".editor-panel .drag-handle").nth(2), page.locator(".editor-panel").nth(0))
    order = page.evaluate("Array.from(document.querySelectorAll('.editor-panel .metric-chip')).map(el => el.dataset.key)")
    assert order == ["revenue", "leads", "mqls"]

    # revenue across the whole row, leads as a time series two thirds wide
    page.locator(".editor-panel").nth(0).locator("[data-width='3']").click()
    page.locator(".editor-panel").nth(1).locator(".panel-kind").select_option("series")
    page.locator(".editor-panel").nth(1).locator("[data-width='2']").click()
    page.screenshot(path=str(screenshot_dir / "board-editor-laptop.png"), full_page=True)
    page.click("#save-board")
    page.wait_for_url(BOARD_PAGE)
    page.wait_for_load_state("networkidle")

    board = Board.objects.get()
    assert [(p["kind"], p["metrics"], p["width"]) for p in board.layout["panels"]] == [
        ("tile", ["revenue"], 3), ("series", ["leads"], 2), ("tile", ["mqls"], 1)]
    assert page.locator("h1").inner_text() == "My reps this quarter"
    assert page.locator(".panels > section").evaluate_all("els => els.map(el => el.className.match(/span-\\d/)[0])") == [
        "span-6", "span-4", "span-2"]
    assert page.locator(".boards-nav a", has_text="My reps this quarter").count() == 1

    # reload the editor: the order and widths are the saved ones
    page.goto(f"{live_server.url}/boards/{board.pk}/edit/")
    assert page.evaluate("Array.from(document.querySelectorAll('.editor-panel .metric-chip')).map(el => el.dataset.key)") == [
        "revenue", "leads", "mqls"]
    assert page.locator(".editor-panel").evaluate_all("els => els.map(el => el.dataset.width)") == ["3", "2", "1"]

    page.goto(f"{live_server.url}/boards/{board.pk}/?window=ytd")
    page.wait_for_load_state("networkidle")
    _looks_right(page, "built", screenshot_dir)


def test_duplicate_shared_and_edit_it(page, live_server, demo_data, screenshot_dir):
    sign_in(page, live_server, username="reader", password=PASSWORD)
    page.goto(f"{live_server.url}/dashboards/shared/?window=ytd")
    page.click("#duplicate-board")
    page.wait_for_url(re.compile(r".*/boards/\d+/edit/$"))
    assert page.locator(".editor-panel").count() == 6
    assert page.input_value("#board-title") == "Shared sales & marketing (copy)"
    page.fill("#board-title", "Shared, without rejections")
    # remove "Why MQLs are rejected" (the fourth panel)
    assert page.locator(".editor-panel .panel-title").nth(3).input_value() == "Why MQLs are rejected"
    page.locator(".editor-panel .remove-panel").nth(3).click()
    page.select_option("#board-visibility", "team")
    page.click("#save-board")
    page.wait_for_url(BOARD_PAGE)
    page.wait_for_load_state("networkidle")

    board = Board.objects.get()
    assert (board.title, board.visibility, len(board.layout["panels"])) == ("Shared, without rejections", "team", 5)
    assert "Why MQLs are rejected" not in page.locator(".panel-head h2").all_inner_texts()
    # the tiles keep MTD next to YTD, as on `shared`
    assert page.locator(".panel-tiles .tile-window").count() > 0
    page.goto(f"{live_server.url}/boards/{board.pk}/?window=mtd")
    page.wait_for_load_state("networkidle")
    _looks_right(page, "shared-copy", screenshot_dir)
