"""The product in Chinese in real Chromium: switch the language in the header, then the `shared`
dashboard and the digest preview read in Chinese (no English left beyond data names, metric keys
and kept abbreviations), their text does not overlap, and Chinese glyphs come from a CJK font.

Screenshots (var/screenshots/zh-*.png) and the digest's chart PNGs (zh-digest-chart-*.png) are
for people to look at.
"""

from __future__ import annotations

import base64
import re

import pytest

from smarketing.digests.models import Subscription
from tests.accounts.english import data_names, english_words, visible_text
from tests.browser.conftest import PASSWORD, sign_in
from tests.browser.test_dashboards import _charts_drawn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Pairs of text boxes inside one tile, or one table cell, that touch by more than a pixel.
OVERLAPS = """(selector) => {
  const out = [];
  for (const box of document.querySelectorAll(selector)) {
    const parts = Array.from(box.querySelectorAll('h3, .tile-value, .delta, .status, .target-detail, .tile-window, .note, .mini-label, .mini-value'))
      .filter(el => el.offsetParent !== null && el.textContent.trim());
    for (let i = 0; i < parts.length; i++) for (let j = i + 1; j < parts.length; j++) {
      if (parts[i].contains(parts[j]) || parts[j].contains(parts[i])) continue;
      const a = parts[i].getBoundingClientRect(), b = parts[j].getBoundingClientRect();
      const x = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const y = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (x > 1 && y > 1) out.push([parts[i].textContent.trim(), parts[j].textContent.trim()]);
    }
  }
  return out;
}"""
# Text cut off by its own box (a label wider than the tile, a heading past the card).
CLIPPED = """() => Array.from(document.querySelectorAll('h1, h2, h3, .tile-value, .status, .seg, .chip, th'))
  .filter(el => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1
          && getComputedStyle(el).overflow !== 'visible')
  .map(el => el.textContent.trim())"""


def _switch_to_chinese(page, live_server) -> None:
    page.goto(f"{live_server.url}/dashboards/shared/?window=ytd")
    page.select_option("#language-switch select", "zh-hans")
    page.click("#language-switch button[type=submit]")
    page.wait_for_load_state("networkidle")


def _glyph_fonts(page, selector: str) -> set[str]:
    """The font families Chromium really drew the first matching element's text with."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    assert node, selector
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return {font["familyName"] for font in fonts if font["glyphCount"]}


def _allowed() -> set[str]:
    return data_names()


@pytest.mark.usefixtures("demo_data")
def test_shared_dashboard_in_chinese(page, live_server, screenshot_dir):
    sign_in(page, live_server, username="reader", password=PASSWORD)
    _switch_to_chinese(page, live_server)
    assert "/dashboards/shared/" in page.url
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("h1").inner_text() == "销售与市场共享看板"
    points = _charts_drawn(page)
    assert points and all(count > 0 for count in points)
    page.screenshot(path=str(screenshot_dir / "zh-shared.png"), full_page=True)

    left = english_words(visible_text(page.content()), allowed=_allowed())
    assert left == [], sorted(set(left))
    # Plotly draws the Chinese axis labels, legends and titles with a CJK face, not boxes.
    page.evaluate("""() => { const t = Array.from(document.querySelectorAll('.js-plotly-plot text'))
                               .find(t => /[\u4e00-\u9fff]/.test(t.textContent)); t.setAttribute('id', 'zh-chart-text'); }""")
    assert any("Noto Sans CJK" in family for family in _glyph_fonts(page, "#zh-chart-text"))
    assert any("Noto Sans CJK" in family for family in _glyph_fonts(page, "h1"))
    chart_text = page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot text')).map(t => t.textContent).join(' ')")
    assert re.search(r"[\u4e00-\u9fff]", chart_text)
    families = page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot text')).map(t => t.style.fontFamily)")
    assert families and all("Noto Sans CJK SC" in family for family in families)
    assert page.evaluate(OVERLAPS, ".tile, .mini") == []
    assert page.evaluate(CLIPPED) == []

    # The setting stays: another page, and back to English in the same switch.
    page.goto(f"{live_server.url}/sla/")
    assert page.locator("h1").inner_text() == "当前生效的线索交接 SLA"
    page.screenshot(path=str(screenshot_dir / "zh-sla.png"), full_page=True)
    page.select_option("#language-switch select", "en")
    page.click("#language-switch button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "Lead handover SLA in force"


@pytest.mark.usefixtures("demo_data")
def test_digest_preview_in_chinese(page, live_server, screenshot_dir, demo_data):
    Subscription.objects.update_or_create(user=demo_data, defaults={"dashboards": ["shared"]})
    sign_in(page, live_server, username="reader", password=PASSWORD)
    _switch_to_chinese(page, live_server)
    page.goto(f"{live_server.url}/digests/preview/")
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_text("共同认可的指标").count() == 1
    images = page.eval_on_selector_all("img[src^='data:image/png;base64,']", "imgs => imgs.map(i => i.src)")
    assert len(images) >= 3
    for index, source in enumerate(images):
        (screenshot_dir / f"zh-digest-chart-{index}.png").write_bytes(base64.b64decode(source.split(",", 1)[1]))
    left = english_words(visible_text(page.content()), allowed=_allowed())
    assert left == [], sorted(set(left))
    page.set_viewport_size({"width": 760, "height": 1000})
    page.screenshot(path=str(screenshot_dir / "zh-digest.png"), full_page=True)


@pytest.mark.usefixtures("demo_data")
def test_own_board_in_chinese(page, live_server, screenshot_dir, demo_data):
    from smarketing.dashboards.boards import board_save

    board = board_save(user=demo_data, data={
        "title": "我的线索看板", "description": "", "visibility": "private",
        "panels": [
            {"kind": "tile", "metrics": ["leads", "mqls", "win_rate", "revenue"], "width": 3},
            {"kind": "series", "metrics": ["leads", "mqls"], "width": 2},
            {"kind": "breakdown", "metrics": ["leads", "lead_to_mql_rate"], "dimension": "channel", "width": 1},
            {"kind": "funnel", "metrics": ["visits", "leads", "mqls", "sqls", "opportunities", "customers"],
             "width": 3},
        ]})
    sign_in(page, live_server, username="reader", password=PASSWORD)
    _switch_to_chinese(page, live_server)
    page.goto(f"{live_server.url}/boards/{board.pk}/?window=ytd")
    assert page.locator("h1").inner_text() == "我的线索看板"
    points = _charts_drawn(page)
    assert points and all(count > 0 for count in points)
    # Titles the board makes from its metrics read in Chinese too.
    assert page.get_by_role("heading", name="按渠道的线索 · 线索 → MQL").count() == 1
    page.screenshot(path=str(screenshot_dir / "zh-board.png"), full_page=True)
    left = english_words(visible_text(page.content()), allowed=_allowed())
    assert left == [], sorted(set(left))
    page.evaluate("""() => { const t = Array.from(document.querySelectorAll('.js-plotly-plot text'))
                               .find(t => /[\\u4e00-\\u9fff]/.test(t.textContent)); t.setAttribute('id', 'zh-chart-text'); }""")
    assert any("Noto Sans CJK" in family for family in _glyph_fonts(page, "#zh-chart-text"))
    assert page.evaluate(OVERLAPS, ".tile, .mini") == []
    assert page.evaluate(CLIPPED) == []
