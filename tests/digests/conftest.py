"""Subscribers for the digest tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from smarketing.digests.models import Subscription


@pytest.fixture
def subscribe(django_user_model) -> Callable[..., Subscription]:
    def make(
        username: str = "ann",
        *,
        time_zone: str = "America/New_York",
        send_time: dt.time = dt.time(7, 30),
        weekdays_only: bool = False,
        dashboards: list[str] | None = None,
        active: bool = True,
    ) -> Subscription:
        user = django_user_model.objects.create_user(
            username=username, email=f"{username}@example.com", password="pw-123456789", first_name=username.title()
        )
        return Subscription.objects.create(
            user=user, dashboards=dashboards or ["blog"], time_zone=time_zone, send_time=send_time,
            weekdays_only=weekdays_only, active=active,
        )

    return make


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)
