"""metric_records: the records behind a number, for drill-down pages and CSV export."""

from __future__ import annotations

import pytest

from smarketing.kpis.selectors import metric_records
from smarketing.kpis.windows import window_for

from .test_metrics import march  # noqa: F401 - the shared hand-built month

pytestmark = pytest.mark.django_db
MARCH = window_for("mtd", as_of="2026-03-15")


def ids(records) -> list[str]:
    return [row["external_id"] for row in records.rows]


def test_leads_behind_the_number_ordered_newest_first(march):  # noqa: F811
    records = metric_records(metric="leads", window=MARCH)
    assert ids(records) == ["k6", "k3", "k2", "k1"]
    assert records.count() == 4
    assert ("email", "Email") in records.columns


def test_filters_and_breakdown_key_narrow_the_records(march):  # noqa: F811
    assert ids(metric_records(metric="leads", window=MARCH, filters={"channel": ["email"]})) == ["k2", "k1"]
    assert ids(metric_records(metric="leads", window=MARCH, key="(none)", dimension="campaign")) == ["k6"]
    assert ids(metric_records(metric="revenue", window=MARCH, key="bob@t.com", dimension="owner")) == ["D5"]


def test_open_pipeline_records_are_the_deals_open_at_the_end(march):  # noqa: F811
    assert sorted(ids(metric_records(metric="open_pipeline", window=MARCH))) == ["D3", "D8"]


def test_sla_records_show_attempts_since_delivery(march):  # noqa: F811
    records = metric_records(metric="leads_worked_rate", window=MARCH)
    assert {row["external_id"]: row["attempts"] for row in records.rows} == {"k1": 1, "k2": 5}


def test_content_filter_lists_each_contact_once(march):  # noqa: F811
    records = metric_records(metric="content_assisted_customers", window=MARCH, filters={"content": ["P1"]})
    assert ids(records) == ["k1"]


def test_every_metric_has_records(march):  # noqa: F811
    from smarketing.kpis.registry import METRICS

    for key in METRICS:
        records = metric_records(metric=key, window=MARCH)
        assert records.columns, key
        records.count()
