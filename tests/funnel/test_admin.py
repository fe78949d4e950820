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


def _staff_with(django_user_model, *codenames: str):
    from django.contrib.auth.models import Permission

    staff = django_user_model.objects.create_user("staff", password="staff-pass-123", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="funnel", codename__in=codenames))
    return staff


CAMPAIGN = {"external_id": "spring", "name": "Spring", "channel": "email", "budget": "0"}


def test_model_permissions_without_manage_data_write_nothing(client, django_user_model):
    campaign = m.Campaign.objects.create(external_id="old", name="Old", channel="email")
    client.force_login(_staff_with(django_user_model, "add_campaign", "change_campaign", "delete_campaign",
                                   "view_campaign"))
    assert client.post("/admin/funnel/campaign/add/", CAMPAIGN).status_code == 403
    assert client.post(f"/admin/funnel/campaign/{campaign.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(f"/admin/funnel/campaign/{campaign.pk}/change/", {**CAMPAIGN, "external_id": "old"})
    client.post("/admin/funnel/campaign/", {"action": "delete_selected", "_selected_action": [campaign.pk],
                                            "post": "yes"})
    assert list(m.Campaign.objects.values_list("external_id", "name")) == [("old", "Old")]
    # Reading stays allowed with the view permission.
    assert client.get(f"/admin/funnel/campaign/{campaign.pk}/change/").status_code == 200


def test_model_permission_with_manage_data_writes(client, django_user_model):
    client.force_login(_staff_with(django_user_model, "add_campaign", "manage_data"))
    response = client.post("/admin/funnel/campaign/add/", CAMPAIGN)
    assert response.status_code == 302
    assert m.Campaign.objects.filter(external_id="spring").exists()
