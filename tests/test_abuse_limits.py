"""Abuse limits: sign-in lockout per account and per address (site and admin), and
password-reset mails rate-limited and sent by a task, in the same time for any address."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from unittest import mock

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse

LIMIT = 5  # LOGIN_FAILURE_LIMIT's default


def _sign_in(client, url, username, password, address="10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("url_name", ["login", "admin:login"])
def test_an_account_is_locked_after_the_failure_limit_even_with_the_right_password(
        client, django_user_model, url_name):
    django_user_model.objects.create_user(username="ann", password="ann-pass-123", is_staff=True)
    url = reverse(url_name)
    for attempt in range(LIMIT - 1):
        answer = _sign_in(client, url, "ann", f"wrong-{attempt}")
        assert answer.status_code == 200  # the form again, with its error
    locked = _sign_in(client, url, "ann", "wrong-last")
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    assert "Try again in 15 minutes" in locked.content.decode()

    right = _sign_in(client, url, "ann", "ann-pass-123")
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    # The lock is the account's: another address does not get around it.
    assert _sign_in(client, url, "ann", "ann-pass-123", address="10.9.9.9").status_code == 429


def test_the_lock_is_lifted_after_the_lockout_time(client, django_user_model):
    import time_machine

    django_user_model.objects.create_user(username="ann", password="ann-pass-123")
    with time_machine.travel("2026-03-02 09:00 +0000", tick=False):
        for attempt in range(LIMIT):
            _sign_in(client, reverse("login"), "ann", f"wrong-{attempt}")
        assert _sign_in(client, reverse("login"), "ann", "ann-pass-123").status_code == 429
    with time_machine.travel("2026-03-02 09:16 +0000", tick=False):
        answer = _sign_in(client, reverse("login"), "ann", "ann-pass-123")
    assert (answer.status_code, answer.url) == (302, "/")


def test_an_address_is_locked_after_failures_on_several_accounts(client, django_user_model):
    django_user_model.objects.create_user(username="bob", password="bob-pass-123")
    for attempt in range(LIMIT):
        _sign_in(client, reverse("login"), f"guess-{attempt}", "password", address="10.0.0.7")
    assert _sign_in(client, reverse("login"), "bob", "bob-pass-123", address="10.0.0.7").status_code == 429
    # bob's account itself had no failures: from elsewhere he signs in.
    assert _sign_in(client, reverse("login"), "bob", "bob-pass-123", address="10.0.0.8").status_code == 302


def test_failures_below_the_limit_do_not_lock_and_success_clears_them(client, django_user_model):
    django_user_model.objects.create_user(username="cy", password="cy-pass-123")
    for attempt in range(LIMIT - 1):
        _sign_in(client, reverse("login"), "cy", f"wrong-{attempt}")
    assert _sign_in(client, reverse("login"), "cy", "cy-pass-123").status_code == 302
    client.post(reverse("logout"))
    for attempt in range(LIMIT - 1):
        _sign_in(client, reverse("login"), "cy", f"again-{attempt}")
    assert _sign_in(client, reverse("login"), "cy", "cy-pass-123").status_code == 302


# --- password reset ---------------------------------------------------------------------------


def test_the_reset_mail_is_queued_as_a_task_once_the_answer_is_complete(rf, user):
    from smarketing.ops.auth import ThrottledPasswordResetView

    user.email = "viewer@example.com"
    user.save()
    request = rf.post(reverse("password_reset"), {"email": "viewer@example.com"})
    request._dont_enforce_csrf_checks = True
    with mock.patch("smarketing.ops.tasks.password_reset_send.delay") as delay:
        response = ThrottledPasswordResetView.as_view()(request)
        assert response.status_code == 302
        delay.assert_not_called()
        response.close()  # what the server does after sending the answer
    delay.assert_called_once_with(email="viewer@example.com", domain="testserver", use_https=False)
    assert mail.outbox == []


def test_reset_mails_to_one_address_are_limited_and_the_answer_does_not_change(client, user):
    user.email = "viewer@example.com"
    user.save()
    answers = [client.post(reverse("password_reset"), {"email": "Viewer@example.com"}, REMOTE_ADDR=f"10.1.0.{i}")
               for i in range(5)]
    assert [a.status_code for a in answers] == [302] * 5
    assert {a.url for a in answers} == {reverse("password_reset_done")}
    assert len(mail.outbox) == 3  # PASSWORD_RESET_RATE per hour


def test_reset_requests_from_one_address_are_limited_with_a_message(client, db):
    for i in range(3):
        assert client.post(reverse("password_reset"), {"email": f"p{i}@example.com"}).status_code == 302
    refused = client.post(reverse("password_reset"), {"email": "p9@example.com"})
    assert refused.status_code == 429
    assert "Too many password reset requests from your address" in refused.content.decode()


class SlowRelay:
    """An SMTP server that takes 50 ms to accept a message, like a relay across the network."""

    def __init__(self) -> None:
        self.messages: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        await asyncio.sleep(0.05)
        self.messages.append(list(envelope.rcpt_tos))
        return "250 Message accepted"


@pytest.fixture
def slow_relay():
    from aiosmtpd.controller import Controller

    relay = SlowRelay()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1",
                               EMAIL_PORT=port, EMAIL_USE_TLS=False, EMAIL_USE_SSL=False, EMAIL_HOST_USER="",
                               EMAIL_HOST_PASSWORD="", EMAIL_TIMEOUT=10):
            yield relay
    finally:
        controller.stop()


PROBE = """
import json, statistics, sys, time
import requests

url, rounds = sys.argv[1], int(sys.argv[2])
emails = sys.argv[3:]
token = requests.get(url).cookies["csrftoken"]
timings = {email: [] for email in emails}
for n in range(rounds + 2):
    for email in emails:
        started = time.perf_counter()
        # A connection per request, as separate probes would open.
        answer = requests.post(url, {"email": email, "csrfmiddlewaretoken": token}, allow_redirects=False,
                               cookies={"csrftoken": token}, headers={"Referer": url, "Connection": "close"})
        elapsed = time.perf_counter() - started
        assert answer.status_code == 302, answer.status_code
        if n >= 2:  # the first two rounds warm both paths
            timings[email].append(elapsed)
        time.sleep(0.3)  # the server mails after answering: let it finish before the next timing
print(json.dumps({email: statistics.median(times) for email, times in timings.items()}))
"""


@override_settings(PASSWORD_RESET_RATE=1000)
def test_reset_answers_in_the_same_time_for_a_known_and_an_unknown_address(live_server, slow_relay,
                                                                          django_user_model):
    """Over HTTP from another process, as a prober measures it: the answer's time may not tell
    whether the address has an account (the mail goes to a relay that takes 50 ms)."""
    django_user_model.objects.create_user(username="viewer", email="viewer@example.com", password="pw-123456789")
    emails = ["viewer@example.com", "nobody@example.com"]
    probe = subprocess.run([sys.executable, "-c", PROBE, live_server.url + reverse("password_reset"), "25", *emails],
                           capture_output=True, text=True, timeout=300)
    assert probe.returncode == 0, probe.stderr
    medians = json.loads(probe.stdout)
    known, unknown = medians["viewer@example.com"], medians["nobody@example.com"]
    assert abs(known - unknown) < 0.010, f"known {known * 1000:.1f} ms, unknown {unknown * 1000:.1f} ms"
    assert slow_relay.messages == [["viewer@example.com"]] * 27
