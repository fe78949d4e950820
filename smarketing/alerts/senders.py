"""Hand one alert to one destination: e-mail, Slack (Block Kit), Teams (Adaptive Card) or a
signed JSON webhook. Each returns an `Outcome`; none raises for a receiver's failure, and no
message here ever contains the destination's URL or secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import translation
from django.utils.translation import gettext

from smarketing.accounts.services import language_for
from smarketing.kpis.registry import DIMENSION_LABELS

from .models import Destination, DestinationKind
from .vault import SealError, unseal

HTTP_TIMEOUT = 10  # seconds; a receiver slower than this is retried later
SIGNATURE_HEADER = "X-Smarketing-Signature"
TIMESTAMP_HEADER = "X-Smarketing-Timestamp"
DELIVERY_HEADER = "X-Smarketing-Delivery"
# The generic webhook's body, in this order (the public contract).
PAYLOAD_FIELDS = ("rule", "state", "metric", "dimension", "key", "window", "as_of", "value",
                  "reference", "message", "url")


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str = ""


def signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`, what receivers recompute to verify."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _title(payload: dict) -> str:
    if payload["state"] == "resolved":
        return gettext("Resolved: {rule}").format(rule=payload["rule"])
    return gettext("Alert: {rule}").format(rule=payload["rule"])


def _facts(payload: dict) -> list[tuple[str, str]]:
    rows = [(gettext("Value"), payload["value_text"]), (gettext("Reference"), payload["reference_text"])]
    if payload.get("change_text"):
        rows.append((gettext("Change"), payload["change_text"]))
    rows.append((gettext("Window"), gettext("{window} to {day}").format(window=payload["window_label"],
                                                                      day=payload["as_of"])))
    if payload.get("dimension"):
        rows.append((str(DIMENSION_LABELS.get(payload["dimension"], payload["dimension"].replace("_", " ").capitalize())),
                     payload["key"]))
    return rows


def slack_message(payload: dict) -> dict:
    """A Block Kit message: header, the message, the numbers as fields, a link button."""
    return {
        "text": f"{_title(payload)}: {payload['message']}",  # notifications and old clients
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": _title(payload)[:150], "emoji": True}},
            {"type": "section", "text": {"type": "mrkdwn", "text": payload["message"]}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{name}*\n{value}"}
                                           for name, value in _facts(payload)]},
            {"type": "actions", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": gettext("Open in smarketing")},
                 "url": payload["url"]},
            ]},
        ],
    }


def _adaptive_card(body: list[dict], *, url: str, link: str) -> dict:
    """An Adaptive Card (1.4) in the envelope Teams incoming webhooks and workflows accept."""
    return {
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": None,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
                "actions": [{"type": "Action.OpenUrl", "title": link, "url": url}],
            },
        }],
    }


def teams_message(payload: dict) -> dict:
    return _adaptive_card([
        {"type": "TextBlock", "text": _title(payload), "weight": "Bolder", "size": "Medium",
         "wrap": True, "color": "Good" if payload["state"] == "resolved" else "Attention"},
        {"type": "TextBlock", "text": payload["message"], "wrap": True},
        {"type": "FactSet", "facts": [{"title": name, "value": value} for name, value in _facts(payload)]},
    ], url=payload["url"], link=gettext("Open in smarketing"))


# Messages other than alerts that Slack and Teams destinations carry ("kind" in the payload).
CHAT_KINDS = ("digest",)


def _digest_lines(section: dict) -> list[str]:
    lines = [f"• {part}" for part in section.get("headline", [])]
    lines += [f"⚠ {item['title']}: {item['detail']}" for item in section.get("attention", [])]
    return lines


def slack_digest_message(payload: dict) -> dict:
    """The morning digest's headline tiles and attention list, one section per dashboard."""
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": payload["title"][:150],
                                                      "emoji": True}}]
    for section in payload["sections"]:
        body = "\n".join(_digest_lines(section)) or gettext("Nothing new.")
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": f"*<{section['url']}|{section['title']}>*\n{body}"[:3000]}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": payload["footer"]}]})
    return {"text": payload["title"], "blocks": blocks}


def teams_digest_message(payload: dict) -> dict:
    body: list[dict] = [{"type": "TextBlock", "text": payload["title"], "weight": "Bolder", "size": "Medium",
                         "wrap": True}]
    for section in payload["sections"]:
        body.append({"type": "TextBlock", "text": section["title"], "weight": "Bolder", "wrap": True,
                     "spacing": "Medium"})
        body += [{"type": "TextBlock", "text": line, "wrap": True, "spacing": "None"}
                 for line in _digest_lines(section) or [gettext("Nothing new.")]]
    body.append({"type": "TextBlock", "text": payload["footer"], "isSubtle": True, "size": "Small", "wrap": True})
    return _adaptive_card(body, url=payload["url"], link=gettext("Open smarketing"))


def webhook_body(payload: dict) -> bytes:
    return json.dumps({name: payload.get(name) for name in PAYLOAD_FIELDS}, separators=(",", ":")).encode()


def _post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "User-Agent": "smarketing-alerts", **headers})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            return Outcome(ok=200 <= response.status < 300, status_code=response.status,
                           error="" if 200 <= response.status < 300 else f"HTTP {response.status}")
    except urllib.error.HTTPError as error:
        return Outcome(ok=False, status_code=error.code, error=f"HTTP {error.code} {error.reason}"[:500])
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        # The reason names the failure (refused, timeout, DNS), never the URL itself.
        return Outcome(ok=False, error=f"{type(error).__name__}: {reason}".replace(url, "<url>")[:500])


def _email(destination: Destination, address: str, payload: dict) -> Outcome:
    lines = [payload["message"], "", *(f"{name}: {value}" for name, value in _facts(payload)), "", payload["url"]]
    message = EmailMessage(subject=_title(payload), body="\n".join(lines),
                           from_email=settings.DEFAULT_FROM_EMAIL, to=[address],
                           headers={"Auto-Submitted": "auto-generated"})
    try:
        message.send(fail_silently=False)
    except Exception as error:  # SMTP and socket errors alike: recorded and retried
        return Outcome(ok=False, error=f"{type(error).__name__}: {error}"[:500])
    return Outcome(ok=True)


def deliver(*, destination: Destination, payload: dict, delivery_id: str) -> Outcome:
    """Send the payload to the destination in its kind's format, in its owner's language."""
    with translation.override(language_for(destination.owner)):
        return _deliver(destination=destination, payload=payload, delivery_id=delivery_id)


def _deliver(*, destination: Destination, payload: dict, delivery_id: str) -> Outcome:
    try:
        target = unseal(destination.target_sealed)
        secret = unseal(destination.secret_sealed) if destination.secret_sealed else ""
    except SealError as error:
        return Outcome(ok=False, error=str(error))
    if destination.kind == DestinationKind.EMAIL:
        return _email(destination, target, payload)
    headers = {DELIVERY_HEADER: delivery_id}
    if payload.get("kind") == "digest":
        builder = slack_digest_message if destination.kind == DestinationKind.SLACK else teams_digest_message
        body = json.dumps(builder(payload)).encode()
    elif destination.kind == DestinationKind.SLACK:
        body = json.dumps(slack_message(payload)).encode()
    elif destination.kind == DestinationKind.TEAMS:
        body = json.dumps(teams_message(payload)).encode()
    else:
        body = webhook_body(payload)
        timestamp = str(int(time.time()))
        headers[TIMESTAMP_HEADER] = timestamp
        headers[SIGNATURE_HEADER] = signature(secret=secret, timestamp=timestamp, body=body)
    return _post(target, body, headers)
