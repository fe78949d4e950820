"""The outbox delivered to a real HTTP receiver on loopback: shapes, signature, retries, claims."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging

import pytest
import time_machine
from django.core import mail

from smarketing.alerts.models import AlertDelivery, DeliveryAttempt, Destination
from smarketing.alerts.services import (
    STALE_CLAIM,
    alerts_deliver_due,
    deliveries_claim,
    destination_save,
    destination_test,
    rule_save,
    rules_evaluate,
)
from smarketing.kpis.services import facts_rebuild
from tests.kpis.builders import contact

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)
SECRET = "s3cret-signing-key-0123456789"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(NOW, tick=False):
        yield


def _fire(user, destinations: list[Destination]) -> None:
    """Two leads this month against "below 3": one firing event, one delivery per destination."""
    contact("a", "2026-03-02 10:00")
    contact("b", "2026-03-09 10:00", channel="paid_search")
    facts_rebuild()
    rule_save(owner=user, name="Leads are low", metric="leads", dimension="", key="", window="mtd",
              condition={"type": "below", "value": 3}, destinations=destinations)
    assert rules_evaluate(now=NOW).fired == 1


def test_signed_webhook_carries_the_contract_fields_and_a_valid_signature(user, receiver):
    hook = destination_save(owner=user, name="ops", kind="webhook", target=f"{receiver.url}/hook/abc",
                            secret=SECRET)
    _fire(user, [hook])
    assert alerts_deliver_due(now=NOW).sent == 1
    (request,) = receiver.requests
    assert request.path == "/hook/abc"
    body = request.json()
    assert list(body) == ["rule", "state", "metric", "dimension", "key", "window", "as_of", "value",
                          "reference", "message", "url"]
    assert body["rule"] == "Leads are low" and body["state"] == "firing" and body["metric"] == "leads"
    assert (body["dimension"], body["key"], body["window"], body["as_of"]) == (None, None, "mtd", "2026-03-15")
    assert (body["value"], body["reference"]) == (2.0, 3.0)
    assert body["message"] == "Leads, month to date is 2: below 3."
    assert body["url"].startswith("http://") and "/alerts/#rule-" in body["url"]
    timestamp = request.headers["X-Smarketing-Timestamp"]
    assert timestamp == str(int(NOW.timestamp()))
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Smarketing-Signature"] == f"sha256={expected}"
    wrong = hmac.new(b"another-secret-of-16+", f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Smarketing-Signature"] != f"sha256={wrong}"
    assert request.headers["Content-Type"] == "application/json"


def test_slack_gets_block_kit_with_value_reference_and_link(user, receiver):
    slack = destination_save(owner=user, name="#marketing", kind="slack", target=f"{receiver.url}/services/T/B/x",
                             secret=None)
    _fire(user, [slack])
    alerts_deliver_due(now=NOW)
    message = receiver.requests[0].json()
    assert message["text"] == "Alert: Leads are low: Leads, month to date is 2: below 3."
    kinds = [block["type"] for block in message["blocks"]]
    assert kinds == ["header", "section", "section", "actions"]
    assert message["blocks"][0]["text"] == {"type": "plain_text", "text": "Alert: Leads are low", "emoji": True}
    fields = [field["text"] for field in message["blocks"][2]["fields"]]
    assert fields[:2] == ["*Value*\n2", "*Reference*\n3"]
    assert all(field["type"] == "mrkdwn" for field in message["blocks"][2]["fields"])
    button = message["blocks"][3]["elements"][0]
    assert button["type"] == "button" and "/alerts/#rule-" in button["url"]


def test_teams_gets_an_adaptive_card(user, receiver):
    teams = destination_save(owner=user, name="Sales channel", kind="teams",
                             target=f"{receiver.url}/webhookb2/xyz", secret=None)
    _fire(user, [teams])
    alerts_deliver_due(now=NOW)
    message = receiver.requests[0].json()
    assert message["type"] == "message"
    (attachment,) = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert [item["type"] for item in card["body"]] == ["TextBlock", "TextBlock", "FactSet"]
    facts = {fact["title"]: fact["value"] for fact in card["body"][2]["facts"]}
    assert facts["Value"] == "2" and facts["Reference"] == "3" and facts["Window"] == "Month to date to 2026-03-15"
    assert card["actions"][0]["type"] == "Action.OpenUrl"


def test_email_goes_through_the_mail_settings(user):
    inbox = destination_save(owner=user, name="me", kind="email", target="ana@example.com", secret=None)
    _fire(user, [inbox])
    alerts_deliver_due(now=NOW)
    (message,) = mail.outbox
    assert message.to == ["ana@example.com"]
    assert message.subject == "Alert: Leads are low"
    assert "Leads, month to date is 2: below 3." in message.body


def test_a_500_is_retried_with_backoff_and_logged(user, receiver):
    hook = destination_save(owner=user, name="ops", kind="webhook", target=f"{receiver.url}/hook", secret=SECRET)
    receiver.answer(500, 503)
    _fire(user, [hook])
    first = alerts_deliver_due(now=NOW)
    assert (first.sent, first.retrying) == (0, 1)
    delivery = AlertDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("retrying", 1, 500)
    assert delivery.next_attempt_at == NOW + dt.timedelta(minutes=1)
    assert alerts_deliver_due(now=NOW + dt.timedelta(seconds=59)).claimed == 0  # not due yet
    alerts_deliver_due(now=NOW + dt.timedelta(minutes=1))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("retrying", 2, 503)
    assert delivery.next_attempt_at == NOW + dt.timedelta(minutes=1) + dt.timedelta(minutes=2)
    alerts_deliver_due(now=NOW + dt.timedelta(minutes=3))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("sent", 3, 200)
    log = list(DeliveryAttempt.objects.order_by("pk").values_list("status_code", "ok"))
    assert log == [(500, False), (503, False), (200, True)]
    assert len(receiver.requests) == 3
    assert len({request.body for request in receiver.requests}) == 1  # the same alert each time


def test_a_run_that_died_after_claiming_is_taken_over_and_sent_once(user, receiver):
    hook = destination_save(owner=user, name="ops", kind="webhook", target=f"{receiver.url}/hook", secret=SECRET)
    _fire(user, [hook])
    (claimed,) = deliveries_claim(now=NOW)  # ... and the worker dies here
    assert alerts_deliver_due(now=NOW + dt.timedelta(minutes=1)).claimed == 0  # the claim is still fresh
    later = NOW + STALE_CLAIM + dt.timedelta(seconds=1)
    assert alerts_deliver_due(now=later).sent == 1
    assert alerts_deliver_due(now=later + STALE_CLAIM * 2).claimed == 0
    assert len(receiver.requests) == 1
    claimed.refresh_from_db()
    assert claimed.status == "sent"


def test_an_unreachable_receiver_is_retried_without_naming_the_url(user, receiver, caplog):
    url = f"{receiver.url.rsplit(':', 1)[0]}:9/secret-path-T000/B000/XXXXXXXX"  # the discard port: refused
    hook = destination_save(owner=user, name="ops", kind="slack", target=url, secret=None)
    _fire(user, [hook])
    with caplog.at_level(logging.DEBUG):
        alerts_deliver_due(now=NOW)
    delivery = AlertDelivery.objects.get()
    assert delivery.status == "retrying" and delivery.last_status_code is None
    assert delivery.last_error
    assert "secret-path" not in delivery.last_error and "secret-path" not in caplog.text


def test_test_message_is_sent_and_logged(user, receiver):
    hook = destination_save(owner=user, name="ops", kind="webhook", target=f"{receiver.url}/hook", secret=SECRET)
    outcome = destination_test(hook)
    assert outcome.ok and outcome.status_code == 200
    body = receiver.requests[0].json()
    assert body["rule"] == "Test message" and "this destination works" in body["message"]
    assert DeliveryAttempt.objects.get().test is True


def test_targets_are_stored_sealed(user):
    url = "https://hooks.slack.com/services/T0001/B0002/abcdefghijklmnop"
    slack = destination_save(owner=user, name="s", kind="slack", target=url, secret=None)
    row = Destination.objects.filter(pk=slack.pk).values().get()
    assert url not in json.dumps(row, default=str)
    assert row["target_hint"] == "hooks.slack.com/…mnop"


def test_the_readme_verification_snippet_accepts_ours_and_refuses_a_forgery(user, receiver):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    snippet = readme.split("A receiver verifies:\n\n```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(snippet, namespace)  # the README's code, as a reader would paste it
    verify = namespace["verify"]
    hook = destination_save(owner=user, name="ops", kind="webhook", target=f"{receiver.url}/hook", secret=SECRET)
    destination_test(hook)
    (request,) = receiver.requests
    assert verify(SECRET, request.headers, request.body)
    assert not verify("another-secret-of-16+", request.headers, request.body)
    assert not verify(SECRET, request.headers, request.body.replace(b"Test message", b"Tost message"))
