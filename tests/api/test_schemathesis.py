"""Property-based conformance: schemathesis generates requests for every operation of the
OpenAPI schema and checks each answer against it (status code documented, body shape,
content type) and that none is a server error. Bounded: a few examples per operation."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from smarketing.api.resources import WriteThrottle
from tests.funnel.rows import store_examples

pytestmark = pytest.mark.django_db
EXAMPLES_PER_OPERATION = 4
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def wsgi_app():
    """Django's WSGI handler inside the test's transaction: like Django's test client, it must
    not close the connection at each request's end (that would end the transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_every_operation_answers_as_the_schema_says(data_manager, monkeypatch, wsgi_app):
    # Writes would be throttled after 120 a minute: the test is about shapes, not rates.
    monkeypatch.setattr(WriteThrottle, "THROTTLE_RATES", {"writes": "1000000/minute"})
    store_examples("campaigns", "team_members", "contacts", "web_traffic")
    auth = {"Authorization": f"Token {Token.objects.create(user=data_manager).key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app, headers=auth)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 70  # 19 resources × 4 operations, and the KPI query
    failures: list[str] = []
    for operation in operations:
        run_examples(operation, auth, failures)
    assert failures == [], "\n".join(failures[:20])


def run_examples(operation, auth: dict[str, str], failures: list[str]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def conforms(case):
        # Identity: compression of answers (GZipMiddleware) is tested apart; here the shapes.
        response = case.call(headers={**auth, "Accept-Encoding": "identity"})
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as exc:  # every operation's failures, not only the first one's
            failures.append(f"{operation.label} → {response.status_code}: {type(exc).__name__}: {str(exc)[:400]}")

    conforms()
