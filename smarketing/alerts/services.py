"""Alert actions: saving destinations and rules, evaluating rules after a recompute, and
working off the outbox of deliveries.

Exactly once per change of state: a transition is a conditional UPDATE of the rule's state
(`WHERE state = <the state read>`), and the event and its deliveries are written in the same
transaction, so of two evaluations racing on one rule only one can write them. Evaluations
also take one lock (a PostgreSQL advisory lock; SQLite serializes writers by itself) and
read the facts inside it, so each judges the newest committed facts, never an older read.

Deliveries follow the digest's claim protocol (see digests.services): `pending` → `claimed`
(a fresh `claim_token`) → `sending` → `sent`; a receiver's error → `retrying` with exponential
backoff, `failed` after MAX_ATTEMPTS; a claim or hand-off abandoned by a dead worker is taken
over after STALE_CLAIM. Unlike a digest, an alert left in `sending` is sent again rather than
dropped: a lost alert is worse than a repeat, and every hand-off carries the delivery's id
(`X-Smarketing-Delivery`) so a receiver can drop the repeat.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from smarketing.accounts.services import language_for
from smarketing.funnel.models import Team
from smarketing.funnel.selectors import is_data_manager
from smarketing.kpis.attention import Watch, attention_items
from smarketing.kpis.facts import families
from smarketing.kpis.formatting import format_value
from smarketing.kpis.registry import DIMENSION_LABELS, metric_get
from smarketing.kpis.selectors import kpi_values
from smarketing.kpis.windows import WINDOW_LABELS, Window, company_today, window_for

from . import senders
from .conditions import (
    RuleError,
    change_percent,
    condition_clean,
    condition_holds,
    condition_reference,
    condition_text,
    target_clean,
)
from .models import (
    AlertDelivery,
    AlertEvent,
    DeliveryAttempt,
    DeliveryStatus,
    Destination,
    DestinationKind,
    EventState,
    Rule,
    RuleState,
)
from .vault import seal, target_hint

logger = logging.getLogger(__name__)

ALERTS_LOCK_ID = 741_852_964  # pg_advisory_xact_lock key of rule evaluation
STALE_CLAIM = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 6
RETRY_BASE = dt.timedelta(minutes=1)
RETRY_CAP = dt.timedelta(minutes=30)


# --- destinations ------------------------------------------------------------------------
def destination_target_clean(*, kind: str, target: str) -> str:
    if kind not in DestinationKind.values:
        raise RuleError("kind", f"{kind!r} is not one of {', '.join(DestinationKind.values)}")
    target = (target or "").strip()
    if not target:
        raise RuleError("target", "an address or URL is needed")
    if kind == DestinationKind.EMAIL:
        try:
            validate_email(target)
        except ValidationError:
            raise RuleError("target", "is not an e-mail address") from None
        return target
    parts = urlsplit(target)
    # https only: the URL is a bearer secret. Plain http is allowed for a loopback receiver.
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise RuleError("target", "must be an https:// URL")
    if not parts.hostname:
        raise RuleError("target", "is not a URL with a host")
    return target


def destination_save(*, owner, name: str, kind: str, target: str | None, secret: str | None,
                     destination: Destination | None = None) -> Destination:
    """Create or update a destination; a None target or secret keeps the stored one."""
    if not (name or "").strip():
        raise RuleError("name", "a name is needed")
    kind = kind if destination is None or kind else destination.kind
    if destination is not None and kind != destination.kind and target is None:
        raise RuleError("target", "changing the kind needs the new target")
    obj = destination or Destination(owner=owner)
    obj.name, obj.kind = name.strip(), kind
    if target is not None or destination is None:
        clean = destination_target_clean(kind=kind, target=target or "")
        obj.target_sealed, obj.target_hint = seal(clean), target_hint(kind=kind, target=clean)
    if kind == DestinationKind.WEBHOOK:
        if secret is not None:
            if len(secret) < 16:
                raise RuleError("secret", "use at least 16 characters")
            obj.secret_sealed = seal(secret)
        elif not obj.secret_sealed:
            raise RuleError("secret", "a signed webhook needs a secret (at least 16 characters)")
    elif secret:
        raise RuleError("secret", f"only a webhook has a secret, not {kind!r}")
    else:
        obj.secret_sealed = ""
    obj.save()
    return obj


# --- rules -------------------------------------------------------------------------------
def rule_team_clean(*, team: str, actor, rule: Rule | None) -> str:
    """A rule's team: one of the teams or "" (the owner's own rule). Only a data manager gives a
    rule to a team or takes it away; a member editing the team's rule leaves the team as it is."""
    team = team or ""
    if team not in ("", *Team.values):
        raise RuleError("team", _("unknown team %(team)r: use one of %(teams)s")
                        % {"team": team, "teams": ", ".join(Team.values)})
    current = rule.team if rule is not None else ""
    if team != current and actor is not None and not is_data_manager(actor):
        raise RuleError("team", _("only a data manager can give a rule to a team or take it from one"))
    return team


