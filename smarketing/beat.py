"""Celery beat that sends the schedule from one process only, however many are started.

Two beat processes (a second replica, a restart that overlapped the old one) would send
every periodic task twice. Each beat here sends only while it holds a lock in Redis,
refreshed at every tick; the others wait, and one of them takes over within the lock's
lifetime when the holder dies.
"""

from __future__ import annotations

import logging
import time
import uuid
from contextlib import suppress

import redis
from celery.beat import PersistentScheduler
from django.conf import settings
from redis.exceptions import RedisError

logger = logging.getLogger("smarketing.beat")

LOCK_KEY = "smarketing:beat:leader"
LOCK_TTL = 60
# Extend the lock only if it is still ours (its value is our token).
_EXTEND = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class LeaderLock:
    """A lock in Redis held by one process at a time, which expires unless refreshed."""

    def __init__(self, url: str, *, key: str = LOCK_KEY, ttl: int = LOCK_TTL) -> None:
        self.client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
        self.key, self.ttl = key, ttl
        self.token = uuid.uuid4().hex

    def hold(self) -> bool:
        """Take the lock or refresh ours; False while another process holds it or Redis is down."""
        try:
            if self.client.set(self.key, self.token, nx=True, ex=self.ttl):
                return True
            return bool(self.client.eval(_EXTEND, 1, self.key, self.token, self.ttl))
        except RedisError as exc:
            logger.warning("beat lock: Redis unreachable (%s)", exc)
            return False

    def release(self) -> None:
        with suppress(RedisError):  # else it expires by itself
            self.client.eval(_RELEASE, 1, self.key, self.token)


class SingleBeatScheduler(PersistentScheduler):
    def __init__(self, *args, **kwargs) -> None:
        self.lock = LeaderLock(settings.REDIS_URL) if settings.REDIS_URL else None
        self.leading = self.lock is None
        self.checked_at = 0.0
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs) -> float:
        now = time.monotonic()
        if self.lock is not None and (not self.leading or now - self.checked_at >= LOCK_TTL / 4):
            leading = self.lock.hold()
            self.checked_at = now
            if leading != self.leading:
                logger.info("beat: %s", "sending the schedule" if leading else "another beat sends the schedule")
            self.leading = leading
        if not self.leading:
            return min(self.max_interval, LOCK_TTL / 4)
        return super().tick(*args, **kwargs)

    def close(self) -> None:
        if self.lock is not None and self.leading:
            self.lock.release()
        super().close()
