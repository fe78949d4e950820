"""The resource API answers row errors in the request's language (Accept-Language, or the token
user's own setting); row numbers, field names and the sent values stay as they are."""

from __future__ import annotations

import pytest

from smarketing.accounts.services import set_language
from smarketing.funnel import models as m
from smarketing.funnel.schemas import RESOURCES

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttle")]

CHANNELS = ", ".join(RESOURCES["campaigns"].col("channel").choices)
ROWS = [
    {"external_id": "ok", "name": "Fine", "channel": "email"},
    {"external_id": "bad", "name": "", "channel": "fax"},
    {"external_id": "ok", "name": "Again", "channel": "email"},
]




def test_bad_rows_are_answered_in_chinese_for_accept_language_zh_hans(manager_api):
    response = manager_api.post("/api/v1/campaigns/bulk/", ROWS, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    assert response["Content-Language"] == "zh-hans"
    assert response.json() == {"errors": [
        {"row": 2, "field": "name", "message": "为必填项"},
        {"row": 2, "field": "channel", "message": f"'fax' 不是以下值之一：{CHANNELS}"},
        {"row": 3, "field": "external_id", "message": "键重复：与第 1 行是同一条记录"},
    ]}
    assert m.Campaign.objects.count() == 0


def test_the_same_request_in_english_is_answered_in_english(manager_api):
    response = manager_api.post("/api/v1/campaigns/bulk/", ROWS, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json() == {"errors": [
        {"row": 2, "field": "name", "message": "is required"},
        {"row": 2, "field": "channel", "message": f"'fax' is not one of: {CHANNELS}"},
        {"row": 3, "field": "external_id", "message": "duplicate key: the same record as row 1"},
    ]}


def test_references_to_unknown_records_and_a_body_that_is_no_list(manager_api):
    rows = [{"external_id": "d1", "contact_id": "nobody", "amount": "10", "status": "open",
             "created_at": "2026-01-05T09:30:00"}]
    response = manager_api.post("/api/v1/deals/bulk/", rows, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.json() == {"errors": [
        {"row": 1, "field": "contact_id", "message": "未知的 contacts 记录 'nobody'"},
    ]}
    response = manager_api.post("/api/v1/deals/bulk/", {"external_id": "d1"}, format="json",
                                HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.json() == {"errors": [{"message": "请发送由各行组成的 JSON 列表"}]}


def test_a_token_users_own_setting_wins(manager_api, data_manager):
    set_language(data_manager, "zh-hans")
    response = manager_api.post("/api/v1/campaigns/bulk/", ROWS[:2], format="json")
    assert [e["message"] for e in response.json()["errors"]] == ["为必填项", f"'fax' 不是以下值之一：{CHANNELS}"]


def test_a_bad_filter_is_answered_in_chinese(manager_api):
    response = manager_api.get("/api/v1/web_traffic/?date_from=soon", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    assert response.json() == {"errors": [{"message": "date_from：'soon' 不是日期（YYYY-MM-DD）"}]}
