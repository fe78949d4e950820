"""The HTML digest in real Chromium, on realistic data: every chart loads, nothing leaves the origin.

Screenshots land in var/screenshots/ (digest_shared.png, digest_shared_mobile.png,
digest_sales_manager.png) for people to look at.
"""

from __future__ import annotations

import re

import pytest

from smarketing.digests.models import Subscription
from smarketing.funnel import demo
from smarketing.funnel.models import TeamMember
from smarketing.kpis.windows import company_today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "morning-coffee-42"


@pytest.fixture
def reader(django_user_model):
    demo.demo_seed(contacts=1500, seed=7, today=company_today())
    user = django_user_model.objects.create_user(
        username="morgan", email="morgan@example.com", password=PASSWORD, first_name="Morgan")
    TeamMember.objects.create(email="morgan@example.com", name="Morgan Lee", team="marketing", role="shared",
                              user=user)
    return user


def sign_in_to_preview(page, live_server) -> None:
    """Through the real login form, landing straight on the preview."""
    page.goto(f"{live_server.url}/accounts/login/?next=/digests/preview/")
    page.fill("#id_username", "morgan")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    broken = page.eval_on_selector_all("img", "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length")
    assert broken == 0


def test_shared_digest_reads_well_in_chromium(page, live_server, screenshot_dir, reader):
    assert Subscription.objects.get(user=reader).dashboards == ["shared"]  # on by default for a role
    sign_in_to_preview(page, live_server)
    # The greeting follows the reader's clock (morning, afternoon or evening).
    assert page.get_by_text(re.compile(r"^Good (morning|afternoon|evening), Morgan$")).count() == 1
    assert page.locator("text=Needs attention").count() == 1
    for title in ("The agreed metrics", "Lead handover SLA by rep", "Funnel vs the previous period",
                  "Leads and MQLs over time"):
        assert page.locator(f"text={title}").count() == 1, title
    # SLA chart, sales SLA by rep, rejection reasons, funnel and series, drawn server-side and inlined
    # as data URIs
    assert page.locator('img[src^="data:image/png;base64,"]').count() == 5
    assert "cid:" not in page.content()
    page.set_viewport_size({"width": 760, "height": 1000})
    page.screenshot(path=str(screenshot_dir / "digest_shared.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(screenshot_dir / "digest_shared_mobile.png"), full_page=False)


def test_multi_dashboard_digest_renders_every_panel(page, live_server, screenshot_dir, reader):
    Subscription.objects.filter(user=reader).update(dashboards=["sales_manager", "executive"])
    sign_in_to_preview(page, live_server)
    # sales_manager: SLA chart + 5 breakdowns (leads needed and the sales SLA among them); executive:
    # velocity, attribution, funnel, series. A breakdown with no records this month says so instead
    # of drawing an empty chart.
    charts = page.locator('img[src^="data:image/png;base64,"]').count()
    empty = page.locator("text=No records in this window yet.").count()
    assert charts >= 5 and charts + empty == 10
    assert page.locator("text=Sales activity by rep").count() == 1
    assert page.locator("text=Attributed revenue by channel").count() == 1
    page.set_viewport_size({"width": 760, "height": 1000})
    page.screenshot(path=str(screenshot_dir / "digest_sales_manager.png"), full_page=True)


def test_settings_page_subscribes_in_the_browser(page, live_server, screenshot_dir, django_user_model):
    django_user_model.objects.create_user(username="morgan", email="morgan@example.com", password=PASSWORD)
    page.goto(f"{live_server.url}/accounts/login/?next=/digests/settings/")
    page.fill("#id_username", "morgan")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    # Without a role, the shared view is offered ticked; add the executive one.
    assert page.is_checked("input[name=dashboards][value=shared]")
    page.check("input[name=dashboards][value=executive]")
    page.check("input[name=active]")
    page.fill("input[name=send_time]", "06:15")
    page.select_option("select[name=time_zone]", "Europe/Berlin")
    page.click(".digest-form button[type=submit]")
    page.wait_for_load_state("load")
    assert page.locator("text=Digest settings saved.").count() == 1, page.inner_text("main")
    # Shown in the subscriber's zone, not the server's.
    assert page.locator(".digest-next").inner_text().endswith(", 06:15 (Europe/Berlin)")
    subscription = Subscription.objects.get(user__username="morgan")
    assert (subscription.dashboards, subscription.time_zone, subscription.send_time.isoformat()) == (
        ["shared", "executive"], "Europe/Berlin", "06:15:00")
    page.screenshot(path=str(screenshot_dir / "digest_settings.png"), full_page=True)
