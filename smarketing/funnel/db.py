"""Database access below the ORM, for statements that carry whole arrays of values."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.db import connection


@contextmanager
def bound_cursor() -> Iterator[psycopg.Cursor]:
    """A PostgreSQL cursor that binds parameters on the server, inside Django's transaction.

    Django's cursors bind on the client: a list of a million ids would be quoted into the
    statement's text in Python. Here it goes as one binary array parameter.
    """
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        yield cursor
