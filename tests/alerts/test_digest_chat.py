"""The morning digest to Slack and Teams: headline tiles and what needs attention, once a day."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from smarketing.alerts.models import AlertDelivery
from smarketing.alerts.services import alerts_deliver_due, destination_save
from smarketing.digests.models import Subscription
from smarketing.digests.services import digests_send_due
from smarketing.funnel.models import Target
from smarketing.kpis.services import facts_rebuild
from tests.kpis.builders import contact

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 16, 8, 0, tzinfo=dt.UTC)  # a Monday, after 07:30 UTC


@pytest.fixture
def subscriber(django_user_model):
    user = django_user_model.objects.create_user(username="ann", email="ann@example.com", password="pw-123456789")
    return Subscription.objects.create(user=user, dashboards=["shared"], time_zone="UTC", send_time=dt.time(7, 30))


@pytest.fixture
def numbers():
    with time_machine.travel(NOW, tick=False):
        for index in range(3):
            contact(f"c{index}", f"2026-03-0{index + 2} 10:00")
        # 3 leads against a monthly target of 100. The digest reads complete days (as of Mar 15):
        # pace 100 × 15 / 31 = 48.4 → 48, projection 3 × 31 / 15 = 6.2 → 6: behind, a target item.
        Target.objects.create(metric="leads", period="month", period_start=dt.date(2026, 3, 1), value=100)
        facts_rebuild()
        yield


@pytest.mark.parametrize("kind", ["slack", "teams"])
def test_digest_goes_to_the_channel_once(subscriber, numbers, receiver, kind):
    destination = destination_save(owner=subscriber.user, name="#team", kind=kind, target=f"{receiver.url}/in",
                                   secret=None)
    subscriber.chat_destination = destination
    subscriber.save()
    with time_machine.travel(NOW, tick=False):
        assert digests_send_due(now=NOW).sent == 1
        assert alerts_deliver_due(now=NOW).sent == 1
        assert digests_send_due(now=NOW + dt.timedelta(minutes=5)).sent == 0
        assert alerts_deliver_due(now=NOW + dt.timedelta(minutes=5)).claimed == 0
    (request,) = receiver.requests
    message = request.json()
    if kind == "slack":
        assert message["blocks"][0]["type"] == "header"
        assert message["blocks"][0]["text"]["text"].startswith("Shared sales & marketing · Mon 16 Mar")
        section = message["blocks"][1]["text"]["text"]
        assert section.startswith("*<http://127.0.0.1:8000/dashboards/shared/?window=mtd|Shared sales & marketing>*")
        assert "⚠ Target: Leads: 3, behind the pace of 48; heading for 6 against a target of 100" in section
        assert message["blocks"][-1]["type"] == "context"
    else:
        card = message["attachments"][0]["content"]
        assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
        texts = [block["text"] for block in card["body"]]
        assert texts[0].startswith("Shared sales & marketing · Mon 16 Mar")
        assert "⚠ Target: Leads: 3, behind the pace of 48; heading for 6 against a target of 100" in texts
        assert card["actions"][0]["url"] == "http://127.0.0.1:8000/dashboards/shared/?window=mtd"
    assert AlertDelivery.objects.get().dedupe_key == f"digest:{subscriber.pk}:2026-03-16"


def test_without_a_channel_only_the_email_goes(subscriber, numbers, receiver):
    with time_machine.travel(NOW, tick=False):
        assert digests_send_due(now=NOW).sent == 1
    assert not AlertDelivery.objects.exists() and receiver.requests == []


def test_settings_page_offers_only_ones_own_chat_channels(client, subscriber, django_user_model):
    other = django_user_model.objects.create_user(username="bob", password="pw-123456789")
    mine = destination_save(owner=subscriber.user, name="my slack", kind="slack",
                            target="https://hooks.slack.com/services/T/B/mine", secret=None)
    destination_save(owner=subscriber.user, name="my mail", kind="email", target="ann@example.com", secret=None)
    destination_save(owner=other, name="bob's teams", kind="teams", target="https://example.com/teams", secret=None)
    client.force_login(subscriber.user)
    page = client.get("/digests/settings/").content.decode()
    assert "my slack" in page and "my mail" not in page and "bob&#x27;s teams" not in page and "bob's" not in page
    response = client.post("/digests/settings/", {"dashboards": ["shared"], "send_time": "07:30", "time_zone": "UTC",
                                                  "cadence": "weekdays", "weekday": "0", "active": "on",
                                                  "chat_destination": str(mine.pk)})
    assert response.status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.chat_destination == mine
