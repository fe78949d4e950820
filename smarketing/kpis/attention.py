"""The one "needs attention" list (kpi-catalogue.md, Reading the numbers, rule 6 and precise
reading 7): for what a page shows, the items worth a person's time and nothing else.

The dashboard banner, the digest and `GET /api/v1/attention/` all call `attention_report`;
the judging itself is in the KPI results (`target`, `change`), so the list only chooses.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.utils.translation import gettext as _

from smarketing.funnel import models as funnel

from . import judgement
from .formatting import format_value, format_values
from .registry import NONE_KEY, metric_get
from .selectors import key_labels, kpi_values
from .windows import WINDOW_NAMES, Window, WindowError, company_today, window_for

KINDS = ("sla", "target", "change", "funnel")
# Marketing's side of the SLA (leads delivered to each rep) and sales' side (what reps do
# with the leads they were given).
SLA_DELIVERY = "leads_delivered"
SLA_SALES = ("leads_worked_rate", "sla_attempt_compliance", "leads_worked_on_time_rate")
# Funnel steps and the same-age conversion each is judged by (sqls → opportunities has none).
FUNNEL_STEPS = (("visits", "leads", "visit_to_lead_rate"), ("leads", "mqls", "lead_to_mql_rate"),
                ("mqls", "sqls", "mql_to_sql_rate"), ("opportunities", "customers", "opportunity_to_customer_rate"))


@dataclass(frozen=True)
class Watch:
    """One thing a page shows: a metric, team-wide or filtered to one dimension's values, or
    broken down by a dimension (then the team value and every row are watched)."""

    metric: str
    dimension: str | None = None
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def filter_dict(self) -> dict[str, list[str]] | None:
        return {name: list(values) for name, values in self.filters} or None


def attention_window(name: str = "mtd", as_of: str | dt.date | None = None, *,
                     start: str | dt.date | None = None, end: str | dt.date | None = None) -> Window:
    """The window of the list: `as_of` defaults to yesterday (complete days only)."""
    if name not in WINDOW_NAMES:
        raise WindowError(f"unknown window {name!r}: use one of {', '.join(WINDOW_NAMES)}")
    if as_of is None or as_of == "":
        as_of = company_today() - dt.timedelta(days=1)
    return window_for(name, as_of=as_of, start=start, end=end)


def sales_owners() -> list[str]:
    """Every member of team `sales`: a rep without records is still watched (0 delivered)."""
    return list(funnel.TeamMember.objects.filter(team="sales").order_by("email").values_list("email", flat=True))


def _text(value: float | int | None, unit: str) -> str:
    return "no value" if value is None else format_value(value, unit)


def _texts(values: list[float | int | None], unit: str) -> list[str]:
    """Several numbers of one sentence on one scale, as the tiles write them."""
    return ["no value" if value is None else text for value, text in zip(values, format_values(values, unit),
                                                                          strict=True)]


@dataclass
class _Slice:
    metric: str
    dimension: str | None
    key: str | None
    label: str
    result: dict  # the KPI result or breakdown row
    order: tuple

    @property
    def identity(self) -> tuple:
        return (self.metric, self.dimension, self.key)


def _slices(watches: list[Watch], window: Window, today: dt.date) -> list[_Slice]:
    """Every (metric, slice) the watches show, judged, in the list's order."""
    order = {metric: index for index, metric in enumerate(dict.fromkeys(w.metric for w in watches))}
    groups: dict[tuple, list[str]] = defaultdict(list)
    for watch in watches:
        group = groups[(watch.dimension, watch.filters)]
        if watch.metric not in group:
            group.append(watch.metric)
    owners = sales_owners()
    found: dict[tuple, _Slice] = {}
    for (dimension, filters), metrics in groups.items():
        filter_dict = {name: list(values) for name, values in filters} or None
        include = owners if dimension == "owner" else None
        results = kpi_values(metrics=metrics, window=window, dimension=dimension, filters=filter_dict,
                             today=today, include_keys=include)
        for result in results:
            metric = result["metric"]
            if filter_dict and result.get("filtered"):
                (name, values), = filter_dict.items()
                ident = (metric, name, ",".join(values))
                label = ", ".join(key_labels(dimension=name, keys=values)[v] for v in values)
            else:
                ident, label = (metric, None, None), _("team")
            found.setdefault(ident, _Slice(*ident, label, result, (order[metric], 0, "")))
            for row in result.get("breakdown") or []:
                if dimension == "owner" and row["key"] == NONE_KEY:
                    continue
                ident = (metric, dimension, row["key"])
                found.setdefault(ident, _Slice(*ident, row.get("label") or row["key"], row,
                                               (order[metric], 1, row["key"])))
    return sorted(found.values(), key=lambda s: s.order)


def _judged_value(result: dict) -> float | None:
    """A cohort rate is judged on its mature part; anything else on its value."""
    mature = result.get("mature")
    return mature["value"] if mature and mature.get("denominator") else result.get("value")


def _mature_note(item: _Slice) -> str:
    """Says which cohort a rate was judged on when it is the mature part only."""
    mature = item.result.get("mature")
    if not mature or not mature.get("denominator") or mature["denominator"] == item.result.get("denominator"):
        return ""
    days = judgement.MATURITY_DAYS[item.metric]
    return _(" (on the {count} of the cohort at least {days} days old)").format(
        count=f"{mature['denominator']:,.0f}", days=days)


def _who(item: _Slice) -> str:
    return _("Team") if item.dimension is None else item.label


