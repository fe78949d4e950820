"""Web-only guards: a time limit on each request's SQL, and clean answers when a service fails.

A request must never hold a web worker for long (the statement timeout), and a database or
Redis that fails, or a write that lost to concurrent writers, is answered as what it is: a
409 / 503 with a message (JSON on the API, a page elsewhere), never a traceback or a raw
PostgreSQL message. Celery workers and management commands pass through neither.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from smarketing.celery import unreachable
from smarketing.funnel.db import WriteConflict, sqlstate

logger = logging.getLogger("smarketing")

QUERY_CANCELED = "57014"
RETRY_AFTER_SECONDS = 30


class StatementTimeoutMiddleware:
    """PostgreSQL: no statement of a web request runs longer than WEB_STATEMENT_TIMEOUT seconds.

    The limit is set just before the request's first query (a request that never reads the
    database opens no connection for it) and lifted after the response, because the
    connection outlives the request (CONN_MAX_AGE) and may serve other code.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit_ms = int(float(settings.WEB_STATEMENT_TIMEOUT) * 1000)
        if not limit_ms or connection.vendor != "postgresql":
            return self.get_response(request)
        limit = _FirstQueryTimeout(limit_ms)
        try:
            with connection.execute_wrapper(limit):
                return self.get_response(request)
        finally:
            if limit.applied:
                try:
                    with connection.cursor() as cursor:
                        cursor.execute("RESET statement_timeout")
                except DatabaseError:
                    pass  # the connection is broken or mid-rollback: Django discards or resets it


class _FirstQueryTimeout:
    """An execute wrapper that sets the statement timeout before the first query it sees."""

    def __init__(self, limit_ms: int) -> None:
        self.limit_ms = limit_ms
        self.applied = False

    def __call__(self, execute, sql, params, many, context):
        if not self.applied:
            self.applied = True
            context["cursor"].execute(f"SET statement_timeout = {self.limit_ms}")
        return execute(sql, params, many, context)


class ServiceErrorMiddleware:
    """Write conflicts → 409, timeouts and unreachable services → 503 with Retry-After."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, WriteConflict):
            status, message = 409, str(exception)
        elif isinstance(exception, OperationalError) and sqlstate(exception) == QUERY_CANCELED:
            status, message = 503, ("The request took too long and was stopped. Ask for a shorter window "
                                    "or fewer breakdowns, or try again in a minute.")
        elif isinstance(exception, OperationalError) or unreachable(exception):
            status, message = 503, ("A service the site needs (database or task queue) is not answering. "
                                    "Try again in a minute.")
        else:
            return None
        logger.warning("%s %s answered %s: %r", request.method, request.path, status, exception)
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse({"errors": [{"message": message}]}, status=status)
        else:
            # No request context: the page must render with the database down (no user, no perms).
            response = HttpResponse(render_to_string("unavailable.html", {"message": message, "status": status}),
                                    status=status)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
