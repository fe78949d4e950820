"""Signing in and resetting a forgotten password go through the product's own pages."""

import re

from django.core import mail
from django.urls import reverse


def _names(response) -> list[str]:
    return [t.name for t in response.templates]


def test_the_login_page_offers_a_password_reset(client):
    page = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}"' in page


def test_a_forgotten_password_is_reset_by_the_emailed_link(client, user):
    user.email = "viewer@example.com"
    user.save()
    form = client.get(reverse("password_reset"))
    assert "registration/password_reset_form.html" in _names(form)
    assert "admin/base.html" not in _names(form)

    sent = client.post(reverse("password_reset"), {"email": "viewer@example.com"}, follow=True)
    assert "registration/password_reset_done.html" in _names(sent)
    assert "for 3 days" in sent.content.decode()  # Django's default PASSWORD_RESET_TIMEOUT
    (message,) = mail.outbox
    assert message.subject == "Reset your smarketing password"
    assert message.to == ["viewer@example.com"]
    link = re.search(r"http://testserver(/accounts/reset/\S+)", message.body).group(1)

    choose = client.get(link, follow=True)
    assert "registration/password_reset_confirm.html" in _names(choose)
    assert choose.context["validlink"]
    set_url = choose.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": "a-fresh-pass-789", "new_password2": "a-fresh-pass-789"},
                       follow=True)
    assert "registration/password_reset_complete.html" in _names(done)
    assert client.login(username="viewer", password="a-fresh-pass-789")
    client.logout()

    # The link worked once.
    again = client.get(link, follow=True)
    assert not again.context["validlink"]
    assert "This link no longer works" in again.content.decode()


def test_mismatched_new_passwords_are_reported_and_change_nothing(client, user):
    user.email = "viewer@example.com"
    user.save()
    client.post(reverse("password_reset"), {"email": "viewer@example.com"})
    link = re.search(r"http://testserver(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    set_url = client.get(link).url
    refused = client.post(set_url, {"new_password1": "a-fresh-pass-789", "new_password2": "another-pass-000"})
    assert refused.status_code == 200
    assert "didn’t match" in refused.content.decode()
    assert client.login(username="viewer", password="viewer-pass-123")


def test_an_unknown_address_gets_the_same_answer_and_no_email(client, user):
    answer = client.post(reverse("password_reset"), {"email": "nobody@example.com"}, follow=True)
    assert "registration/password_reset_done.html" in _names(answer)
    assert mail.outbox == []
