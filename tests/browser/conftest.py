"""Real Chromium (Debian's package) driven by Playwright against `live_server`.

`page` records console errors and every request that leaves the server's origin, and
fails the test on either at teardown.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.core.cache import cache
from django.core.management import call_command

# Playwright's sync API runs an event loop in this thread; the ORM calls made by test
# code around it are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
# CI runs the embedded and the services suites side by side: each writes its own (SCREENSHOTS_DIR).
SCREENSHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or Path(__file__).resolve().parents[2] / "var" / "screenshots")


@pytest.fixture(scope="session")
def chromium() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


class PageWatch:
    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.console_errors: list[str] = []
        self.foreign_requests: list[str] = []

    def on_console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def on_request(self, request) -> None:
        url = urlparse(request.url)
        if url.scheme in ("data", "blob", "about"):
            return
        if f"{url.scheme}://{url.netloc}" != self.origin:
            self.foreign_requests.append(request.url)


@pytest.fixture
def browser_context(chromium, live_server):
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    yield context
    context.close()


@pytest.fixture
def page(browser_context, live_server):
    page = browser_context.new_page()
    watch = PageWatch(live_server.url)
    page.on("console", watch.on_console)
    page.on("pageerror", lambda error: watch.console_errors.append(str(error)))
    page.on("request", watch.on_request)
    page.watch = watch
    yield page
    assert watch.console_errors == [], f"console errors: {watch.console_errors}"
    assert watch.foreign_requests == [], f"requests left the origin: {watch.foreign_requests}"


PASSWORD = "browser-pass-123"


def last_data_day() -> str:
    """The demo history's last day (`seed_demo` stops the day before today): a page pinned to it
    has data on the first of a month too, when today's month to date is still empty."""
    import datetime as dt

    from smarketing.kpis.windows import company_today

    return (company_today() - dt.timedelta(days=1)).isoformat()


@pytest.fixture
def demo_data(django_user_model):
    """A small seed_demo history, recomputed, and a reader whose role is `executive`."""
    from smarketing.funnel.models import TeamMember

    cache.clear()
    call_command("seed_demo", contacts=400, no_progress=True)
    call_command("recompute_kpis", full=True)
    user = django_user_model.objects.create_user(username="reader", password=PASSWORD, email="reader@x.example")
    TeamMember.objects.create(email=user.email, name="Reader", team="marketing", role="executive", user=user)
    return user


def sign_in(page, live_server, *, username: str, password: str) -> None:
    """Through the real login form, as a person would."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
