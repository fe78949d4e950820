"""The admin's add and change forms validate through the row schema and tell kpis."""

from __future__ import annotations

import datetime as dt

import pytest

from smarketing.funnel import models as m
from smarketing.funnel.signals import records_changed
from tests.funnel.rows import store_examples

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client, admin_user):
    client.force_login(admin_user)
    return client


def test_add_deal_rejects_won_without_closed_at(admin_client_):
    response = admin_client_.post("/admin/funnel/deal/add/", {
        "external_id": "D1", "name": "Big", "amount": "100", "mrr": "0", "status": "won",
        "created_at_0": "2026-01-05", "created_at_1": "09:00:00",
    })
    assert response.status_code == 200
    assert "closed_at: a won deal needs closed_at" in response.content.decode()
    assert m.Deal.objects.count() == 0


def test_add_email_send_rejects_delivered_above_sent(admin_client_):
    response = admin_client_.post("/admin/funnel/emailsend/add/", {
        "external_id": "E1", "sent_at_0": "2026-01-05", "sent_at_1": "09:00:00", "sent": "10",
        "delivered": "11", "unique_opens": "1", "unique_clicks": "1", "unsubscribes": "0",
    })
    assert response.status_code == 200
    assert "delivered: delivered (11) is more than sent (10)" in response.content.decode()
    assert m.EmailSend.objects.count() == 0


def test_change_contact_saves_local_dates_and_signals_old_and_new_days(admin_client_):
    store_examples("contacts")
    contact = m.Contact.objects.get(external_id="contacts-1")
    calls = []

    def receiver(sender, **kwargs):
        calls.append(kwargs)

    records_changed.connect(receiver)
    try:
        response = admin_client_.post(f"/admin/funnel/contact/{contact.pk}/change/", {
            "external_id": "contacts-1", "email": "a@b.com", "company": "", "source_channel": "email",
            "lead_at_0": "2026-02-01", "lead_at_1": "10:00:00",
        })
    finally:
        records_changed.disconnect(receiver)
    assert response.status_code == 302, response.content.decode()[:2000]
    contact.refresh_from_db()
    assert contact.lead_on == dt.date(2026, 2, 1)
    assert contact.email_domain == "b.com"
    assert calls[0]["days"] == [dt.date(2026, 1, 5), dt.date(2026, 2, 1)]
    assert calls[0]["contact_ids"] == [contact.pk]


def test_add_target_account_lower_cases_the_domain(admin_client_):
    response = admin_client_.post("/admin/funnel/targetaccount/add/", {"domain": "ACME.io", "name": "Acme"})
    assert response.status_code == 302
    assert m.TargetAccount.objects.get().domain == "acme.io"
