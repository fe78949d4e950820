"""Database access below the ORM, for statements that carry whole arrays of values."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import psycopg
from django.db import connection
from django.db.models import Model


@contextmanager
def bound_cursor() -> Iterator[psycopg.Cursor]:
    """A PostgreSQL cursor that binds parameters on the server, inside Django's transaction.

    Django's cursors bind on the client: a list of a million ids would be quoted into the
    statement's text in Python. Here it goes as one binary array parameter.
    """
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        yield cursor


# PostgreSQL's autovacuum analyses a table once changes reach a tenth of its rows (its
# default autovacuum_analyze_scale_factor); a bulk write of that share does it at once.
ANALYZE_SHARE = 0.1


def tables_analyze(models: Iterable[type[Model]], *, written: int | None = None) -> None:
    """ANALYZE the tables of `models` after a bulk write, as PostgreSQL's documentation advises.

    Until then the planner knows nothing of the new rows (a never-analysed table reads as
    empty), and autovacuum may lag or be off. With `written` (rows of one write), a table is
    analysed only when it was never analysed or the write is a tenth of its rows or more.
    Call outside a transaction (on commit), so that the statistics see the committed rows.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            if written is not None:
                cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
                known = cursor.fetchone()[0]
                if known >= 0 and written < ANALYZE_SHARE * known:
                    continue
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
