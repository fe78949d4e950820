"""Which language a request, a digest and a reset mail use: the user's setting, else the browser's."""

from __future__ import annotations

import datetime as dt
import re
from email.message import Message

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from smarketing.accounts.models import Preference
from smarketing.accounts.services import language_for, set_language
from smarketing.digests.models import Subscription
from smarketing.digests.services import digests_send_due
from smarketing.kpis.windows import company_today
from smarketing.ops.auth import password_reset_mail
from tests.accounts.english import data_names, english_words, visible_text

pytestmark = pytest.mark.django_db
CJK = re.compile(r"[\u4e00-\u9fff]")
ZH = "zh-CN,zh;q=0.9,en;q=0.5"


def _title(response) -> str:
    return re.search(r"<title>(.*?)</title>", response.content.decode(), re.S).group(1)


def test_a_request_without_a_setting_follows_accept_language(signed_in_client):
    chinese = signed_in_client.get("/digests/settings/", HTTP_ACCEPT_LANGUAGE=ZH)
    english = signed_in_client.get("/digests/settings/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")
    assert "邮件摘要" in _title(chinese) and chinese["Content-Language"] == "zh-hans"
    assert "Email digest" in _title(english) and english["Content-Language"] == "en"
    assert "Accept-Language" in chinese["Vary"]


def test_the_users_setting_wins_over_accept_language(signed_in_client, user):
    set_language(user, "en")
    response = signed_in_client.get("/digests/settings/", HTTP_ACCEPT_LANGUAGE=ZH)
    assert "Email digest" in _title(response)
    set_language(user, "zh-hans")
    response = signed_in_client.get("/digests/settings/", HTTP_ACCEPT_LANGUAGE="en-US")
    assert "邮件摘要" in _title(response)


def test_signed_out_pages_follow_accept_language(client):
    assert "登录" in _title(client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE=ZH))
    assert "Sign in" in _title(client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en"))


def test_the_header_switch_stores_the_choice_and_goes_back(signed_in_client, user):
    response = signed_in_client.post("/accounts/language/", {"language": "zh-hans", "next": "/alerts/"})
    assert response.status_code == 302 and response["Location"] == "/alerts/"
    assert Preference.objects.get(user=user).language == "zh-hans"
    assert "告警" in _title(signed_in_client.get("/alerts/"))
    # Back to the browser's language; a foreign `next` is not followed.
    response = signed_in_client.post("/accounts/language/", {"language": "", "next": "https://evil.example/"})
    assert response["Location"] == "/" and Preference.objects.get(user=user).language == ""
    assert signed_in_client.post("/accounts/language/", {"language": "fr"}).status_code == 400


def test_the_browser_language_is_remembered_for_mail_while_there_is_no_setting(signed_in_client, user,
                                                                               django_user_model):
    assert language_for(django_user_model.objects.get(pk=user.pk)) == "en"
    signed_in_client.get("/digests/settings/", HTTP_ACCEPT_LANGUAGE=ZH)
    assert language_for(django_user_model.objects.get(pk=user.pk)) == "zh-hans"
    set_language(user, "en")
    signed_in_client.get("/digests/settings/", HTTP_ACCEPT_LANGUAGE=ZH)
    assert language_for(django_user_model.objects.get(pk=user.pk)) == "en"


def test_api_me_reads_and_sets_the_language(user):
    api = APIClient()
    api.force_authenticate(user)
    answer = api.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE=ZH)
    assert answer.status_code == 200
    assert answer.json() == {"username": "viewer", "email": "", "language": None, "effective_language": "zh-hans"}
    answer = api.patch("/api/v1/me/", {"language": "en"}, format="json", HTTP_ACCEPT_LANGUAGE=ZH)
    assert answer.status_code == 200 and answer.json()["language"] == "en"
    assert answer.json()["effective_language"] == "en"
    assert Preference.objects.get(user=user).language == "en"
    answer = api.patch("/api/v1/me/", {"language": None}, format="json", HTTP_ACCEPT_LANGUAGE=ZH)
    assert answer.json()["language"] is None and answer.json()["effective_language"] == "zh-hans"