def rule_set_active(*, rule: Rule, active: bool) -> None:
    """Pause or resume a rule; its state and history stay (a paused rule is not evaluated)."""
    rule.active = active
    rule.save(update_fields=["active", "updated_at"])


def rule_save(*, owner, name: str, metric: str, dimension: str, key: str, window: str, condition: object,
              destinations: Iterable[Destination], active: bool = True, rule: Rule | None = None,
              team: str = "", actor=None) -> Rule:
    """Create or update a rule. A change to what it watches starts it over as "ok", silently:
    the old state described another question. `actor` (the person saving; None: the system)
    decides whether the rule's `team` may change."""
    dimension, key = dimension or "", key or ""
    target_clean(metric=metric, dimension=dimension, key=key, window=window)
    clean = condition_clean(condition)
    if not (name or "").strip():
        raise RuleError("name", "a name is needed")
    team = rule_team_clean(team=team, actor=actor, rule=rule)
    obj = rule or Rule(owner=owner)
    obj.team = team
    watched = (metric, dimension, key, window, clean)
    if rule is None or watched != (rule.metric, rule.dimension, rule.key, rule.window, rule.condition):
        obj.state, obj.state_since, obj.last_value, obj.last_reference = RuleState.OK, None, None, None
    obj.name, obj.metric, obj.dimension, obj.key, obj.window, obj.condition = name.strip(), *watched
    obj.active = active
    with transaction.atomic():
        obj.save()
        obj.destinations.set(list(destinations))
    return obj


# --- evaluation --------------------------------------------------------------------------
def _measure_families() -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for family in families().values():
        for measure in family.measures:
            out[measure].add(family.name)
    return out


def rule_touched(rule: Rule, window: Window, *, families_changed: set[str] | None,
                 days: list[dt.date] | None, measure_families: dict[str, set[str]]) -> bool:
    """Whether a recompute of these families and days can have moved the rule's numbers."""
    metric = metric_get(rule.metric)
    if families_changed is not None and not any(
        measure_families.get(measure, set()) & families_changed for measure in metric.measures
    ):
        return False
    if days is None:
        return True
    previous = window.previous()
    last = window.end
    if metric.cum or metric.before:
        first = None  # stocks and "before" sums read every day up to the end
    else:
        first = min(window.start, previous.start)
        if metric.year:
            first = min(first, window.end - dt.timedelta(days=364), previous.end - dt.timedelta(days=364))
    return any(day <= last and (first is None or day >= first) for day in days)


@dataclass
class Verdict:
    rule: Rule
    value: float | None
    previous: float | None
    holds: bool | None
    transition: str | None  # "firing" | "resolved" | None
    attention: dict | None = None  # the attention item of an `attention` rule's slice


@dataclass
class EvaluationReport:
    as_of: dt.date
    evaluated: int = 0
    fired: int = 0
    resolved: int = 0
    unknown: int = 0
    seconds: float = 0.0
    verdicts: list[Verdict] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.evaluated} rules evaluated as of {self.as_of}: {self.fired} fired, "
                f"{self.resolved} resolved, {self.unknown} without a value")


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ALERTS_LOCK_ID])


def _by_slice(rules: list[Rule]) -> dict[tuple[str, str, str], list[Rule]]:
    """The rules grouped by what they read (window, dimension, key): one query per group."""
    groups: dict[tuple[str, str, str], list[Rule]] = defaultdict(list)
    for rule in rules:
        groups[(rule.window, rule.dimension, rule.key)].append(rule)
    return groups


def _values(rules: list[Rule], windows: dict[str, Window]) -> dict[int, tuple[float | None, float | None]]:
    """(value, previous value) per rule: one KPI query per (window, slice), all metrics at once."""
    out: dict[int, tuple[float | None, float | None]] = {}
    for (window_name, dimension, key), members in _by_slice(rules).items():
        filters = {dimension: [key]} if dimension else None
        metrics = list(dict.fromkeys(rule.metric for rule in members))
        results = {row["metric"]: row for row in kpi_values(metrics=metrics, window=windows[window_name],
                                                             filters=filters)}
        for rule in members:
            row = results[rule.metric]
            out[rule.pk] = (row["value"], row["previous"]["value"])
    return out


