"""A per-user rate limit on KPI queries that no cache answers (custom windows, breakdowns).

Every answer, page or API, is cached until its inputs change (`selectors.answer_key`) and
shared by every reader who asks the same. A standard window's pages are warmed after each
recompute; a custom window or a breakdown that nobody asked yet is computed for the one
request. Each is bounded (`windows.CUSTOM_MAX_DAYS`), and this bounds how many of those one
user may have computed per minute, so that one account cannot keep the web workers busy for
everyone else.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from .windows import Window

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
# The limiter's clock: the counts are per fixed window of it (a minute of the wall clock).
clock = time.time


def query_is_heavy(*, window: Window, dimension: str | None = None, filtered: bool = False,
                   pinned: bool = False) -> bool:
    """Whether answering needs work no other reader shares: a custom window, a breakdown, a
    filter or a pinned as_of."""
    return window.name == "custom" or dimension is not None or filtered or pinned


def parse_rate(rate: str) -> tuple[int, int]:
    """"30/minute" → (30, 60)."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip().lower().rstrip("s") or "minute"]


class HeavyQueryRefused(Exception):
    """Over KPI_HEAVY_QUERY_RATE: `wait` seconds until the next minute of the limiter's clock."""

    def __init__(self, wait: int) -> None:
        super().__init__(wait)
        self.wait = wait


def heavy_query_check(*, user_id: int | None, window: Window, dimension: str | None = None,
                      filtered: bool = False, pinned: bool = False) -> None:
    """Before computing an answer for this user: count it when it is heavy (`query_is_heavy`)
    and raise `HeavyQueryRefused` when that goes over the rate."""
    if query_is_heavy(window=window, dimension=dimension, filtered=filtered, pinned=pinned):
        wait = heavy_query_wait(user_id=user_id)
        if wait is not None:
            raise HeavyQueryRefused(wait)


def heavy_query_wait(*, user_id: int | None) -> int | None:
    """Count one heavy query of this user; the seconds to wait when over KPI_HEAVY_QUERY_RATE,
    else None. Without a cache (Redis down) every request is let through."""
    limit, period = parse_rate(settings.KPI_HEAVY_QUERY_RATE)
    if limit <= 0:
        return None
    now = clock()
    slot = int(now // period)
    key = f"kpis:heavy:{user_id}:{slot}"
    cache.add(key, 0, period + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, period + 1)
        count = 1
    if count <= limit:
        return None
    return max(1, int((slot + 1) * period - now + 0.999))
