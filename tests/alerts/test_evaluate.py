"""Rules evaluated after recomputes: hand-computed values, one event per change of state."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction

from smarketing.alerts.models import AlertDelivery, AlertEvent, Destination, Rule
from smarketing.alerts.services import destination_save, rule_save, rules_evaluate
from smarketing.funnel.signals import records_changed
from smarketing.kpis.services import facts_rebuild
from tests.kpis.builders import contact

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def inbox(user) -> Destination:
    return destination_save(owner=user, name="me", kind="email", target="me@example.com", secret=None)


def _rule(user, condition, *, metric="leads", window="mtd", dimension="", key="", destinations=()):
    return rule_save(owner=user, name=f"{metric} {condition['type']}", metric=metric, dimension=dimension,
                     key=key, window=window, condition=condition, destinations=destinations)


def _recompute(capture) -> None:
    """What ingest does: the signal, a recompute on commit, the evaluation after it."""
    with capture(execute=True):
        facts_rebuild()


def test_below_fires_once_and_resolves_once_across_recomputes(user, inbox, django_capture_on_commit_callbacks):
    contact("a", "2026-03-02 10:00")
    contact("b", "2026-03-09 10:00")
    rule = _rule(user, {"type": "below", "value": 3}, destinations=[inbox])
    _recompute(django_capture_on_commit_callbacks)  # 2 leads this month < 3: firing
    _recompute(django_capture_on_commit_callbacks)  # still 2: nothing new
    rule.refresh_from_db()
    assert (rule.state, rule.last_value, rule.last_reference) == ("firing", 2.0, 3.0)
    assert list(AlertEvent.objects.values_list("state", "value")) == [("firing", 2.0)]
    contact("c", "2026-03-14 10:00")  # 3 leads: not below 3 any more
    _recompute(django_capture_on_commit_callbacks)
    _recompute(django_capture_on_commit_callbacks)
    states = list(AlertEvent.objects.order_by("pk").values_list("state", "value"))
    assert states == [("firing", 2.0), ("resolved", 3.0)]
    assert AlertDelivery.objects.count() == 2  # one per event and destination
    rule.refresh_from_db()
    assert rule.state == "ok"


def test_above_on_one_channel_counts_only_that_channel(user, django_capture_on_commit_callbacks):
    contact("a", "2026-03-02 10:00", channel="email")
    contact("b", "2026-03-03 10:00", channel="email")
    contact("c", "2026-03-04 10:00", channel="paid_search")
    email = _rule(user, {"type": "above", "value": 1}, dimension="channel", key="email")
    paid = _rule(user, {"type": "above", "value": 1}, dimension="channel", key="paid_search")
    _recompute(django_capture_on_commit_callbacks)
    email.refresh_from_db()
    paid.refresh_from_db()
    assert (email.state, email.last_value) == ("firing", 2.0)
    assert (paid.state, paid.last_value) == ("ok", 1.0)


def test_change_compares_with_the_same_days_of_the_previous_month(user, django_capture_on_commit_callbacks):
    # February 1-15: 4 leads; March 1-15: 1 lead → (1 - 4) / 4 = -75 %. Feb 20 is outside the span.
    for index, when in enumerate(["02-01", "02-05", "02-10", "02-15", "02-20"]):
        contact(f"f{index}", f"2026-{when} 10:00")
    contact("m", "2026-03-03 10:00")
    down = _rule(user, {"type": "change", "percent": 70, "direction": "down"})
    steep = _rule(user, {"type": "change", "percent": 75})  # -75 % is not beyond 75 %
    _recompute(django_capture_on_commit_callbacks)
    down.refresh_from_db()
    steep.refresh_from_db()
    assert (down.state, down.last_value, down.last_reference) == ("firing", 1.0, 4.0)
    assert steep.state == "ok"
    event = AlertEvent.objects.get(rule=down)
    assert event.message == ("Leads, month to date is 1, -75.0 % vs 4 the period before: "
                             "changes by more than −70 %.")


def test_a_rate_without_a_value_keeps_its_state(user, django_capture_on_commit_callbacks):
    rule = _rule(user, {"type": "below", "value": 50}, metric="lead_to_mql_rate")
    _recompute(django_capture_on_commit_callbacks)  # no leads: the rate is undefined
    rule.refresh_from_db()
    assert (rule.state, rule.last_value) == ("ok", None)
    assert not AlertEvent.objects.exists()


def test_ingest_signal_recomputes_then_evaluates(user, django_capture_on_commit_callbacks):
    rule = _rule(user, {"type": "above", "value": 0})
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        contact("a", "2026-03-10 10:00")
        records_changed.send(sender=None, resource="contacts", days=[dt.date(2026, 3, 10)], contact_ids=None)
    rule.refresh_from_db()
    assert (rule.state, rule.last_value) == ("firing", 1.0)


def test_a_recompute_that_cannot_move_the_metric_does_not_evaluate_it(user, django_capture_on_commit_callbacks):
    rule = _rule(user, {"type": "above", "value": 0}, window="last_7")
    contact("a", "2026-03-10 10:00")
    facts_rebuild()
    with django_capture_on_commit_callbacks(execute=True):
        facts_rebuild(family_names=["web_traffic"])  # visits: leads cannot change
        facts_rebuild(days=[dt.date(2026, 1, 2)])  # before last_7 and its previous week
    rule.refresh_from_db()
    assert rule.last_evaluated_at is None
    with django_capture_on_commit_callbacks(execute=True):
        facts_rebuild(days=[dt.date(2026, 3, 3)])  # the previous 7 days (Mar 2-8) move the change
    rule.refresh_from_db()
    assert rule.last_evaluated_at is not None
    assert rule.state == "firing"


def test_editing_what_a_rule_watches_starts_it_over(user, django_capture_on_commit_callbacks):
    contact("a", "2026-03-02 10:00")
    rule = _rule(user, {"type": "above", "value": 0})
    _recompute(django_capture_on_commit_callbacks)
    rule.refresh_from_db()
    assert rule.state == "firing"
    rule = rule_save(owner=user, name=rule.name, metric="leads", dimension="", key="", window="mtd",
                     condition={"type": "above", "value": 5}, destinations=[], rule=rule)
    assert rule.state == "ok"
    _recompute(django_capture_on_commit_callbacks)
    assert AlertEvent.objects.count() == 1  # no "resolved" for a question nobody asks any more


def test_dry_run_changes_nothing(user):
    contact("a", "2026-03-02 10:00")
    facts_rebuild()
    rule = _rule(user, {"type": "above", "value": 0})
    report = rules_evaluate(dry_run=True)
    assert [(v.rule.pk, v.value, v.holds, v.transition) for v in report.verdicts] == [(rule.pk, 1.0, True, "firing")]
    rule.refresh_from_db()
    assert rule.state == "ok" and rule.last_evaluated_at is None
    assert not AlertEvent.objects.exists()


def test_paused_rules_are_not_evaluated(user):
    contact("a", "2026-03-02 10:00")
    facts_rebuild()
    rule = _rule(user, {"type": "above", "value": 0})
    Rule.objects.filter(pk=rule.pk).update(active=False)
    assert rules_evaluate().evaluated == 0


def test_attention_fires_while_the_metric_is_on_the_attention_list_and_resolves_after(
        user, inbox, django_capture_on_commit_callbacks):
    from smarketing.funnel.models import Target

    # Today is Mar 15: the attention list reads Mar 1–14 (14 complete days of 31).
    for index in range(3):
        contact(f"l{index}", f"2026-03-0{index + 2} 10:00")
    # Target 100 leads in March: pace 100 × 14 / 31 = 45.2 → 45; projection 3 × 31 / 14 = 6.6 → 7,
    # under 95 % of 100 with 14 ≥ 7 days elapsed: a `target` item.
    target = Target.objects.create(metric="leads", period="month", period_start=dt.date(2026, 3, 1), value=100)
    rule = _rule(user, {"type": "attention"}, destinations=[inbox])
    _recompute(django_capture_on_commit_callbacks)
    _recompute(django_capture_on_commit_callbacks)  # still on the list: no second event
    rule.refresh_from_db()
    assert (rule.state, rule.last_value, rule.last_reference, rule.last_as_of) == ("firing", 3.0, 45.0,
                                                                                  dt.date(2026, 3, 14))
    [event] = AlertEvent.objects.all()
    assert event.message == ("Leads, month to date needs attention. Leads: 3, behind the pace of 45; "
                             "heading for 7 against a target of 100.")
    # A target of 6 paces at 6 × 14 / 31 = 2.7 → 3: 3 leads are at pace, off the list.
    target.value = 6
    target.save()
    _recompute(django_capture_on_commit_callbacks)
    assert list(AlertEvent.objects.order_by("pk").values_list("state", flat=True)) == ["firing", "resolved"]
    rule.refresh_from_db()
    assert rule.state == "ok" and rule.last_reference is None


def test_a_target_import_judges_the_rules_again_without_waiting_for_a_recompute(
        user, inbox, django_capture_on_commit_callbacks):
    from smarketing.funnel.services import records_upsert

    for index in range(3):
        contact(f"l{index}", f"2026-03-0{index + 2} 10:00")
    rule = _rule(user, {"type": "attention"}, destinations=[inbox])
    _recompute(django_capture_on_commit_callbacks)
    rule.refresh_from_db()
    assert rule.state == "ok" and not AlertEvent.objects.exists()  # no target: nothing to be behind
    # A target has no facts: its import starts no recompute, and the rule is judged on commit.
    with django_capture_on_commit_callbacks(execute=True):
        records_upsert(resource="targets", rows=[{"metric": "leads", "period": "month",
                                                 "period_start": "2026-03-01", "value": "100"}])
    rule.refresh_from_db()
    assert (rule.state, rule.last_value, rule.last_reference) == ("firing", 3.0, 45.0)
    assert AlertEvent.objects.get().message == ("Leads, month to date needs attention. Leads: 3, behind the pace "
                                                "of 45; heading for 7 against a target of 100.")
    # A failed import commits nothing and judges nothing.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        failed = records_upsert(resource="targets", rows=[{"metric": "leads", "period": "month",
                                                          "period_start": "2026-03-01", "value": "6"},
                                                         {"metric": "leads", "period": "fortnight",
                                                          "period_start": "2026-03-01", "value": "6"}])
    assert failed.errors and callbacks == []
    assert AlertEvent.objects.count() == 1


def test_attention_conditions_take_no_other_field():
    from smarketing.alerts.conditions import RuleError, condition_clean

    assert condition_clean({"type": "attention"}) == {"type": "attention"}
    with pytest.raises(RuleError, match=r"condition\.value: is not a field of a 'attention' condition"):
        condition_clean({"type": "attention", "value": 3})