def _attention(rules: list[Rule], windows: dict[str, Window]) -> dict[int, dict | None]:
    """The attention item of each `attention` rule's metric and slice (None: it has none), from
    the same list the dashboards' banner and the digest show, one list per (window, slice)."""
    out: dict[int, dict | None] = {}
    watched = [rule for rule in rules if rule.condition["type"] == "attention"]
    for (window_name, dimension, key), members in _by_slice(watched).items():
        filters = ((dimension, (key,)),) if dimension else ()
        watches = [Watch(metric=metric, filters=filters) for metric in dict.fromkeys(r.metric for r in members)]
        items = attention_items(watches=watches, window=windows[window_name])
        found = {item["metric"]: item for item in items
                 if (item["dimension"], item["key"]) == ((dimension, key) if dimension else (None, None))}
        for rule in members:
            out[rule.pk] = found.get(rule.metric)
    return out


def rules_after_live_records() -> EvaluationReport:
    """Targets, campaigns or reps were written, and no recompute follows (they have no facts):
    every active rule judged again, since an `attention` item or `leads_needed` can turn on a
    target. Each change of state is still recorded once."""
    return rules_evaluate()


def rules_evaluate(*, families_changed: Iterable[str] | None = None, days: Iterable[dt.date] | None = None,
                   now: dt.datetime | None = None, as_of: dt.date | None = None, dry_run: bool = False,
                   rule_ids: Iterable[int] | None = None) -> EvaluationReport:
    """Evaluate the active rules a recompute of `families_changed` × `days` touched (None = all)
    and record each change of state once, with its outbox rows."""
    clock = time.monotonic()
    now = now or timezone.now()
    as_of = as_of or company_today()
    report = EvaluationReport(as_of=as_of)
    family_set = set(families_changed) if families_changed is not None else None
    day_list = sorted(set(days)) if days is not None else None
    with transaction.atomic():
        if not dry_run:
            _lock()
        query = Rule.objects.filter(active=True).order_by("pk")
        if rule_ids is not None:
            query = query.filter(pk__in=list(rule_ids))
        windows = {name: window_for(name, as_of=as_of) for name in {rule.window for rule in query}}
        # The attention list reads complete days (up to yesterday), like the banner and the digest.
        attention_windows = {name: window_for(name, as_of=as_of - dt.timedelta(days=1))
                             for name in {rule.window for rule in query}}
        measure_families = _measure_families()
        rules = [rule for rule in query if rule_touched(rule, windows[rule.window], families_changed=family_set,
                                                        days=day_list, measure_families=measure_families)]
        plain = [rule for rule in rules if rule.condition["type"] != "attention"]
        watched = [rule for rule in rules if rule.condition["type"] == "attention"]
        values = {**_values(plain, windows), **_values(watched, attention_windows)}
        attention = _attention(watched, attention_windows)
        fresh: list[Rule] = []
        for rule in rules:
            value, previous = values[rule.pk]
            item = attention.get(rule.pk)
            holds = condition_holds(rule.condition, value=value, previous=previous, attention=item)
            transition = None
            if holds is True and rule.state == RuleState.OK:
                transition = EventState.FIRING
            elif holds is False and rule.state == RuleState.FIRING:
                transition = EventState.RESOLVED
            verdict = Verdict(rule, value, previous, holds, transition, item)
            window = attention_windows[rule.window] if rule.condition["type"] == "attention" else windows[rule.window]
            report.verdicts.append(verdict)
            report.evaluated += 1
            report.unknown += holds is None
            if dry_run:
                continue
            if transition is not None and _transition(verdict, window=window, now=now):
                report.fired += transition == EventState.FIRING
                report.resolved += transition == EventState.RESOLVED
            else:
                rule.last_value = value
                rule.last_reference = condition_reference(rule.condition, previous=previous, attention=item)
                rule.last_as_of, rule.last_evaluated_at = window.as_of, now
                fresh.append(rule)
        Rule.objects.bulk_update(fresh, ["last_value", "last_reference", "last_as_of", "last_evaluated_at"])
        if report.fired or report.resolved:
            from .tasks import alerts_deliver

            transaction.on_commit(alerts_deliver.delay)
    report.seconds = time.monotonic() - clock
    if report.evaluated and not dry_run:
        logger.info("alerts: %s", report.summary())
    return report


