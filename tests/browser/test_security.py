"""Under the Content-Security-Policy in real Chromium: the API docs (Swagger UI) work, and a
locked-out sign-in says why. A CSP violation is a console error, which fails the test.

Screenshots: var/screenshots/api-docs.png, sign-in-locked.png.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, live_server, username, password):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def test_the_api_docs_render_under_the_csp(page, live_server, django_user_model, screenshot_dir):
    django_user_model.objects.create_user(username="dev", password="dev-pass-1234")
    violations: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    page.goto(f"{live_server.url}/api/docs/")
    assert "/accounts/login/" in page.url  # signed out: to the sign-in page first
    page.fill("#id_username", "dev")
    page.fill("#id_password", "dev-pass-1234")
    page.click("button[type=submit]")
    page.wait_for_selector(".opblock-tag", timeout=20_000)
    assert page.locator(".opblock-tag").count() >= 19
    csp = page.evaluate("fetch('/api/docs/').then(r => r.headers.get('content-security-policy'))")
    assert "script-src 'self'" in csp
    page.screenshot(path=str(screenshot_dir / "api-docs.png"))
    assert violations == []


def test_a_locked_out_sign_in_says_why_and_for_how_long(page, live_server, django_user_model, screenshot_dir):
    django_user_model.objects.create_user(username="robin", password="robin-pass-1234")
    for attempt in range(5):
        _sign_in(page, live_server, "robin", f"wrong-{attempt}")
    assert page.locator("h1").inner_text() == "Sign-in paused"
    assert "Try again in 15 minutes" in page.locator("main").inner_text()
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(screenshot_dir / "sign-in-locked.png"), full_page=True)
    page.watch.console_errors.clear()  # the 429 answer itself is logged by the browser


def test_an_upload_past_the_limit_is_refused_with_the_limit_named(page, live_server, data_manager, settings,
                                                                   tmp_path, screenshot_dir):
    from smarketing.funnel.models import ImportJob

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.UPLOAD_MAX_MB = 1
    page.goto(f"{live_server.url}/accounts/login/?next=/data/upload/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "manager-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url("**/data/upload/")
    page.select_option("#id_resource", "campaigns")
    body = b"external_id,name,channel\n" + b"a,A,email\n" * 300_000  # 3 MB
    page.set_input_files("#id_file", files=[{"name": "campaigns.csv", "mimeType": "text/csv", "buffer": body}])
    # The mapping step's own check of the first rows settles the layout first: a click while
    # it unfolds can land on what it pushed under the pointer.
    page.wait_for_selector("#mapping-ok, #mapping-errors-count")
    page.click("#check-button")
    alert = page.locator(".form-errors[role=alert]")
    alert.wait_for()
    assert "the limit is 1 MB (UPLOAD_MAX_MB)" in alert.inner_text()
    assert not ImportJob.objects.exists()
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(screenshot_dir / "upload-too-big-phone.png"), full_page=True)
    page.watch.console_errors.clear()  # the 413 answer itself is logged by the browser