def _sla_item(item: _Slice) -> dict | None:
    metric = metric_get(item.metric)
    target = item.result.get("target") or {}
    status = target.get("status")
    if item.dimension not in (None, "owner"):
        return None
    if item.metric == SLA_DELIVERY and status in ("behind", "missed"):
        reference = target["pace"] if status == "behind" else target["value"]
        whom = _("the team") if item.dimension is None else item.label
        message = (_("Marketing's side: {value} leads delivered to {whom}, short of the SLA pace of {reference} "
                     "(SLA {target} for the period)") if status == "behind" else
                   _("Marketing's side: {value} leads delivered to {whom}, short of the SLA of {reference} "
                     "(SLA {target} for the period)"))
        return _item("sla", item, item.result.get("value"), reference, message.format(
            value=_text(item.result.get("value"), "count"), whom=whom, reference=_text(reference, "count"),
            target=_text(target["value"], "count")))
    if item.metric in SLA_SALES and status == "below_target":
        value = _judged_value(item.result)
        return _item("sla", item, value, target["value"],
                     _("Sales' side: {metric} of {who} {value}{note}, below the SLA of {target}").format(
                         metric=metric.label, who=_who(item), value=_text(value, metric.unit),
                         note=_mature_note(item), target=_text(target["value"], metric.unit)))
    return None


def _target_item(item: _Slice) -> dict | None:
    metric = metric_get(item.metric)
    target = item.result.get("target") or {}
    status = target.get("status")
    value = _judged_value(item.result)
    where = "" if item.dimension is None else _(" ({slice})").format(slice=item.label)
    if status == "behind" and judgement.behind_enough(target=target, direction=metric.direction):
        now, pace, projection, goal = _texts([value, target["pace"], target["projection"], target["value"]],
                                             metric.unit)
        return _item("target", item, value, target["pace"],
                     _("{metric}{where}: {value}, behind the pace of {pace}; heading for {projection} "
                       "against a target of {target}").format(metric=metric.label, where=where, value=now, pace=pace,
                                                              projection=projection, target=goal))
    if status in ("missed", "below_target"):
        message = (_("{metric}{where}: {value}{note}, missed the target of {target}") if status == "missed"
                   else _("{metric}{where}: {value}{note}, below the target of {target}"))
        return _item("target", item, value, target["value"], message.format(
            metric=metric.label, where=where, value=_text(value, metric.unit), note=_mature_note(item),
            target=_text(target["value"], metric.unit)))
    return None


def _change_item(item: _Slice, kind: str = "change") -> dict | None:
    metric = metric_get(item.metric)
    change = item.result.get("change") or {}
    if not change.get("significant") or not judgement.bad_direction(
            change_direction=change.get("direction"), metric_direction=metric.direction):
        return None
    previous = item.result["previous"]
    where = "" if item.dimension is None else _(" ({slice})").format(slice=item.label)
    relative = change.get("relative")
    size = f" ({relative * 100:+.1f} %)" if relative is not None else ""
    age = _(" at the same age") if previous.get("same_age") else ""
    message = (_("{metric}{where}: {value}, down from {previous}{age}{size} ({start} – {end})")
               if change["direction"] == "down" else
               _("{metric}{where}: {value}, up from {previous}{age}{size} ({start} – {end})"))
    return _item(kind, item, item.result.get("value"), previous.get("value"), message.format(
        metric=metric.label, where=where, value=_text(item.result.get("value"), metric.unit),
        previous=_text(previous.get("value"), metric.unit), age=age, size=size, start=previous["start"],
        end=previous["end"]))


def _item(kind: str, item: _Slice, value, reference, message: str) -> dict:
    return {"kind": kind, "metric": item.metric, "dimension": item.dimension, "key": item.key,
            "value": value, "reference": reference, "message": message}


def _funnel_item(window: Window, today: dt.date, used: set[tuple]) -> dict | None:
    """The funnel step whose same-age conversion fell most, when that fall is significant."""
    results = kpi_values(metrics=[rate for _, _, rate in FUNNEL_STEPS], window=window, today=today)
    falls = [(result["change"]["relative"], result) for result in results
             if (result.get("change") or {}).get("direction") == "down"
             and result["change"].get("relative") is not None]
    if not falls:
        return None
    worst = min(falls, key=lambda pair: pair[0])[1]
    step = _Slice(worst["metric"], None, None, _("team"), worst, ())
    if step.identity in used:
        return None
    found = _change_item(step, kind="funnel")
    if found is not None:
        steps = {rate: (a, b) for a, b, rate in FUNNEL_STEPS}[worst["metric"]]
        found["message"] = _("Weakest funnel step, {before} → {after}: {message}").format(
            before=steps[0], after=steps[1], message=found["message"])
    return found


def attention_items(*, watches: list[Watch], window: Window, funnel_step: bool = False,
                    today: dt.date | None = None) -> list[dict]:
    """The items of rule 6 in order: sla, target, change, funnel; each metric and slice once."""
    today = today or company_today()
    slices = _slices(watches, window, today)
    items: list[dict] = []
    used: set[tuple] = set()
    for rule in (_sla_item, _target_item, _change_item):
        for item in slices:
            if item.identity in used:
                continue
            found = rule(item)
            if found is not None:
                items.append(found)
                used.add(item.identity)
    if funnel_step:
        found = _funnel_item(window, today, used)
        if found is not None:
            items.append(found)
    return items


def attention_report(*, watches: list[Watch], window: Window, funnel_step: bool = False,
                     today: dt.date | None = None) -> dict:
    """The JSON of DESIGN.md's attention endpoint, less the dashboard key the caller adds."""
    return {"as_of": window.as_of.isoformat(), "window": window.to_json(),
            "items": attention_items(watches=watches, window=window, funnel_step=funnel_step, today=today)}
