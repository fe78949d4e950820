"""The Redis cache, made optional: with Redis down the site answers from the database.

Everything the project caches (dashboard pages, template fragments, import progress,
throttle counters) can be recomputed or done without, so an unreachable Redis turns a read
into a miss and a write into nothing instead of a 500. After a failure Redis is left alone
for a few seconds, so a page does not wait on a dead server once per cache call.
"""

from __future__ import annotations

import logging
import time
from functools import wraps

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("smarketing.cache")

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
# How long to answer without Redis after it failed once.
BACKOFF_SECONDS = 5.0


def _tolerant(fallback):
    """Run the cache call; while Redis is unreachable answer `fallback(*args)` instead."""

    def decorate(method):
        @wraps(method)
        def wrapped(self, *args, **kwargs):
            if time.monotonic() < self.down_until:
                return fallback(*args, **kwargs)
            try:
                return method(self, *args, **kwargs)
            except UNREACHABLE as exc:
                self.down_until = time.monotonic() + BACKOFF_SECONDS
                logger.warning("Redis cache unreachable (%s): answering without it for %.0f s", exc,
                               BACKOFF_SECONDS)
                return fallback(*args, **kwargs)

        return wrapped

    return decorate


def _default(key, default=None, version=None):
    return default


def _nothing(*args, **kwargs):
    return None


def _miss(*args, **kwargs):
    return False


class ResilientRedisCache(RedisCache):
    down_until = 0.0

    def __init__(self, server, params):
        options = params.setdefault("OPTIONS", {})
        # A dead server answers within a second, not the socket's default of never.
        options.setdefault("socket_connect_timeout", 1)
        options.setdefault("socket_timeout", 2)
        super().__init__(server, params)

    get = _tolerant(_default)(RedisCache.get)
    set = _tolerant(_nothing)(RedisCache.set)
    # `add` answering False keeps callers that guard work with it (a lock) from doing it twice.
    add = _tolerant(_miss)(RedisCache.add)
    touch = _tolerant(_miss)(RedisCache.touch)
    delete = _tolerant(_miss)(RedisCache.delete)
    has_key = _tolerant(_miss)(RedisCache.has_key)
    get_many = _tolerant(lambda keys, version=None: {})(RedisCache.get_many)
    set_many = _tolerant(lambda data, timeout=DEFAULT_TIMEOUT, version=None: [])(RedisCache.set_many)
    delete_many = _tolerant(_nothing)(RedisCache.delete_many)
    # A counter that cannot count counts once (a rate limit lets the request through).
    incr = _tolerant(lambda key, delta=1, version=None: delta)(RedisCache.incr)
    clear = _tolerant(_miss)(RedisCache.clear)
