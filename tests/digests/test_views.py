"""Settings page, preview, signed-out unsubscribe, default subscriptions, the command, admin."""

from __future__ import annotations

import datetime as dt
import io
import logging

import pytest
from django.core import mail, signing
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from smarketing.digests import charts
from smarketing.digests.models import Delivery, Subscription
from smarketing.digests.services import (
    UNSUBSCRIBE_SALT,
    digests_send_due,
    subscriptions_ensure_defaults,
    unsubscribe_token_make,
)
from smarketing.funnel.models import TeamMember
from tests.digests.conftest import utc

pytestmark = pytest.mark.django_db
DUE = utc(2026, 1, 6, 12, 30)


def token_in(body: str) -> str:
    return body.split("/digests/unsubscribe/", 1)[1].split("/", 1)[0]


# --- unsubscribe -----------------------------------------------------------------------
def test_unsubscribe_link_from_the_email_works_signed_out(subscribe):
    subscribe("ann")
    digests_send_due(now=DUE)
    token = token_in(mail.outbox[0].body)
    client = Client(enforce_csrf_checks=True)
    page = client.get(f"/digests/unsubscribe/{token}/")
    assert page.status_code == 200
    assert b"Unsubscribe from the daily digest?" in page.content
    assert Subscription.objects.get().active  # opening the link (or a scanner opening it) changes nothing
    done = client.post(f"/digests/unsubscribe/{token}/")  # RFC 8058 one-click: no CSRF token, no session
    assert done.status_code == 200
    assert b"You are unsubscribed" in done.content
    assert not Subscription.objects.get().active
    assert digests_send_due(now=DUE + dt.timedelta(days=1)).sent == 0


def test_tampered_or_forged_tokens_are_rejected(subscribe):
    ann = subscribe("ann")
    bob = subscribe("bob")
    good = unsubscribe_token_make(subscription=ann)
    _payload, rest = good.split(":", 1)
    # Bob's id with Ann's signature.
    swapped = signing.dumps({"s": bob.pk, "u": bob.user_id}, salt=UNSUBSCRIBE_SALT).split(":", 1)[0] + ":" + rest
    forged_key = signing.dumps({"s": bob.pk, "u": bob.user_id}, salt=UNSUBSCRIBE_SALT, key="not-our-secret")
    other_salt = signing.dumps({"s": bob.pk, "u": bob.user_id}, salt="some.other.purpose")
    client = Client()
    for token in (swapped, forged_key, other_salt, good[:-2] + ("AA" if good[-2:] != "AA" else "BB"), "garbage"):
        assert client.post(f"/digests/unsubscribe/{token}/").status_code == 400
        assert client.get(f"/digests/unsubscribe/{token}/").status_code == 400
    assert Subscription.objects.filter(active=True).count() == 2
    assert client.post(f"/digests/unsubscribe/{good}/").status_code == 200
    assert set(Subscription.objects.filter(active=True).values_list("user__username", flat=True)) == {"bob"}


# --- settings page ---------------------------------------------------------------------
def test_settings_page_saves_the_users_subscription(client, django_user_model):
    user = django_user_model.objects.create_user(username="dee", email="dee@example.com", password="pw-123456789")
    client.force_login(user)
    page = client.get(reverse("digests:settings"))
    assert page.status_code == 200
    assert b"Your morning email" in page.content
    response = client.post(reverse("digests:settings"), {
        "dashboards": ["executive", "blog"], "send_time": "06:45", "time_zone": "Europe/Berlin",
        "cadence": "weekly", "weekday": "3", "active": "on",
    })
    assert response.status_code == 302
    subscription = Subscription.objects.get(user=user)
    # Stored in the catalogue's order, whatever order the boxes were ticked in.
    assert subscription.dashboards == ["executive", "blog"]
    assert (subscription.send_time, subscription.time_zone, subscription.cadence, subscription.weekday,
            subscription.active) == (dt.time(6, 45), "Europe/Berlin", "weekly", 3, True)