def _transition(verdict: Verdict, *, window: Window, now: dt.datetime) -> bool:
    """Move the rule to its new state and write the event and the outbox, or nothing if another
    evaluation moved it first."""
    rule = verdict.rule
    new_state = RuleState.FIRING if verdict.transition == EventState.FIRING else RuleState.OK
    reference = condition_reference(rule.condition, previous=verdict.previous, attention=verdict.attention)
    with transaction.atomic():
        won = Rule.objects.filter(pk=rule.pk, state=rule.state, active=True).update(
            state=new_state, state_since=now, last_value=verdict.value, last_reference=reference,
            last_as_of=window.as_of, last_evaluated_at=now)
        if not won:
            return False
        event = AlertEvent.objects.create(rule=rule, state=verdict.transition, value=verdict.value,
                                          reference=reference, as_of=window.as_of,
                                          message=event_message(rule, verdict.transition, value=verdict.value,
                                                                previous=verdict.previous, window=window,
                                                                attention=verdict.attention))
        AlertDelivery.objects.bulk_create([AlertDelivery(event=event, destination=destination)
                                           for destination in rule.destinations.all()])
    rule.state = new_state
    return True


# --- wording -----------------------------------------------------------------------------


def _subject(rule: Rule, window: Window) -> str:
    metric = metric_get(rule.metric)
    where = f" ({DIMENSION_LABELS.get(rule.dimension, rule.dimension)} {rule.key})" if rule.dimension else ""
    return gettext("{metric}{where}, {window}").format(metric=metric.label, where=where, window=window.label.lower())


def event_message(rule: Rule, state: str, *, value: float | None, previous: float | None, window: Window,
                  attention: dict | None = None) -> str:
    # Stored once and sent as it is: in the language of the rule's owner.
    with translation.override(language_for(rule.owner)):
        return _event_message(rule, state, value=value, previous=previous, window=window, attention=attention)


def _event_message(rule: Rule, state: str, *, value: float | None, previous: float | None, window: Window,
                   attention: dict | None = None) -> str:
    unit = metric_get(rule.metric).unit
    subject = _subject(rule, window)
    if rule.condition["type"] == "attention":
        if state == EventState.FIRING and attention is not None:
            return gettext("{subject} needs attention. {message}.").format(subject=subject,
                                                                           message=attention["message"])
        return gettext("{subject} is {value}: no longer needs attention.").format(
            subject=subject, value=format_value(value, unit))
    shown = format_value(value, unit)
    condition = rule.condition
    if condition["type"] == "change":
        change = change_percent(value, previous)
        detail = (gettext("{value}, {change} % vs {previous} the period before").format(
            value=shown, change=f"{change:+.1f}", previous=format_value(previous, unit))
            if change is not None else shown)
    else:
        detail = shown
    if state == EventState.FIRING:
        return gettext("{subject} is {detail}: {condition}.").format(subject=subject, detail=detail,
                                                                     condition=condition_text(condition))
    return gettext("{subject} is {detail}: no longer {condition}.").format(subject=subject, detail=detail,
                                                                           condition=condition_text(condition))


def rule_url(rule: Rule) -> str:
    return f"{settings.SITE_URL}{reverse('alerts:rules')}#rule-{rule.pk}"


def event_payload(event: AlertEvent) -> dict:
    """The generic webhook's fields plus the texts Slack, Teams and e-mail show."""
    rule = event.rule
    metric = metric_get(rule.metric)
    window = window_for(rule.window, as_of=event.as_of)
    change = change_percent(event.value, event.reference) if rule.condition["type"] == "change" else None
    return {
        "rule": rule.name, "state": event.state, "metric": rule.metric,
        "dimension": rule.dimension or None, "key": rule.key or None, "window": rule.window,
        "as_of": event.as_of.isoformat(), "value": event.value, "reference": event.reference,
        "message": event.message, "url": rule_url(rule),
        "value_text": format_value(event.value, metric.unit),
        "reference_text": format_value(event.reference, metric.unit),
        "change_text": f"{change:+.1f} %" if change is not None else "",
        "window_label": window.label,
    }


def test_payload(destination: Destination) -> dict:
    today = company_today()
    return {
        "rule": gettext("Test message"), "state": "firing", "metric": "leads", "dimension": None, "key": None,
        "window": "mtd", "as_of": today.isoformat(), "value": 0, "reference": 0,
        "message": gettext("A test message from smarketing to “{name}”: this destination works.").format(
            name=destination.name),
        "url": f"{settings.SITE_URL}{reverse('alerts:rules')}",
        "value_text": "0", "reference_text": "0", "change_text": "", "window_label": str(WINDOW_LABELS["mtd"]),
    }


# --- the outbox --------------------------------------------------------------------------
def retry_delay(*, attempts: int) -> dt.timedelta:
    return min(RETRY_CAP, RETRY_BASE * (2 ** max(0, attempts - 1)))


