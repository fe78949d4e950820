"""Database access below the ORM: statements with whole arrays of values, write locks, retries."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

import psycopg
from django.db import OperationalError, connection
from django.db.models import Model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

logger = logging.getLogger("smarketing.funnel")
T = TypeVar("T")


@contextmanager
def bound_cursor() -> Iterator[psycopg.Cursor]:
    """A PostgreSQL cursor that binds parameters on the server, inside Django's transaction.

    Django's cursors bind on the client: a list of a million ids would be quoted into the
    statement's text in Python. Here it goes as one binary array parameter.
    """
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        yield cursor


# --- one lock order for every write, and a bounded retry -----------------------------------

# pg_advisory_xact_lock(class, resource): the class keeps these apart from other advisory locks.
RESOURCE_LOCK_CLASS = 74_185
# Deadlock detected, serialization failure: the transaction was rolled back and may simply run again.
RETRYABLE_STATES = frozenset({"40P01", "40001"})
WRITE_ATTEMPTS = 3
RETRY_PAUSE_SECONDS = 0.2


class WriteConflict(Exception):
    """A write that lost to concurrent writers every time it was tried; nothing was written."""

    message = gettext_noop("Another write to the same records got in the way, several times; nothing was "
                           "written. Try again in a minute.")

    def __init__(self, message: str | None = None) -> None:
        # Translated when raised: in the reader's language on a page or in the API.
        super().__init__(message or _(self.message))


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error (Django wraps psycopg's error, which carries it)."""
    for error in (exc, exc.__cause__):
        state = getattr(error, "sqlstate", None)
        if state:
            return state
    return None


def resources_lock(indexes: Iterable[int]) -> None:
    """Take the write locks of these resources (their contract order), lowest first.

    Every write to funnel records (import, API, admin) holds its resources' locks for its
    transaction, and takes them in one global order: two writers of the same resource run
    one after the other instead of locking rows in opposite orders (a deadlock), and a
    folder import takes all its resources' locks before writing any row. SQLite serializes
    writers by itself.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for index in sorted(set(indexes)):
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [RESOURCE_LOCK_CLASS, index])


def retrying(function: Callable[..., T], *, rewind: Callable[[], bool] | None = None) -> Callable[..., T]:
    """`function` (a whole write transaction), run again when PostgreSQL rolled it back for a
    deadlock or a serialization failure, up to WRITE_ATTEMPTS times; then `WriteConflict`.

    Inside an outer transaction nothing is retried (the outer one is lost too): the conflict
    goes up as `WriteConflict` for the outermost writer to retry. `rewind()` readies the
    input for another pass (False: it cannot, so no retry).
    """

    @wraps(function)
    def wrapped(*args: Any, **kwargs: Any) -> T:
        attempt = 1
        while True:
            try:
                return function(*args, **kwargs)
            except (OperationalError, WriteConflict) as exc:
                if isinstance(exc, OperationalError) and sqlstate(exc) not in RETRYABLE_STATES:
                    raise
                if (connection.in_atomic_block or attempt >= WRITE_ATTEMPTS
                        or (rewind is not None and not rewind())):
                    raise WriteConflict() from exc
                logger.info("write conflict (%s), attempt %s of %s", exc, attempt, WRITE_ATTEMPTS)
                attempt += 1
                time.sleep(RETRY_PAUSE_SECONDS * attempt)

    return wrapped


# PostgreSQL's autovacuum analyses a table once changes reach a tenth of its rows (its
# default autovacuum_analyze_scale_factor); a bulk write of that share does it at once.
ANALYZE_SHARE = 0.1


def tables_analyze(models: Iterable[type[Model]], *, written: int | None = None, vacuum: bool = False) -> None:
    """ANALYZE the tables of `models` after a bulk write, as PostgreSQL's documentation advises.

    Until then the planner knows nothing of the new rows (a never-analysed table reads as
    empty), and autovacuum may lag or be off. With `written` (rows of one write), a table is
    analysed only when it was never analysed or the write is a tenth of its rows or more.
    Call outside a transaction (on commit), so that the statistics see the committed rows.

    `vacuum` (a bulk load: the demo seed, an import): VACUUM (ANALYZE) instead, outside a
    transaction. It marks the new rows' pages all-visible, and the recompute reads records
    through index-only scans (each MQL's attempts, a target account's contacts). Until then
    every row such a scan reads costs a table page; autovacuum would mark them in time, but
    it may lag or be off (at 1M contacts, a new day's recompute: 1.16 s against 1.05 s).
    """
    if connection.vendor != "postgresql":
        return
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        if written is not None:
            cursor.execute("SELECT relname, reltuples FROM pg_class WHERE oid = ANY(%s::regclass[])", [tables])
            known = dict(cursor.fetchall())
            tables = [table for table in tables
                      if known[table] < 0 or written >= ANALYZE_SHARE * known[table]]
        command = "VACUUM (ANALYZE)" if vacuum and not connection.in_atomic_block else "ANALYZE"
        for table in tables:
            cursor.execute(f"{command} {connection.ops.quote_name(table)}")