def test_api_me_refuses_an_unknown_language_and_writes_nothing(user):
    api = APIClient()
    api.force_authenticate(user)
    answer = api.patch("/api/v1/me/", {"language": "fr"}, format="json")
    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert error["field"] == "language" and "fr" in error["message"]
    assert not Preference.objects.filter(user=user).exists()


def test_a_token_request_answers_in_the_token_users_language(user):
    set_language(user, "zh-hans")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    answer = api.get("/api/v1/kpis/?metrics=leads&window=mtd", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200
    assert answer.json()["results"][0]["label"] == "线索"
    assert answer.json()["results"][0]["metric"] == "leads"  # keys stay English


def test_the_reset_mail_is_in_the_users_language(django_user_model):
    chinese = django_user_model.objects.create_user(username="li", email="li@example.com", password="pw-123456789")
    django_user_model.objects.create_user(username="ann", email="ann@example.com", password="pw-123456789")
    set_language(chinese, "zh-hans")
    password_reset_mail(email="li@example.com", domain="example.com", use_https=True)
    password_reset_mail(email="ann@example.com", domain="example.com", use_https=True)
    zh, en = mail.outbox
    assert zh.subject == "重置您的 smarketing 密码" and "此链接只能使用一次" in zh.body
    assert en.subject == "Reset your smarketing password" and "The link works once" in en.body
    assert not CJK.search(en.body)


@pytest.fixture
def demo_subscribers(django_user_model):
    cache.clear()
    call_command("seed_demo", contacts=300, no_progress=True)
    call_command("recompute_kpis", full=True)
    made = {}
    for name, language in (("li", "zh-hans"), ("ann", "")):
        user = django_user_model.objects.create_user(username=name, email=f"{name}@example.com",
                                                     password="pw-123456789", first_name=name.title())
        set_language(user, language)
        Subscription.objects.update_or_create(user=user, defaults={
            "dashboards": ["shared"], "time_zone": "UTC", "send_time": dt.time(7, 30), "cadence": "daily"})
        made[name] = user
    return made


def _parts(message) -> tuple[str, str, list[bytes]]:
    parsed: Message = message.message()
    html = text = ""
    images = []
    for part in parsed.walk():
        if part.get_content_type() == "text/html":
            html = part.get_payload(decode=True).decode()
        elif part.get_content_type() == "text/plain":
            text = part.get_payload(decode=True).decode()
        elif part.get_content_type() == "image/png":
            images.append(part.get_payload(decode=True))
    return html, text, images


def test_the_digest_goes_out_in_each_subscribers_language(demo_subscribers):
    now = dt.datetime.combine(company_today(), dt.time(7, 31), tzinfo=dt.UTC)
    assert digests_send_due(now=now).sent == 2
    by_rcpt = {message.to[0]: message for message in mail.outbox}
    zh, en = by_rcpt["li@example.com"], by_rcpt["ann@example.com"]

    assert zh.subject.startswith("销售与市场共享看板 · ") and "月" in zh.subject and "日" in zh.subject
    assert en.subject.startswith("Shared sales & marketing · ") and not CJK.search(en.subject)

    html, text, images = _parts(zh)
    assert 'lang="zh-hans"' in html
    for phrase in ("需要关注", "共同认可的指标", "线索交接", "本月至今", "摘要设置", "退订"):
        assert phrase in html and phrase in text, phrase
    names = data_names()
    assert english_words(visible_text(html), allowed=names) == []
    assert english_words(re.sub(r"https?://\S+", " ", text), allowed=names) == []
    assert len(images) >= 3

    html, text, english_images = _parts(en)
    # Each language draws its own charts (a run shares image parts between subscribers).
    assert not set(images) & set(english_images)
    assert 'lang="en"' in html and "Needs attention" in html and "NEEDS ATTENTION" in text
    assert not CJK.search(html) and not CJK.search(text)
