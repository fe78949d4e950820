"""A forgotten password, reset in real Chromium from the sign-in page to the dashboard.

Screenshots: var/screenshots/password-reset-*.png.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reset_a_forgotten_password_and_sign_in_with_the_new_one(page, live_server, django_user_model,
                                                                  screenshot_dir):
    django_user_model.objects.create_user(username="robin", email="robin@example.com", password="old-pass-1234")
    page.goto(f"{live_server.url}/accounts/login/")
    page.click("text=Forgot your password?")
    page.fill("#id_email", "robin@example.com")
    page.screenshot(path=str(screenshot_dir / "password-reset-form.png"))
    page.click("button[type=submit]")
    assert page.locator("h2").inner_text() == "Check your email"
    page.screenshot(path=str(screenshot_dir / "password-reset-sent.png"))

    (message,) = mail.outbox
    link = re.search(r"https?://\S+/accounts/reset/\S+", message.body).group(0)
    page.goto(link)
    assert page.locator("h2").inner_text() == "Choose a new password"
    page.fill("#id_new_password1", "new-pass-5678")
    page.fill("#id_new_password2", "not-the-same-0")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").first.is_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(screenshot_dir / "password-reset-mismatch-phone.png"), full_page=True)
    page.fill("#id_new_password1", "new-pass-5678")
    page.fill("#id_new_password2", "new-pass-5678")
    page.click("button[type=submit]")
    assert page.locator("h2").inner_text() == "Password set"

    page.click("text=Sign in")
    page.fill("#id_username", "robin")
    page.fill("#id_password", "new-pass-5678")
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    assert "/accounts/login/" not in page.url
    assert page.locator(".user").inner_text().startswith("robin")