def test_settings_page_rejects_unknown_zone_and_no_dashboards(client, user):
    client.force_login(user)
    response = client.post(reverse("digests:settings"), {
        "send_time": "07:30", "time_zone": "Mars/Olympus", "active": "on"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "time_zone" in errors and "dashboards" in errors
    assert not Subscription.objects.exists()


def test_settings_and_preview_need_sign_in(client):
    for name in ("digests:settings", "digests:preview"):
        assert client.get(reverse(name)).status_code == 302


def test_preview_shows_todays_digest_with_images_inline(client, user):
    TeamMember.objects.create(email="m@example.com", name="M", team="marketing", role="blog", user=user)
    client.force_login(user)
    response = client.get(reverse("digests:preview"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "cid:" not in html
    # blog: one series chart
    assert html.count('src="data:image/png;base64,') == 1
    assert "Blog visits over time" in html


# --- default subscriptions -------------------------------------------------------------
def test_team_member_with_a_role_is_subscribed_when_linked_to_a_user(django_user_model):
    user = django_user_model.objects.create_user(username="rep", email="rep@example.com")
    member = TeamMember.objects.create(email="rep@example.com", name="Rep", team="sales", role="sales_manager")
    assert not Subscription.objects.exists()
    member.user = user
    member.save()
    subscription = Subscription.objects.get(user=user)
    assert (subscription.dashboards, subscription.send_time, subscription.active) == (
        ["sales_manager"], dt.time(7, 30), True)


def test_no_default_subscription_without_a_role(django_user_model):
    user = django_user_model.objects.create_user(username="x", email="x@example.com")
    TeamMember.objects.create(email="x@example.com", name="X", team="sales", role="", user=user)
    assert not Subscription.objects.exists()


def test_bulk_created_members_are_subscribed_by_the_next_run_but_opt_outs_stay_out(django_user_model):
    one = django_user_model.objects.create_user(username="one", email="one@example.com")
    two = django_user_model.objects.create_user(username="two", email="two@example.com")
    TeamMember.objects.bulk_create([
        TeamMember(email="one@example.com", name="One", team="marketing", role="blog", user=one),
        TeamMember(email="two@example.com", name="Two", team="sales", role="channels", user=two),
    ])
    Subscription.objects.create(user=two, dashboards=["channels"], active=False)
    assert subscriptions_ensure_defaults() == 1
    assert dict(Subscription.objects.values_list("user__username", "active")) == {"one": True, "two": False}


# --- chart failure ---------------------------------------------------------------------
def test_chart_failure_still_sends_the_digest_without_images_and_logs_it(subscribe, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("no fonts today")

    for name in ("bar_chart", "funnel_chart", "line_chart"):
        monkeypatch.setattr(charts, name, broken)
    subscribe("ann", dashboards=["shared"])
    with caplog.at_level(logging.ERROR, logger="smarketing.digests.compose"):
        report = digests_send_due(now=DUE)
    assert report.sent == 1
    [sent] = mail.outbox
    [(html, _mime)] = sent.alternatives
    assert "cid:" not in html
    assert sent.attachments == []
    assert sent.message().get_content_type() == "multipart/alternative"
    assert "NEEDS ATTENTION" in sent.body
    failures = [r for r in caplog.records if "failed to render" in r.getMessage()]
    # No reps in an empty database, so no SLA chart: the funnel and the series were attempted.
    assert len(failures) == 2 and all(r.exc_info for r in failures)


# --- command and admin -----------------------------------------------------------------
def test_send_digests_command_dry_run_then_send(subscribe):
    subscribe("ann")
    out = io.StringIO()
    call_command("send_digests", "--now", "2026-01-06T12:30:00Z", "--dry-run", stdout=out)
    assert "ann@example.com\t2026-01-06\t" in out.getvalue()
    assert not Delivery.objects.exists()
    out = io.StringIO()
    call_command("send_digests", "--now", "2026-01-06T12:30:00+00:00", stdout=out)
    assert "sent 1" in out.getvalue()
    assert len(mail.outbox) == 1


def test_admin_lists_subscriptions_and_deliveries(admin_client, subscribe):
    subscribe("ann")
    digests_send_due(now=DUE)
    assert admin_client.get("/admin/digests/subscription/").status_code == 200
    assert admin_client.get(f"/admin/digests/subscription/{Subscription.objects.get().pk}/change/").status_code == 200
    assert admin_client.get("/admin/digests/delivery/").status_code == 200


def test_a_panel_that_cannot_be_computed_is_noted_and_the_rest_still_goes_out(subscribe, monkeypatch, caplog):
    from smarketing.digests import compose

    def broken(self, index, panel):
        raise ValueError("unknown metric")

    monkeypatch.setattr(compose.SectionBuilder, "funnel", broken)
    subscribe("ann", dashboards=["shared"])
    with caplog.at_level(logging.ERROR, logger="smarketing.digests.compose"):
        assert digests_send_due(now=DUE).sent == 1
    [sent] = mail.outbox
    assert "Funnel vs the previous period\n  These figures could not be computed" in sent.body
    assert "The agreed metrics" in sent.body and "Leads and MQLs over time" in sent.body
    assert any("Funnel vs the previous period" in r.getMessage() for r in caplog.records)


def test_greeting_follows_the_subscribers_clock(subscribe):
    subscribe("ann", time_zone="America/New_York", send_time=dt.time(19, 0))
    digests_send_due(now=utc(2026, 1, 7, 0, 0))  # 19:00 Tue in New York
    assert mail.outbox[0].body.splitlines()[2].startswith("Good evening, Ann.")


def test_a_retired_dashboard_key_is_skipped(subscribe):
    subscription = subscribe("ann", dashboards=["blog"])
    Subscription.objects.filter(pk=subscription.pk).update(dashboards=["retired_board", "blog"])
    assert digests_send_due(now=DUE).sent == 1
    assert mail.outbox[0].subject.startswith("Blog · Tue 6 Jan")
