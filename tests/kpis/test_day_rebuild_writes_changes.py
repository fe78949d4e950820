"""On PostgreSQL a rebuild of days writes only the facts that change: a fact whose value the
records still give is left as it is stored (same row version), a changed one is updated, a
new one inserted, a gone one deleted; the facts and their sums equal a rebuild of everything."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from smarketing.kpis.models import FactMonth
from smarketing.kpis.services import facts_rebuild

from .builders import activity, contact

pytestmark = [pytest.mark.services, pytest.mark.django_db]
D = dt.date.fromisoformat


def stored() -> dict[tuple, tuple[float, str]]:
    """(measure, dimension, day, key, bucket) -> (value, the row version's xmin)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT measure, dimension, day, key, bucket, value, xmin::text FROM kpis_fact")
        return {row[:5]: (row[5], row[6]) for row in cursor.fetchall()}


def month_sums() -> dict[tuple, float]:
    return {row[:-1]: row[-1] for row in FactMonth.objects.values_list(
        "measure", "dimension", "month", "key", "bucket", "value")}


def test_a_day_rebuild_rewrites_only_the_changed_facts_and_equals_a_full_rebuild():
    leads = [contact(f"c{i}", f"2026-03-02 0{i + 1}:00", mql="2026-03-02 10:00") for i in range(3)]
    gone = contact("gone", "2026-03-02 11:00", channel="webinar", mql="2026-03-02 12:00")
    contact("other", "2026-03-03 09:00")
    activity(leads[0], "2026-03-02 13:00")
    facts_rebuild()
    before = stored()

    # Late attempts on two MQLs of March 2 (their SLA cohort day), and one lead of that day removed.
    activity(leads[1], "2026-03-09 10:00")
    activity(leads[0], "2026-03-09 11:00")
    gone.delete()
    facts_rebuild(days=[D("2026-03-02"), D("2026-03-09")])
    after = stored()

    key = ("entered_lead", "", D("2026-03-02"), "", 0)
    assert before[key][0] == 4 and after[key][0] == 3 and after[key][1] != before[key][1]  # changed: updated
    worked = ("sla_worked", "", D("2026-03-02"), "", 0)
    assert before[worked][0] == 1 and after[worked][0] == 2  # the late attempt counts on the MQL's day
    # Only the MQLs worked without a connection are kept by attempt count (the bucket): the
    # second attempt of the first MQL moves it from 1 to 2, the new one takes its place at 1.
    waiting = ("sla_worked_not_connected", "", D("2026-03-02"), "", 1)
    assert before[waiting] == after[waiting]
    assert ("sla_worked_not_connected", "", D("2026-03-02"), "", 2) not in before
    assert after[("sla_worked_not_connected", "", D("2026-03-02"), "", 2)][0] == 1
    assert {grain[4] for grain in after if grain[0] in ("sla_worked", "sla_on_time", "sla_speed_hours_total")} == {0}
    # The facts whose value the records still give stay as stored: the lead of March 3, say.
    untouched = [grain for grain in before if grain in after and before[grain][0] == after[grain][0]]
    assert ("entered_lead", "", D("2026-03-03"), "", 0) in untouched
    assert all(after[grain][1] == before[grain][1] for grain in untouched)
    rewritten = [grain for grain in after if grain not in before or after[grain] != before[grain]]
    assert rewritten and all(grain not in before or before[grain][0] != after[grain][0] for grain in rewritten)
    # The removed lead's channel has no record left on March 2: its facts are deleted.
    webinar = {grain for grain in before if grain[1] == "channel" and grain[3] == "webinar"}
    assert webinar and not webinar & after.keys()

    sums = month_sums()
    facts_rebuild()  # everything again, from nothing
    assert {grain: value for grain, (value, _) in stored().items()} == {g: v for g, (v, _) in after.items()}
    assert month_sums() == sums
