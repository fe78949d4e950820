"""How numbers read in real Chromium (issue 12's presentation): arrows follow direction and
colour follows judgement, tile texts never overlap at 1280 and 1920 px and stay readable at
390 px, today's point in a daily series is drawn apart. Screenshots of `shared`, `blog` and
`sales_manager` at each width land in var/screenshots/."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PASSWORD, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 1920)
PHONE = 390

# Every text box of every tile; two boxes that intersect are two texts drawn over each other.
OVERLAPS = """() => {
  const boxes = [];
  document.querySelectorAll('.tile').forEach((tile, t) => {
    tile.querySelectorAll('.tile-label, .tile-window, .tile-value, .delta, .target .status, .target-detail, .note')
      .forEach((el) => {
        const r = el.getBoundingClientRect();
        if (r.width && r.height) boxes.push({t, text: el.textContent.trim(), l: r.left, r: r.right, top: r.top, b: r.bottom});
      });
  });
  const hits = [];
  const inside = (a, b) => a.top >= b.top - 0.5 && a.b <= b.b + 0.5 && a.l >= b.l - 0.5 && a.r <= b.r + 0.5;
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (inside(a, b) || inside(b, a)) continue;  // a status inside its target line
    const w = Math.min(a.r, b.r) - Math.max(a.l, b.l), h = Math.min(a.b, b.b) - Math.max(a.top, b.top);
    if (w > 0.5 && h > 0.5) hits.push(a.text + ' × ' + b.text);
  }
  // a value wider than its column spills into the next one or out of the tile
  document.querySelectorAll('.tile-value').forEach((el) => {
    const col = el.closest('.tile-col').getBoundingClientRect(), r = el.getBoundingClientRect();
    if (r.right > col.right + 0.5 || r.left < col.left - 0.5) hits.push('spills: ' + el.textContent.trim());
  });
  return {hits, count: boxes.length};
}"""


def test_tile_texts_never_overlap_and_arrows_follow_direction(page, live_server, demo_data, screenshot_dir):
    sign_in(page, live_server, username="reader", password=PASSWORD)
    arrows = 0
    for key in ("shared", "blog", "sales_manager"):
        for width in (*WIDTHS, PHONE):
            page.set_viewport_size({"width": width, "height": 1000})
            page.goto(f"{live_server.url}/dashboards/{key}/?window=mtd")
            page.wait_for_load_state("networkidle")
            result = page.evaluate(OVERLAPS)
            assert result["count"] > 0, key
            assert result["hits"] == [], f"{key} at {width}px: {result['hits']}"
            # readable on a phone: nothing wider than the screen
            assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{key} at {width}px"
            page.screenshot(path=str(screenshot_dir / f"present-{key}-{width}.png"), full_page=True)
        # ▲ when the change is positive, ▼ when negative; green when that is good for the metric
        for delta in page.evaluate("""() => Array.from(document.querySelectorAll('.tile .delta')).map(el => ({
                arrow: el.querySelector('.arrow').textContent.trim(), text: el.textContent.trim(),
                cls: el.className, direction: el.closest('.tile').dataset.direction}))"""):
            change = delta["text"].removeprefix(delta["arrow"]).strip()
            if change.startswith("+"):
                assert delta["arrow"] == "▲", delta
            elif change.startswith("-"):
                assert delta["arrow"] == "▼", delta
            else:
                assert delta["arrow"] == "" and "neutral" in delta["cls"], delta
                continue
            arrows += 1
            good = (delta["arrow"] == "▲") == (delta["direction"] == "up")
            assert ("good" if good else "bad") in delta["cls"].split(), delta
    assert arrows > 0


def test_todays_point_is_drawn_apart(page, live_server, demo_data, screenshot_dir):
    sign_in(page, live_server, username="reader", password=PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 1000})
    # last 30 days end today: a daily series whose last day is still running
    page.goto(f"{live_server.url}/dashboards/shared/?window=last_30")
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length > 0")
    series = page.locator('.panel-series .js-plotly-plot').first
    traces = series.evaluate("el => el.data.map(t => ({name: t.name, dash: (t.line || {}).dash, "
                             "n: t.x.length, last: t.y[t.y.length - 1], tmpl: t.texttemplate || null}))")
    today = [trace for trace in traces if "today so far" in trace["name"]]
    assert today and all(trace["dash"] == "dot" and trace["n"] in (1, 2) for trace in today)
    assert "today so far" in (today[0]["tmpl"] or [])
    # the complete-days line stops before today instead of dropping to it
    assert all(trace["last"] is None for trace in traces if "today so far" not in trace["name"])
    # Plotly drew the label, and each tile's sparkline marks today as a hollow dot
    assert series.locator("text", has_text="today so far").count() >= 1
    assert page.locator(".tile .spark .spark-today").count() > 0
    series.screenshot(path=str(screenshot_dir / "present-shared-series-today.png"))


def test_the_filtered_blog_tile_is_judged_against_the_blog_target_or_none(page, live_server, demo_data,
                                                                         screenshot_dir):
    from smarketing.funnel.models import Target
    from smarketing.kpis.formatting import format_value
    from smarketing.kpis.windows import window_for

    start = window_for("mtd").start
    month = Target.objects.filter(metric="leads", period="month", period_start=start)
    blog = month.filter(channel="blog").first()
    team = month.get(channel__isnull=True, owner__isnull=True, campaign__isnull=True)
    sign_in(page, live_server, username="reader", password=PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(f"{live_server.url}/dashboards/blog/?window=mtd")
    section = page.locator("section", has=page.get_by_role("heading", name="Leads from the blog"))
    tile = section.locator('article.tile[data-metric="leads"]')
    assert tile.count() == 1
    tile.screenshot(path=str(screenshot_dir / "present-blog-leads-tile.png"))
    shown = tile.locator(".target")
    if blog is None:
        assert shown.count() == 0  # a slice without its own row has no target, never the team's
        return
    text = shown.inner_text()
    assert f"target {format_value(float(blog.value), 'count')}" in text, text
    # the demo's blog target is a fraction of the team's: the team-wide number is nowhere on the tile
    assert float(team.value) > float(blog.value)
    assert format_value(float(team.value), "count") not in tile.inner_text()


def test_a_maturing_cohort_reads_so_far_with_the_same_age_comparison(page, live_server, demo_data,
                                                                     screenshot_dir):
    from smarketing.kpis.formatting import format_value
    from smarketing.kpis.selectors import kpi_values
    from smarketing.kpis.windows import window_for

    # Lead → customer matures in 120 days: nothing of this month is mature yet.
    [result] = kpi_values(metrics=["lead_to_customer_rate"], window=window_for("mtd"))
    assert result["mature"] == {"numerator": 0, "denominator": 0, "value": None}
    assert result["previous"]["same_age"] is True
    sign_in(page, live_server, username="reader", password=PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(f"{live_server.url}/dashboards/shared/?window=mtd")
    tile = page.locator('article.tile[data-metric="lead_to_customer_rate"]').first
    so_far = tile.locator(".so-far")
    # the month-to-date column only: the year to date has a mature part
    assert so_far.count() == 1 and so_far.inner_text() == "so far"
    tip = so_far.get_attribute("title")
    assert "same age" in tip, tip
    assert f"({result['previous']['start']} – {result['previous']['end']})" in tip, tip
    assert tip.endswith(f": {format_value(result['previous']['value'], 'percent')}."), tip
    # judged "too early", never "below target"
    status = tile.locator(".tile-col").first.locator(".target .status")
    if status.count():
        assert status.inner_text() == "Too early to judge"
    so_far.hover()
    tile.screenshot(path=str(screenshot_dir / "present-shared-so-far-tile.png"))
