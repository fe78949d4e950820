"""A real SMTP server on loopback (aiosmtpd) receives the digest: text, HTML and PNG images."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import re

import pytest
from django.core import mail
from PIL import Image

from smarketing.digests.models import Delivery, DeliveryStatus
from smarketing.digests.services import digests_send_due
from tests.digests.conftest import utc

DUE = utc(2026, 1, 6, 12, 30)


def header(message, name: str) -> str:
    """A header's value, unfolded (long or non-ASCII headers arrive folded onto a new line)."""
    return " ".join(str(message[name]).split())


def parts_of(raw: bytes):
    message = email.message_from_bytes(raw, policy=email.policy.default)
    return message, {part.get_content_type(): part for part in message.walk()}, [
        part for part in message.walk() if part.get_content_type() == "image/png"
    ]


@pytest.mark.django_db
def test_loopback_smtp_server_receives_multipart_digest_with_inline_png_charts(subscribe, smtp_server):
    from smarketing.funnel.models import Contact, TeamMember
    from smarketing.kpis.services import facts_rebuild

    # One rep with one delivered lead this month, so the SLA panel has a chart too.
    rep = TeamMember.objects.create(email="rep@example.com", name="Rita Rep", team="sales")
    Contact(external_id="c1", source_channel="email", owner=rep, lead_at=utc(2026, 1, 2, 9),
            mql_at=utc(2026, 1, 5, 9)).save()
    facts_rebuild()
    subscribe("ann", dashboards=["shared"])
    report = digests_send_due(now=DUE)
    assert report.sent == 1
    [(recipients, raw)] = smtp_server.messages
    assert recipients == ["ann@example.com"]
    message, by_type, images = parts_of(raw)
    assert message.get_content_type() == "multipart/related"
    assert header(message, "Subject").startswith("Shared sales & marketing · Tue 6 Jan · ")
    assert re.fullmatch(r"<http://127\.0\.0\.1:8000/digests/unsubscribe/[^/]+/>", header(message, "List-Unsubscribe"))
    assert header(message, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert by_type["multipart/alternative"] is not None
    text = by_type["text/plain"].get_content()
    html = by_type["text/html"].get_content()
    assert "NEEDS ATTENTION" in text and "/digests/unsubscribe/" in text
    # Every picture the HTML refers to travels with it, and nothing else does.
    referenced = set(re.findall(r'src="cid:([^"]+)"', html))
    carried = {image["Content-ID"].strip("<>") for image in images}
    # shared: SLA chart, sales SLA by rep chart, funnel chart, series chart (no rejections: no chart)
    assert len(referenced) == 4
    assert referenced == carried
    for image in images:
        assert image.get_content_disposition() == "inline"
        picture = Image.open(io.BytesIO(image.get_content()))
        assert picture.format == "PNG"
        # Opaque white corners: dark-mode clients cannot turn the plot area black.
        assert picture.convert("RGBA").getpixel((1, 1)) == (255, 255, 255, 255)
    assert Delivery.objects.get().status == DeliveryStatus.SENT


@pytest.mark.django_db
def test_smtp_server_refusal_is_recorded_then_retried(subscribe, smtp_server):
    smtp_server.refuse = 1
    subscribe("ann")
    digests_send_due(now=DUE)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.last_error.startswith("SMTPDataError: (451")
    assert smtp_server.messages == []
    digests_send_due(now=DUE + dt.timedelta(minutes=5))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
    assert len(smtp_server.messages) == 1


@pytest.mark.django_db
def test_one_connection_carries_every_subscriber(subscribe, smtp_server):
    for name in ("ann", "bob", "cy"):
        subscribe(name, dashboards=["blog"])
    digests_send_due(now=DUE)
    assert sorted(rcpt[0] for rcpt, _raw in smtp_server.messages) == [
        "ann@example.com", "bob@example.com", "cy@example.com"]
    assert len(smtp_server.sessions) == 1
    # Each gets their own unsubscribe link.
    links = {header(parts_of(raw)[0], "List-Unsubscribe") for _rcpt, raw in smtp_server.messages}
    assert len(links) == 3


@pytest.mark.django_db
def test_locmem_backend_gets_the_same_message(subscribe):
    subscribe("ann", dashboards=["blog"])
    digests_send_due(now=DUE)
    [sent] = mail.outbox
    assert sent.to == ["ann@example.com"]
    [(html, mimetype)] = sent.alternatives
    assert mimetype == "text/html"
    assert "Blog" in html and "Blog" in sent.body
    message = sent.message()
    assert message.get_content_type() == "multipart/related"
    assert next(part.get_content_type() for part in message.get_payload()) == "multipart/alternative"
    assert sum(1 for part in message.walk() if part.get_content_type() == "image/png") == len(
        re.findall(r'src="cid:', html))


@pytest.mark.django_db
def test_a_refused_message_does_not_stop_the_rest_of_the_run(subscribe, smtp_server):
    smtp_server.refuse = 1
    for name in ("ann", "bob"):
        subscribe(name, dashboards=["blog"])
    report = digests_send_due(now=DUE)
    assert (report.sent, report.retrying) == (1, 1)
    assert [rcpt for rcpt, _raw in smtp_server.messages] == [["bob@example.com"]]
    assert dict(Delivery.objects.values_list("subscription__user__username", "status")) == {
        "ann": DeliveryStatus.RETRYING, "bob": DeliveryStatus.SENT}
