"""Subscribers, and a real SMTP server on loopback, for the digest tests."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings

from smarketing.digests.models import Subscription


@pytest.fixture
def subscribe(django_user_model) -> Callable[..., Subscription]:
    def make(
        username: str = "ann",
        *,
        time_zone: str = "America/New_York",
        send_time: dt.time = dt.time(7, 30),
        cadence: str = "daily",
        weekday: int = 0,
        dashboards: list[str] | None = None,
        active: bool = True,
    ) -> Subscription:
        user = django_user_model.objects.create_user(
            username=username, email=f"{username}@example.com", password="pw-123456789", first_name=username.title()
        )
        return Subscription.objects.create(
            user=user, dashboards=dashboards or ["blog"], time_zone=time_zone, send_time=send_time,
            cadence=cadence, weekday=weekday, active=active,
        )

    return make


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.sessions: set[int] = set()
        self.refuse = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        self.sessions.add(id(session))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1", EMAIL_PORT=port,
            EMAIL_USE_TLS=False, EMAIL_USE_SSL=False, EMAIL_HOST_USER="", EMAIL_HOST_PASSWORD="", EMAIL_TIMEOUT=10,
        ):
            yield inbox
    finally:
        controller.stop()