def deliveries_claim(*, now: dt.datetime, limit: int = 200) -> list[AlertDelivery]:
    """Take the deliveries that are due: new ones, retries whose time came, and claims or
    hand-offs a dead worker left behind."""
    stale = now - STALE_CLAIM
    candidates = list(
        AlertDelivery.objects.filter(
            Q(status=DeliveryStatus.PENDING)
            | Q(status=DeliveryStatus.RETRYING, next_attempt_at__lte=now)
            | Q(status__in=[DeliveryStatus.CLAIMED, DeliveryStatus.SENDING], claimed_at__lt=stale)
        ).order_by("pk")[:limit]
    )
    taken = []
    for delivery in candidates:
        token = uuid.uuid4()
        won = AlertDelivery.objects.filter(pk=delivery.pk, status=delivery.status,
                                           claim_token=delivery.claim_token).update(
            status=DeliveryStatus.CLAIMED, claim_token=token, claimed_at=now)
        if won:
            delivery.status, delivery.claim_token, delivery.claimed_at = DeliveryStatus.CLAIMED, token, now
            taken.append(delivery)
    return taken


def delivery_send(delivery: AlertDelivery, *, now: dt.datetime) -> str:
    """Hand one claimed delivery over; returns its new status ("lost" if another run took it)."""
    moved = AlertDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.CLAIMED,
                                         claim_token=delivery.claim_token).update(
        status=DeliveryStatus.SENDING, claimed_at=now)
    if not moved:
        return "lost"
    if delivery.event_id is not None:
        payload = event_payload(AlertEvent.objects.select_related("rule").get(pk=delivery.event_id))
    else:
        payload = AlertDelivery.objects.values_list("payload", flat=True).get(pk=delivery.pk)
    destination = Destination.objects.get(pk=delivery.destination_id)
    outcome = senders.deliver(destination=destination, payload=payload,
                              delivery_id=f"{delivery.pk}-{delivery.event_id or 'message'}")
    attempts = delivery.attempts + 1
    DeliveryAttempt.objects.create(destination=destination, delivery=delivery, ok=outcome.ok,
                                   status_code=outcome.status_code, error=outcome.error)
    if outcome.ok:
        fields = {"status": DeliveryStatus.SENT, "sent_at": timezone.now(), "last_error": ""}
    else:
        status = DeliveryStatus.FAILED if attempts >= MAX_ATTEMPTS else DeliveryStatus.RETRYING
        fields = {"status": status, "last_error": outcome.error,
                  "next_attempt_at": now + retry_delay(attempts=attempts) if status == DeliveryStatus.RETRYING
                  else None}
        logger.warning("alert delivery %s to destination %s (%s) failed, attempt %s: %s",
                       delivery.pk, destination.pk, destination.kind, attempts, outcome.error)
    AlertDelivery.objects.filter(pk=delivery.pk, claim_token=delivery.claim_token).update(
        attempts=attempts, last_status_code=outcome.status_code, **fields)
    return fields["status"]


@dataclass
class DeliverReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    lost: int = 0


def alerts_deliver_due(*, now: dt.datetime | None = None) -> DeliverReport:
    """Send every delivery that is due; safe to run twice or concurrently."""
    now = now or timezone.now()
    report = DeliverReport()
    work = deliveries_claim(now=now)
    report.claimed = len(work)
    for delivery in work:
        outcome = delivery_send(delivery, now=now)
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def message_enqueue(*, destination: Destination, payload: dict, dedupe_key: str) -> bool:
    """Hand a chat message (see senders.CHAT_KINDS) to the outbox once per `dedupe_key`; it is sent
    after the caller's transaction commits, with the alerts' retries. False: it was handed over before."""
    if destination.kind not in (DestinationKind.SLACK, DestinationKind.TEAMS):
        raise RuleError("destination", f"a {destination.get_kind_display()} destination takes alerts only")
    _row, created = AlertDelivery.objects.get_or_create(
        dedupe_key=dedupe_key, defaults={"destination": destination, "payload": payload})
    if created:
        from .tasks import alerts_deliver

        transaction.on_commit(alerts_deliver.delay)
    return created


def destination_test(destination: Destination) -> senders.Outcome:
    """Send a test message now and log it (not through the outbox: the person is waiting)."""
    outcome = senders.deliver(destination=destination, payload=test_payload(destination),
                              delivery_id=f"test-{uuid.uuid4()}")
    DeliveryAttempt.objects.create(destination=destination, test=True, ok=outcome.ok,
                                   status_code=outcome.status_code, error=outcome.error)
    return outcome
