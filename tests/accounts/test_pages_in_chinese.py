"""Pages rendered in Chinese on demo data carry no English beyond names from the data, metric
keys and the abbreviations Chinese SaaS keeps (tests/accounts/english.py)."""

from __future__ import annotations

from zoneinfo import available_timezones

import pytest
from django.core.cache import cache
from django.core.management import call_command

from smarketing.funnel.models import Channel
from smarketing.funnel.schemas import RESOURCES
from tests.accounts.english import WORD, data_names, english_words, visible_text

pytestmark = pytest.mark.django_db

PAGES = ("/dashboards/shared/?window=ytd", "/dashboards/shared/?window=mtd", "/dashboards/executive/?window=ytd",
         "/dashboards/sales_manager/?window=ytd", "/dashboards/campaigns/?window=ytd", "/sla/",
         "/digests/settings/", "/alerts/", "/dashboards/notes/", "/data/upload/", "/data/history/", "/boards/new/")


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        cache.clear()
        call_command("seed_demo", contacts=400, no_progress=True)
        call_command("recompute_kpis", full=True)
        yield
        call_command("flush", interactive=False)


@pytest.mark.parametrize("url", PAGES)
def test_a_page_in_chinese_has_no_english_left(demo, manager_client, url):
    response = manager_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    text = visible_text(response.content.decode())
    assert "线索" in text or "数据" in text
    # Time zone names (the digest's time zone select) are IANA identifiers, and channel codes
    # are what the alert form's key field takes.
    allowed = data_names() | {word for name in available_timezones() for word in WORD.findall(name)}
    allowed |= {*Channel.values, "ID", "URL"}
    # The upload page lists the contract's resources and column names: CSV headers stay English.
    allowed |= {word for resource in RESOURCES.values() for name in (resource.name, *resource.columns)
                for word in WORD.findall(name)} | {"resource", "csv"}
    left = english_words(text, allowed=allowed)
    assert left == [], sorted(set(left))

