"""The KPI query: metrics × window × optional dimension (and one-dimension filter), from facts alone.

Each window needs up to four day ranges (the window's days; every day up to its end for
stocks; every day before its start; the 365 days ending at its end). All the measures
of all the requested metrics are summed per range in one round trip per dimension,
then each metric's `compute` divides once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext

from smarketing.funnel import models as funnel
from smarketing.kpis.models import (
    DirtyDay,
    Fact,
    FactLagDay,
    FactLagMonth,
    FactLevel,
    FactMonth,
    FactsState,
)

from . import judgement
from .facts import (
    LAG_SCALE,
    converted_on,
    date_literal,
    lag_measures,
    level_measures,
    measure_literal,
    sla_min_attempts_setting,
)
from .records import RecordSet, forecast_range, records_for
from .registry import (
    DIMENSIONS,
    METRICS,
    NONE_KEY,
    REVENUE_TARGET,
    SLA_MIN_ATTEMPTS_KEY,
    Metric,
    metric_get,
)
from .windows import Window, add_months, company_today, comparison_for, period_bounds


class KpiQueryError(ValueError):
    """A query the engine cannot answer; the message says what to send instead."""


RANGE_KINDS = ("flow", "cum", "before", "year", "forecast")


def _ranges(window: Window) -> dict[str, tuple[dt.date | None, dt.date]]:
    return {
        "flow": (window.start, window.end),
        "cum": (None, window.end),
        "before": (None, window.start - dt.timedelta(days=1)),
        "year": (window.end - dt.timedelta(days=364), window.end),
        "forecast": forecast_range(window.end),
    }


# (range, measure, key, bucket) -> (sum, 1): present = at least one fact in the range
Rows = dict[tuple[tuple[dt.date | None, dt.date], str, str, int], tuple[float, int]]
# range -> measure -> (sum over buckets from 0, {bucket: sum}): the rows of one key (or the total)
RowsByRange = dict[tuple, dict[str, tuple[float, dict[int, float]]]]
_NO_MEASURES: dict = {}


AGED = "aged"  # the range key of same-age sums in `_fetch`'s rows


def _fetch(needs: dict[tuple[dt.date | None, dt.date], set[str]], *, dimension: str,
           keys: list[str] | None = None, aged: tuple[set[str], Window] | None = None) -> Rows:
    """Sum the facts of each range's measures for one dimension ("" = the total), per key.

    One round trip per dimension: each (range, measure) is an index range scan over its own
    days that sums as it goes, all of them one arm per table (a list of pieces joined to the
    table). (A single scan with a conditional sum per range tests every range's measure list
    against every row: three to four times slower.)
    `aged` = (lag measures, previous window) adds the same-age sums: a lag fact is keyed by
    its cohort day and carries its lag in days in the bucket (× LAG_SCALE + an attempt
    number), so "converted on or before the end" is the condition `day + lag <= end`; those
    rows come back under the range key (AGED, start, end) with the attempt number as their
    bucket. Whole calendar months are read from their sums (`FactMonth`, and for the lags
    `FactLagMonth` / `FactLagDay`), so what a range reads does not grow with its length.
    """
    key = ("facts", frozenset((rng, frozenset(measures)) for rng, measures in needs.items() if measures),
           dimension, None if keys is None else tuple(keys),
           None if aged is None else (frozenset(aged[0]), aged[1]))

    def read() -> Rows:
        covered = _covered(key)
        return covered if covered is not None else _fetch_rows(needs, dimension=dimension, keys=keys, aged=aged)

    return _read_once(key, read)


def _covered(key: tuple) -> Rows | None:
    """The rows of `key` cut from a sum the page already read for more ranges or measures of the
    same dimension and keys (several panels of a page ask for parts of one panel's sums)."""
    _, needs, dimension, keys, aged = key
    wanted = {rng: measures for rng, measures in needs}
    if aged is not None and aged[0]:
        wanted[(AGED, aged[1].start, aged[1].end)] = aged[0]
    for (kind, *rest), rows in (_reads.get() or {}).items():
        if kind != "facts" or rest[1:3] != [dimension, keys]:
            continue
        had = dict(rest[0])
        if rest[3] is not None and rest[3][0]:
            had[(AGED, rest[3][1].start, rest[3][1].end)] = rest[3][0]
        if all(rng in had and measures <= had[rng] for rng, measures in wanted.items()):
            return {index: total for index, total in rows.items() if index[1] in wanted.get(index[0], ())}
    return None


# The first day a range without a start reads from (no fact is older), and the last day after one.
_EARLIEST = dt.date(1, 1, 1)
_LATEST = dt.date(9999, 12, 31)
AFTER = "after"  # the range key of the facts after a stock's end, taken off its level


def _fetch_rows(needs: dict[tuple[dt.date | None, dt.date], set[str]], *, dimension: str,
                keys: list[str] | None, aged: tuple[set[str], Window] | None) -> Rows:
    """`_fetch` without the page's memo."""
    lags = sorted(aged[0]) if aged else []
    adapt = connection.ops.adapt_datefield_value
    every_range: list = []
    arms: list[str] = []
    params: list = []
    in_keys = f" IN ({', '.join(['%s'] * len(keys))})" if keys is not None else ""
    only_keys = f" AND key{in_keys}" if keys is not None else ""
    # (range index, measure, first, last) of the month sums and of the daily facts to read,
    # and (range index, measure, -, end) of the levels.
    pieces: dict[str, list[tuple[int, str, dt.date, dt.date]]] = {"month": [], "day": [], "level": []}
    after_of: dict[int, int] = {}  # the range index of facts after a stock's end -> the stock's

    def arm(measures: list[str], condition: str, condition_params: list, bucket: str = "bucket", *,
            table: str = Fact._meta.db_table) -> None:
        arms.append(f"SELECT {len(every_range) - 1}, measure, key, {bucket}, SUM(value) FROM {table} "
                    f"WHERE dimension = %s AND measure IN ({', '.join(['%s'] * len(measures))}){condition}"
                    f"{only_keys} GROUP BY measure, key, {bucket}")
        params.extend([dimension, *measures, *condition_params, *(keys or [])])

    def piece(grain: str, measures: Iterable[str], lo: dt.date | None, hi: dt.date) -> None:
        pieces[grain].extend((len(every_range) - 1, measure, lo or _EARLIEST, hi) for measure in measures)

    for (lo, hi), measures in needs.items():
        if not measures:
            continue
        every_range.append((lo, hi))
        stocks = sorted(measures & level_measures()) if lo is None else []
        if stocks:
            # A stock up to `hi`: its running level (present when its first fact is on or
            # before `hi`) less the facts after `hi`: the rest of hi's month day by day and the
            # later months from their sums (none for a window ending today).
            piece("level", stocks, None, hi)
            every_range.append((AFTER, hi))
            after_of[len(every_range) - 1] = len(every_range) - 2
            month_end = period_bounds("month", hi)[1]
            if hi < month_end:
                piece("day", stocks, hi + dt.timedelta(days=1), month_end)
            piece("month", stocks, month_end + dt.timedelta(days=1), _LATEST)
            measures = measures - set(stocks)
            if not measures:
                continue
            every_range.append((lo, hi))
        # Whole months from their sums, the days at either end from the daily facts.
        months = whole_months(lo, hi)
        monthly = sorted(measures - lag_measures()) if months else []
        if monthly:
            first, last = months
            piece("month", monthly, first, last)
            if lo is not None and lo < first:
                piece("day", monthly, lo, first - dt.timedelta(days=1))
            last_day = period_bounds("month", last)[1]
            if last_day < hi:
                piece("day", monthly, last_day + dt.timedelta(days=1), hi)
        daily = sorted(measures - set(monthly))
        if daily:
            piece("day", daily, lo, hi)
    # Every month and day piece is one row of a list joined to its table: one index range scan
    # per (range, measure) as before, but one arm to plan instead of one per range and table
    # (planning a page's dozens of arms cost about a third of its query time). The lists are
    # written as literals (measure names, dates): as hundreds of parameters the
    # driver's splitting and quoting of them took 2 ms of a campaign breakdown.
    lists = []
    for grain, table in (("month", FactMonth._meta.db_table), ("day", Fact._meta.db_table),
                         ("level", FactLevel._meta.db_table)):
        if not pieces[grain]:
            continue
        lists.append(f"{grain}_pieces (i, measure, lo, hi) AS (VALUES "
                     + ", ".join(f"({index}, {measure_literal(measure)}, {date_literal(lo)}, {date_literal(hi)})"
                                 for index, measure, lo, hi in pieces[grain]) + ")")
        span = "f.since <= p.hi" if grain == "level" else f"f.{grain} >= p.lo AND f.{grain} <= p.hi"
        arms.append(f"SELECT p.i, f.measure, f.key, f.bucket, SUM(f.value) FROM {grain}_pieces p "
                    f"JOIN {table} f ON f.measure = p.measure AND f.dimension = %s "
                    f"AND {span}{' AND f.key' + in_keys if keys is not None else ''} "
                    f"GROUP BY p.i, f.measure, f.key, f.bucket")
        params.extend([dimension, *(keys or [])])
    if lags:
        start, end = aged[1].start, aged[1].end
        every_range.append((AGED, start, end))
        # A conversion comes on or after its cohort day, so "cohort from S, converted by E" needs
        # no other bound. A start within a month: the rest of that month from the daily facts,
        # a few weeks of cohort days. Lag rows group by attempt number, not by lag: a handful
        # of rows per key.
        later, end_month = _month_start_from(start), period_bounds("month", end)[0]
        if start < later:
            arm(lags, f" AND day >= %s AND day <= %s AND {converted_on()} <= %s",
                [adapt(start), adapt(min(end, later - dt.timedelta(days=1))), adapt(end)],
                bucket=f"bucket %% {LAG_SCALE}")
        if later <= end:
            # Later cohort months: conversions of whole months before the end's month, then
            # the end's month day by day up to the end.
            arm(lags, " AND month >= %s AND converted < %s", [adapt(later), adapt(end_month)],
                bucket="number", table=FactLagMonth._meta.db_table)
            arm(lags, " AND converted >= %s AND converted <= %s AND month >= %s",
                [adapt(end_month), adapt(end), adapt(later)], bucket="number",
                table=FactLagDay._meta.db_table)
    if not arms:
        return {}
    with connection.cursor() as cursor:
        cursor.execute((f"WITH {', '.join(lists)} " if lists else "") + " UNION ALL ".join(arms), params)
        rows = cursor.fetchall()
    out: Rows = {}
    had = out.get
    later = []
    for index, measure, key, number, total in rows:
        # A fact value is never NULL, so a row means at least one fact in the range (reading 7:
        # a key is listed only with records); the row count is not needed beyond that. A range
        # read as months and days adds its parts.
        if total is None:
            continue
        if index in after_of:
            later.append((every_range[after_of[index]], measure, key, int(number), float(total)))
            continue
        grain = (every_range[index], measure, key, int(number))
        before = had(grain)
        out[grain] = (float(total), 1) if before is None else (before[0] + float(total), 1)
    for rng, measure, key, number, total in later:
        # Facts after a stock's end whose key has none up to it are not in its level's rows.
        level = had((rng, measure, key, number))
        if level is not None:
            out[(rng, measure, key, number)] = (level[0] - total, 1)
    return out


def _month_start_from(day: dt.date) -> dt.date:
    """The first day of a month on or after `day`."""
    start, end = period_bounds("month", day)
    return day if day == start else end + dt.timedelta(days=1)


def whole_months(lo: dt.date | None, hi: dt.date) -> tuple[dt.date | None, dt.date] | None:
    """(first, last) month starts of the calendar months wholly inside [lo, hi] (lo None: from
    the first fact), or None when there is none."""
    first = None if lo is None else _month_start_from(lo)
    start, end = period_bounds("month", hi)
    last = start if end == hi else period_bounds("month", start - dt.timedelta(days=1))[0]
    if first is not None and first > last:
        return None
    return first, last


class _Sums:
    """The `Sums` a metric computes from: one window, the facts of a set of keys.

    It reads the rows' index in place (nothing is copied per window): a breakdown builds one
    of these per key, window and metric part, thousands per answer."""

    def __init__(self, rows: RowsByRange, ranges: dict[str, tuple[dt.date | None, dt.date]],
                 extra: dict[str, float]) -> None:
        # Only the window's own ranges (`_ranges`): a key's rows also hold its previous and mature parts.
        self.by_kind = {name: rows.get(rng, _NO_MEASURES) for name, rng in ranges.items()}
        self.extra = extra

    def _sum(self, kind: str, measure: str, min_bucket: int = 0) -> float:
        found = self.by_kind[kind].get(measure)
        if found is None:
            return 0.0
        if min_bucket <= 0:
            return found[0]
        return sum(v for b, v in found[1].items() if b >= min_bucket)

    def flow(self, measure: str) -> float:
        return self._sum("flow", measure)

    def cum(self, measure: str) -> float:
        return self._sum("cum", measure)

    def before(self, measure: str) -> float:
        return self._sum("before", measure)

    def year(self, measure: str) -> float:
        return self._sum("year", measure)

    def forecast(self, measure: str) -> float:
        return self._sum("forecast", measure)

    def flow_from_bucket(self, measure: str, bucket: int) -> float:
        return self._sum("flow", measure, max(bucket, 0))

    def setting(self, name: str) -> float | None:
        if name in self.extra:
            return self.extra[name]
        return float(getattr(settings, name))

    def has_records(self, kind: str, measures: Iterable[str]) -> bool:
        """Whether one of `measures` has a fact in the range."""
        return not self.by_kind[kind].keys().isdisjoint(measures)


def _present(metric: Metric, sums: _Sums) -> bool:
    """Reading 7: a breakdown lists only keys with at least one record in the window."""
    if metric.key in ("open_pipeline", "pipeline_velocity"):
        open_deals = sums.cum("open_count_in") - sums.cum("open_count_out")
        return open_deals > 0.5 or sums.has_records("flow", metric.flow)
    if metric.key == "leads_needed":
        # Reading 11: owner rows exist for the owners with a revenue target.
        return sums.setting(REVENUE_TARGET) is not None
    if metric.flow:
        return sums.has_records("flow", metric.flow)
    return any(sums.has_records(kind, getattr(metric, kind)) for kind in ("cum", "before", "year", "forecast"))


# --- numbers for JSON ----------------------------------------------------------------------


def _num(value: float | None) -> float | int | None:
    if value is None:
        return None
    rounded = round(float(value), 6)
    if rounded == int(rounded) and abs(rounded) < 2**53:
        return int(rounded)
    return rounded


def _value(metric: Metric, value: float | None) -> float | int | None:
    if value is None:
        return None
    if metric.unit == "count":
        return _num(value)
    rounded = round(float(value), 6)
    return 0.0 if rounded == 0 else rounded


# --- targets -------------------------------------------------------------------------------

# The dimensions a target row can name, and the Target field of each slice.
SLICE_DIMENSIONS = ("owner", "channel", "campaign")
SLA_RATE_METRICS = {"leads_worked_rate": "SLA_WORKED_TARGET_PCT", "leads_worked_on_time_rate": "SLA_WORKED_TARGET_PCT",
                    "sla_attempt_compliance": None}


@dataclass(frozen=True)
class _Period:
    kind: str
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def months(self) -> list[dt.date]:
        out, cursor = [], self.start
        while cursor <= self.end:
            out.append(cursor)
            cursor = add_months(cursor, 1)
        return out


# {(metric, slice dimension | None, slice key | None, period kind, period start): value}
Targets = dict[tuple[str, str | None, str | None, str, dt.date], float]


_reads: ContextVar[dict | None] = ContextVar("kpis_reads", default=None)
T = TypeVar("T")


@contextmanager
def reads_once() -> Iterator[None]:
    """Within the block, the target rows of a set of periods are read once for every metric,
    and the same fact sums once for every panel: a page asks the engine a dozen questions
    about the same periods, and several panels ask some of the same ones (the facts cannot
    change under a page: they move only in a recompute, and the page is keyed by it)."""
    token = _reads.set({})
    try:
        yield
    finally:
        _reads.reset(token)


def _read_once(key: tuple, read: Callable[[], T], *, alone: Callable[[], T] | None = None) -> T:
    """Within `reads_once`, `read()` once per key; outside it, `alone()` (default `read()`)."""
    memo = _reads.get()
    if memo is None:
        return (alone or read)()
    if key not in memo:
        memo[key] = read()
    return memo[key]


def _target_rows(metrics: list[str], windows: list[Window], period: _Period | None) -> Targets:
    """The target rows of the metrics for the windows' periods (every slice)."""
    starts = {kind: frozenset(period_bounds(kind, window.end)[0] for window in windows)
              for kind in ("month", "quarter", "year")}
    # Within a page every metric's targets are read at once, so the other questions find them.
    return _read_once(("targets", tuple(sorted(starts.items())), period),
                      lambda: _target_rows_of(None, starts, period),
                      alone=lambda: _target_rows_of([*metrics, SLA_MIN_ATTEMPTS_KEY], starts, period))


def _target_rows_of(metrics: list[str] | None, starts: dict[str, frozenset[dt.date]],
                    period: _Period | None) -> Targets:
    """The rows of the periods starting on `starts`, and the reps' monthly `leads_delivered` rows
    within `period` (a quarter or year of the marketing SLA is the sum of its months); None =
    every metric."""
    query = Q()
    for kind, days in starts.items():
        query |= Q(period=kind, period_start__in=days)
    if period is not None:
        # Only the SLA's months: a year of every metric's monthly rows was most of a page's targets.
        query |= Q(metric="leads_delivered", period="month", owner__isnull=False,
                   period_start__gte=period.start, period_start__lte=period.end)
    rows = funnel.Target.objects.filter(query)
    if metrics is not None:
        rows = rows.filter(metric__in=metrics)
    rows = rows.values_list(
        "metric", "owner__email", "channel", "campaign__external_id", "period", "period_start", "value")
    out: Targets = {}
    for metric, owner, channel, campaign, kind, start, value in rows:
        dimension, key = next(((d, k) for d, k in zip(SLICE_DIMENSIONS, (owner, channel, campaign), strict=True)
                               if k is not None), (None, None))
        out[(metric, dimension, key, kind, start)] = float(value)
    return out


def _sla_min_attempts(targets: Targets, window: Window) -> float:
    for kind in ("month", "quarter", "year"):
        found = targets.get((SLA_MIN_ATTEMPTS_KEY, None, None, kind, period_bounds(kind, window.end)[0]))
        if found is not None:
            return found
    return float(settings.SLA_MIN_ATTEMPTS)


def _target_value(metric: Metric, targets: Targets, period: _Period | None,
                  dimension: str | None, key: str | None, quota: dict[str, float] | None = None) -> float | None:
    """The slice's own row, else the SLA setting that stands in for it; None otherwise."""
    if dimension is not None and (dimension not in SLICE_DIMENSIONS or key in (None, NONE_KEY)):
        return None
    if period is not None:
        found = targets.get((metric.key, dimension, key, period.kind, period.start))
        if found is not None:
            return found
    if dimension not in (None, "owner"):
        return None
    if metric.key in SLA_RATE_METRICS:
        setting = SLA_RATE_METRICS[metric.key]
        return float(getattr(settings, setting)) if setting else 100.0
    if metric.key == "leads_delivered" and dimension == "owner" and quota and quota.get(key) is not None:
        # The marketing SLA from quota (SLA_LEADS_FROM_QUOTA): the leads the rep's revenue target needs.
        return quota[key]
    if metric.key == "leads_delivered" and dimension == "owner" and period is not None:
        # A quarter or year is the sum of its months, each the rep's monthly row or the SLA.
        sla = float(settings.SLA_LEADS_PER_REP_PER_MONTH)
        return sum(targets.get((metric.key, "owner", key, "month", month), sla) for month in period.months())
    return None


@dataclass(frozen=True)
class _Judge:
    """What judging a value needs beside the value: the window's period and its complete days."""

    period: _Period | None
    elapsed: int
    period_days: int


def _judge_context(window: Window, today: dt.date) -> _Judge:
    period = _period(window)
    first, last = (period.start, period.end) if period else (window.start, window.end)
    elapsed = judgement.elapsed_days(period_start=first, period_end=last, window_end=window.end, today=today)
    return _Judge(period, elapsed, (last - first).days + 1)


def _target(metric: Metric, target: float | None, judge: _Judge, value: float | None,
            parts: tuple[float | None, float | None], mature: dict | None) -> dict | None:
    if target is None:
        return None
    klass = judgement.target_class(key=metric.key, unit=metric.unit, kind=metric.kind)
    out = {"value": _value(metric, target), "pace": None, "projection": None, "status": None,
           "elapsed_days": judge.elapsed}
    if klass == judgement.SUM and judge.period is not None:
        out.update(judgement.pace_judgement(value=value, target=target, elapsed=judge.elapsed,
                                            period_days=judge.period_days, direction=metric.direction,
                                            unit=metric.unit))
        return out
    if judge.elapsed <= 0:
        return out
    if klass == judgement.RATE:
        if mature is not None:
            if not mature["denominator"]:
                out["status"] = "maturing"
                return out
            parts = (mature["numerator"], mature["denominator"])
        out["status"] = judgement.rate_status(numerator=parts[0], denominator=parts[1], target_pct=target,
                                              direction=metric.direction)
    else:
        out["status"] = judgement.direct_status(value=value, target=target, direction=metric.direction)
    return out


# --- labels --------------------------------------------------------------------------------

_CHOICE_LABELS = {
    "channel": dict(funnel.Channel.choices),
    "activity_type": dict(funnel.ActivityType.choices),
    "source": dict(funnel.WebSource.choices),
    "section": dict(funnel.Section.choices),
    "placement": dict(funnel.Placement.choices),
    "network": dict(funnel.Network.choices),
    "email_type": dict(funnel.EmailType.choices),
    "offer": dict(funnel.Offer.choices),
    "disqualification_reason": dict(funnel.DisqualificationReason.choices),
}


def key_labels(*, dimension: str, keys: Iterable[str]) -> dict[str, str]:
    keys = [key for key in keys if key != NONE_KEY]
    # The key stays "(none)" (an API value); people read it in their language.
    labels: dict[str, str] = {NONE_KEY: gettext("(none)")}
    if dimension in _CHOICE_LABELS:
        labels.update({key: str(_CHOICE_LABELS[dimension].get(key, key)) for key in keys})
    elif dimension in _NAMED_KEYS:
        # A page's breakdowns list mostly the same keys: each is looked up once per page.
        known: dict[str, str] = _read_once(("labels", dimension), dict, alone=dict)
        missing = [key for key in keys if key not in known]
        if missing:
            model, key_field, name_field = _NAMED_KEYS[dimension]
            known.update(dict.fromkeys(missing))
            known.update(model.objects.filter(**{f"{key_field}__in": missing}).values_list(key_field, name_field))
        labels.update({key: known[key] for key in keys if known[key] is not None})
    return {key: labels.get(key, key) for key in [*keys, NONE_KEY]}


# The dimensions whose keys name a record: (model, key field, label field).
_NAMED_KEYS = {
    "campaign": (funnel.Campaign, "external_id", "name"),
    "owner": (funnel.TeamMember, "email", "name"),
    "content": (funnel.Content, "external_id", "title"),
}


# --- the query -----------------------------------------------------------------------------


def _check(metrics: list[str], dimension: str | None, filters: dict[str, list[str]] | None) -> list[Metric]:
    if not metrics:
        raise KpiQueryError("metrics: name at least one metric key")
    resolved = [metric_get(key) for key in metrics]
    if dimension is not None and dimension not in DIMENSIONS:
        raise KpiQueryError(f"unknown dimension {dimension!r}: use one of {', '.join(DIMENSIONS)}")
    if filters:
        if len(filters) != 1:
            raise KpiQueryError("filters: name exactly one dimension")
        (name, values), = filters.items()
        if name not in DIMENSIONS:
            raise KpiQueryError(f"unknown filter dimension {name!r}: use one of {', '.join(DIMENSIONS)}")
        if not values:
            raise KpiQueryError(f"filters: {name} needs at least one value")
        if dimension is not None and dimension != name:
            raise KpiQueryError(f"a breakdown by {dimension} cannot be filtered by {name}: "
                                f"filter the same dimension the breakdown uses")
    return resolved


def _needs(metrics: list[Metric], windows: list[Window], *,
           whole: bool = False) -> dict[tuple[dt.date | None, dt.date], set[str]]:
    needs: dict[tuple[dt.date | None, dt.date], set[str]] = defaultdict(set)
    for window in windows:
        ranges = _ranges(window)
        for metric in metrics:
            if whole:
                needs[ranges["flow"]].update(metric.whole)
                # The mature part of a whole-cohort denominator is read from the total too.
                mature = mature_window(metric, window)
                if mature is not None and mature.end >= mature.start:
                    needs[(mature.start, mature.end)].update(metric.whole)
                continue
            for kind in RANGE_KINDS:
                if getattr(metric, kind):
                    needs[ranges[kind]].update(getattr(metric, kind))
    return needs


def _period(window: Window) -> _Period | None:
    if window.period_kind is None:
        return None
    start, end = period_bounds(window.period_kind, window.as_of)
    return _Period(window.period_kind, start, end)


class _AgedSums:
    """The `AgedSums` of one key: the previous window's flows and its same-age conversions."""

    def __init__(self, flows: _Sums, aged: dict[str, tuple[float, dict[int, float]]]) -> None:
        # `aged`: the key's rows of the same-age range, by measure, their attempt numbers as buckets.
        self.flows = flows
        self.aged = aged

    def flow(self, measure: str) -> float:
        return self.flows.flow(measure)

    def by_end(self, measure: str) -> float:
        return self._number(measure, 0)

    def _number(self, measure: str, number: int) -> float:
        found = self.aged.get(measure)
        return 0.0 if found is None else found[1].get(number, 0.0)

    def by_end_n(self, measure: str, number: int) -> float | None:
        """None when the facts were built for another attempt count (SLA_MIN_ATTEMPTS changed
        or a `sla_min_attempts` target): the same-age value is then unknown, not 0."""
        if number != sla_min_attempts_setting():
            return None
        return self._number(measure, number)

    def setting(self, name: str) -> float:
        return self.flows.setting(name)


def mature_window(metric: Metric, window: Window) -> Window | None:
    """The cohort's mature part: entry days in [start, as_of − M] (None: not a same-age cohort)."""
    days = judgement.MATURITY_DAYS.get(metric.key)
    if days is None or metric.aged is None:
        return None
    last = min(window.end, window.as_of - dt.timedelta(days=days))
    return Window("custom", window.start, last, window.as_of)


@dataclass
class _Scope:
    """The facts of one dimension ("" = total) for the window, its previous and mature parts."""

    rows: Rows
    window: Window
    previous: Window
    extra: dict[str, float]
    previous_extra: dict[str, float]
    # Every metric of a scope reads the same rows: index them once per (rows, window). A
    # breakdown asks for thousands of sums, so the entries are keyed by the objects' ids (each
    # entry keeps its objects alive, so an id cannot pass to another object meanwhile).
    cache: dict = field(default_factory=dict)

    def sums(self, rows: Rows, window: Window, extra: dict[str, float]) -> _Sums:
        key = (id(rows), id(window), id(extra))
        found = self.cache.get(key)
        if found is None:
            ranges = self.cache.get(("ranges", id(window)))
            if ranges is None:
                ranges = self.cache[("ranges", id(window))] = (_ranges(window), window)
            found = self.cache[key] = (_Sums(self.by_range(rows), ranges[0], extra), rows, window, extra)
        return found[0]

    def by_range(self, rows: Rows) -> RowsByRange:
        """`rows` indexed by their range, once per rows."""
        key = ("by_range", id(rows))
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = (_index_by_range(rows), rows)
        return found[0]

    def with_whole(self, key: str, rows: Rows, whole: Rows, measures: frozenset[str]) -> Rows:
        """A key's rows and the unsliced total's rows of `measures` (its `Metric.whole`), as one
        rows object shared by every metric of the key with the same `whole`."""
        merged_key = ("with whole", key, measures)
        if merged_key not in self.cache:
            self.cache[merged_key] = {**rows, **whole}
        return self.cache[merged_key]

    def by_key(self) -> dict[str, Rows]:
        """The rows split per key, once per scope: every metric's breakdown reads the same
        dictionaries, so their sums are indexed once too."""
        if "by_key" not in self.cache:
            split: dict[str, Rows] = defaultdict(dict)
            for index, total in self.rows.items():
                split[index[2]][index] = total
            self.cache["by_key"] = split
        return self.cache["by_key"]

    def aged_sums(self, flows: _Sums, rows: Rows) -> _AgedSums:
        key = ("aged", id(rows), id(flows))
        found = self.cache.get(key)
        if found is None:
            aged = self.by_range(rows).get((AGED, self.previous.start, self.previous.end), _NO_MEASURES)
            found = self.cache[key] = (_AgedSums(flows, aged), rows)
        return found[0]


def _index_by_range(rows: Rows) -> RowsByRange:
    by_range: dict[tuple, dict[str, dict[int, float]]] = {}
    for (rng, measure, _key, bucket), (total, _count) in rows.items():
        of_range = by_range.get(rng)
        if of_range is None:
            of_range = by_range[rng] = {}
        of_measure = of_range.get(measure)
        if of_measure is None:
            of_range[measure] = {bucket: total}
        else:
            of_measure[bucket] = of_measure.get(bucket, 0.0) + total
    return {rng: {measure: (_from_bucket_0(values), values) for measure, values in measures.items()}
            for rng, measures in by_range.items()}


def _from_bucket_0(values: dict[int, float]) -> float:
    """The sum over buckets from 0 (most measures have the one bucket 0)."""
    if len(values) == 1:
        [(bucket, value)] = values.items()
        return 0 + value if bucket >= 0 else 0
    return sum(v for b, v in values.items() if b >= 0)


def _scope_fetch(metrics: list[Metric], window: Window, previous: Window, *, dimension: str,
                 keys: list[str] | None, extra: dict, previous_extra: dict) -> _Scope:
    needs = _needs(metrics, [window, previous])
    for metric in metrics:
        mature = mature_window(metric, window)
        if mature is not None and mature.end >= mature.start:
            needs[(mature.start, mature.end)].update(metric.flow)
    lags = {lag for metric in metrics for lag in metric.lags}
    return _Scope(
        rows=_fetch(needs, dimension=dimension, keys=keys, aged=(lags, previous)) if metrics else {},
        window=window, previous=previous, extra=extra, previous_extra=previous_extra,
    )


@dataclass(frozen=True)
class _Plan:
    """What `_evaluate` needs of a metric beside a slice's rows: the same for every key of a
    breakdown, so it is worked out once per metric and scope."""

    same_age: bool
    with_parts: bool
    change_class: str
    mature_days: Window | None
    previous_start: str
    previous_end: str


def _plan(metric: Metric, scope: _Scope) -> _Plan:
    key = ("plan", metric.key)
    found = scope.cache.get(key)
    if found is None:
        found = scope.cache[key] = _Plan(
            same_age=metric.aged is not None, with_parts=metric.kind in ("ratio", "cohort"),
            change_class=judgement.change_class(key=metric.key, unit=metric.unit, kind=metric.kind),
            mature_days=mature_window(metric, scope.window),
            previous_start=scope.previous.start.isoformat(), previous_end=scope.previous.end.isoformat())
    return found


def _evaluate(metric: Metric, scope: _Scope, rows: Rows, *, kind: str, target: float | None, judge: _Judge,
              extras: tuple[dict[str, float], dict[str, float]] | None = None) -> dict:
    """Value, parts, previous (same-age for cohorts), mature part, target and change of one slice.

    `extras` (the window's and the previous window's) replace the scope's for one key."""
    plan = _plan(metric, scope)
    extra, previous_extra = extras or (scope.extra, scope.previous_extra)
    value, numerator, denominator = metric.compute(scope.sums(rows, scope.window, extra))
    before_sums = scope.sums(rows, scope.previous, previous_extra)
    if plan.same_age:
        before, before_n, before_d = metric.aged(scope.aged_sums(before_sums, rows))
    else:
        before, before_n, before_d = metric.compute(before_sums)
    previous = {"value": _value(metric, before), "start": plan.previous_start, "end": plan.previous_end,
                "kind": kind, "same_age": plan.same_age}
    if plan.with_parts:
        previous.update(numerator=_num(before_n), denominator=_num(before_d))
    mature = None
    mature_days = plan.mature_days
    if mature_days is not None:
        if mature_days.end >= mature_days.start:
            mv, mn, md = metric.compute(scope.sums(rows, mature_days, extra))
            mature = {"numerator": _num(mn or 0), "denominator": _num(md or 0), "value": _value(metric, mv)}
        else:
            mature = {"numerator": 0, "denominator": 0, "value": None}
    out = {
        "value": _value(metric, value),
        "numerator": _num(numerator) if plan.with_parts else None,
        "denominator": _num(denominator) if plan.with_parts else None,
        "previous": previous,
        "change": judgement.change(value=value, previous=before, klass=plan.change_class,
                                   parts=(numerator, denominator, before_n, before_d)),
        "target": _target(metric, target, judge, value, (numerator, denominator), mature),
    }
    if mature is not None:
        out["mature"] = mature
    return out


def kpi_values(*, metrics: list[str], window: Window, dimension: str | None = None,
               filters: dict[str, list[str]] | None = None, compare_complete: bool = False,
               compare: str | None = None, today: dt.date | None = None,
               include_keys: list[str] | None = None) -> list[dict]:
    """Every requested metric over the window, judged (kpi-catalogue.md "Reading the numbers").

    `compare` names the comparison (windows.COMPARISONS; `compare_complete` is its older
    spelling). `today` (default: today in the company time zone) decides the complete days;
    a breakdown lists `include_keys` too when they have no record (a rep with nothing
    delivered is 0).
    """
    resolved = _check(metrics, dimension, filters)
    kind = comparison_for(compare or ("complete_previous_period" if compare_complete else None))
    today = today or company_today()
    memo = _reads.get()
    if memo is None:
        return _kpi_values_of(resolved, window, dimension, filters, kind, today, include_keys)
    # Within a page (`reads_once`) each metric's answer to the same question is worked out once:
    # the attention list asks again for the metrics its panels showed (on the campaigns page a
    # quarter of the engine's time, every campaign's cells again). A metric's answer does not
    # depend on the others asked with it. Answers are shared: callers read them, never change them.
    question = (window, dimension, tuple((name, tuple(values)) for name, values in (filters or {}).items()),
                kind, today, tuple(include_keys or ()))
    missing = list(dict.fromkeys(metric for metric in resolved if ("result", metric.key, *question) not in memo))
    if missing:
        for result in _kpi_values_of(missing, window, dimension, filters, kind, today, include_keys):
            memo[("result", result["metric"], *question)] = result
    return [memo[("result", metric.key, *question)] for metric in resolved]


def _kpi_values_of(resolved: list[Metric], window: Window, dimension: str | None,
                   filters: dict[str, list[str]] | None, kind: str, today: dt.date,
                   include_keys: list[str] | None) -> list[dict]:
    """`kpi_values` of checked metrics, computed."""
    previous = window.previous(kind=kind)
    filter_dim, filter_keys = next(iter(filters.items())) if filters else (None, None)
    judge = _judge_context(window, today)

    period = judge.period
    targets = _target_rows([m.key for m in resolved] + ["revenue"], [window, previous], period)
    owners = filter_keys if filter_dim == "owner" else None
    extra = {"SLA_MIN_ATTEMPTS": _sla_min_attempts(targets, window),
             "GROSS_MARGIN": float(settings.GROSS_MARGIN),
             REVENUE_TARGET: _revenue_target_of(targets, window, owners)}
    previous_extra = {**extra, "SLA_MIN_ATTEMPTS": _sla_min_attempts(targets, previous),
                      REVENUE_TARGET: _revenue_target_of(targets, previous, owners)} \
        if previous.end != window.end else extra
    # Denominators a breakdown or filter reads from the unsliced total (`Metric.whole`).
    whole_of = {m.key: m.whole for m in resolved if {dimension, filter_dim} & set(m.whole_dims)}
    whole_rows = _fetch(_needs([m for m in resolved if m.key in whole_of], [window, previous], whole=True),
                        dimension="") if whole_of else {}

    filtered = [m for m in resolved if filter_dim is not None and filter_dim in m.dimensions]
    plain = [m for m in resolved if m not in filtered]
    scopes = {"": _scope_fetch(plain, window, previous, dimension="", keys=None, extra=extra,
                               previous_extra=previous_extra)}
    if filtered:
        scopes["filter"] = _scope_fetch(filtered, window, previous, dimension=filter_dim, keys=list(filter_keys),
                                        extra=extra, previous_extra=previous_extra)
    broken = [m for m in resolved if dimension is not None and dimension in m.dimensions]
    quota = _quota(window) if dimension == "owner" and any(m.key == "leads_delivered" for m in broken) else None
    if broken:
        scopes["breakdown"] = _scope_fetch(
            broken, window, previous, dimension=dimension,
            keys=list(filter_keys) if filter_dim == dimension else None, extra=extra,
            previous_extra=previous_extra)

    labels: dict[str, str] = {}
    if broken:
        present = {key for (_, _, key, _) in scopes["breakdown"].rows}
        labels = key_labels(dimension=dimension, keys=present | set(include_keys or []))

    results = []
    for metric in resolved:
        if metric in filtered:
            scope = scopes["filter"]
            # A filter to one slice is judged against that slice's target, several have none.
            slice_dim, slice_key = (filter_dim, filter_keys[0]) if len(filter_keys) == 1 else (filter_dim, None)
        else:
            scope, slice_dim, slice_key = scopes[""], None, None
        target = _target_value(metric, targets, period, slice_dim, slice_key) \
            if slice_dim is None or slice_key is not None else None
        rows = scope.rows
        if metric in filtered and filter_dim in metric.whole_dims:
            rows = {**rows, **_rows_of(whole_rows, metric.whole)}
        result = {
            "metric": metric.key,
            "label": str(metric.label),
            "unit": metric.unit,
            **_evaluate(metric, scope, rows, kind=kind, target=target, judge=judge),
            "filtered": metric in filtered or filter_dim is None,
        }
        if dimension is not None:
            result["breakdown"] = _breakdown(metric, scopes["breakdown"] if metric in broken else None, labels,
                                             dimension, targets, judge, kind, include_keys or [],
                                             whole=_rows_of(whole_rows, whole_of.get(metric.key, ())), quota=quota)
        results.append(result)
    return results


def _rows_of(rows: Rows, measures: Iterable[str]) -> Rows:
    wanted = set(measures)
    return {index: total for index, total in rows.items() if index[1] in wanted}


def _revenue_target(targets: Targets, window: Window, owner: str | None) -> float | None:
    """`leads_needed`'s revenue target: the row for the window's own period (mtd, qtd, ytd only)."""
    if window.period_kind is None:
        return None
    start = period_bounds(window.period_kind, window.as_of)[0]
    return targets.get(("revenue", "owner" if owner else None, owner, window.period_kind, start))


def _revenue_target_of(targets: Targets, window: Window, owners: Iterable[str] | None) -> float | None:
    """The team's revenue target, or under an owner filter the sum of those owners' own rows
    (None when one of them has none: the team's quota is not theirs, reading 11)."""
    if owners is None:
        return _revenue_target(targets, window, None)
    found = [_revenue_target(targets, window, owner) for owner in owners]
    return None if not found or None in found else sum(found)


def _quota(window: Window) -> dict[str, float] | None:
    """Each rep's `leads_needed` for the window's period, when the marketing SLA comes from quota."""
    if not settings.SLA_LEADS_FROM_QUOTA or window.period_kind is None:
        return None
    [needed] = kpi_values(metrics=["leads_needed"], window=window, dimension="owner")
    return {item["key"]: item["value"] for item in needed["breakdown"] if item["value"] is not None}


def _breakdown(metric: Metric, scope: _Scope | None, labels: dict[str, str], dimension: str,
               targets: Targets, judge: _Judge, kind: str, include_keys: list[str],
               whole: Rows | None = None, quota: dict[str, float] | None = None) -> list[dict]:
    if scope is None:
        return []
    by_key = scope.by_key()
    whole_measures = frozenset(index[1] for index in whole or ())
    items = []
    for key in sorted(set(by_key) | set(include_keys)):
        rows = by_key.get(key, {})
        extras = None
        if dimension == "owner":
            # One pair per rep for every metric: the sums cached by it are then shared too.
            extras = scope.cache.get(("owner extras", key))
            if extras is None:
                extras = ({**scope.extra, REVENUE_TARGET: _revenue_target(targets, scope.window, key)},
                          {**scope.previous_extra, REVENUE_TARGET: _revenue_target(targets, scope.previous, key)})
                scope.cache[("owner extras", key)] = extras
        key_extra = extras[0] if extras else scope.extra
        # `_Sums` of the window reads only the window's ranges, so the key's rows serve as they are.
        if key not in include_keys and not _present(metric, scope.sums(rows, scope.window, key_extra)):
            continue
        if whole:
            rows = scope.with_whole(key, rows, whole, whole_measures)
        target = _target_value(metric, targets, judge.period, dimension, key, quota)
        item = {"key": key, "label": labels.get(key, key),
                **_evaluate(metric, scope, rows, kind=kind, target=target, judge=judge, extras=extras)}
        items.append(item)
    items.sort(key=lambda item: (item["value"] is None, -(item["value"] or 0), item["key"]))
    return items


def kpi_report(*, metrics: list[str], window: Window, dimension: str | None = None,
               filters: dict[str, list[str]] | None = None, compare_complete: bool = False,
               compare: str | None = None) -> dict:
    """The exact JSON of DESIGN.md's `GET /api/v1/kpis/`."""
    results = kpi_values(metrics=metrics, window=window, dimension=dimension, filters=filters,
                         compare_complete=compare_complete, compare=compare)
    as_of = facts_as_of()
    return {"as_of": window.as_of.isoformat(), "window": window.to_json(),
            "facts_as_of": as_of.isoformat() if as_of else None, "results": results}


# What an answer reads beside the facts and the records: settings change with a restart, and a
# shared cache outlives one.
ANSWER_SETTINGS = ("SLA_MIN_ATTEMPTS", "SLA_FIRST_ATTEMPT_HOURS", "SLA_WORKED_TARGET_PCT",
                   "SLA_LEADS_PER_REP_PER_MONTH", "SLA_LEADS_FROM_QUOTA", "GROSS_MARGIN", "CURRENCY",
                   "SMARKETING_TIMEZONE", "FISCAL_YEAR_START_MONTH")
# A safety net only: what makes a cached answer stale changes its key (`answer_key`).
ANSWER_CACHE_SECONDS = 600


def answer_key(kind: str, question: tuple) -> str:
    """The cache key of an answer to `question`: the same while the facts and the records read
    live (`facts_version`), the company's day (pace), the settings and the reader's language
    (labels, judgements in words) stay as they are."""
    identity = (question, facts_version(), company_today(),
                tuple(getattr(settings, name, None) for name in ANSWER_SETTINGS), translation.get_language())
    return f"{kind}:" + hashlib.sha256(repr(identity).encode()).hexdigest()


def answer_cached(key: str, compute: Callable[[], T], *, on_compute: Callable[[], None] | None = None) -> T:
    """The answer stored under `key` (`answer_key`), else `compute()`'s, stored for every later
    reader. `on_compute` runs first when it must be computed: the rate limit counts only those,
    an answer cached for an earlier reader costs nothing."""
    found = cache.get(key)
    if found is None:
        if on_compute is not None:
            on_compute()
        found = compute()
        cache.set(key, found, ANSWER_CACHE_SECONDS)
    return found


def kpi_report_cached(*, metrics: list[str], window: Window, dimension: str | None = None,
                      filters: dict[str, list[str]] | None = None, compare: str | None = None,
                      on_compute: Callable[[], None] | None = None) -> dict:
    """`kpi_report`, computed once for every reader of the same question until what it reads
    changes (`answer_cached`)."""
    question = (tuple(metrics), window, dimension,
                tuple(sorted((name, tuple(values)) for name, values in (filters or {}).items())), compare)
    return answer_cached(answer_key("kpis:report", question), lambda: kpi_report(
        metrics=metrics, window=window, dimension=dimension, filters=filters, compare=compare), on_compute=on_compute)


def kpi_series(*, metric: str, window: Window, grain: str | None = None,
               filters: dict[str, list[str]] | None = None) -> list[dict]:
    """The metric per bucket of the window (each bucket computed as its own window)."""
    return kpi_series_many(metrics=[metric], window=window, grain=grain, filters=filters)[metric]


def kpi_series_many(*, metrics: list[str], window: Window, grain: str | None = None,
                    filters: dict[str, list[str]] | None = None) -> dict[str, list[dict]]:
    """`kpi_series` of several metrics from one read of the facts: {metric: points}.

    The days up to the window end are cut at every day a bucket's ranges begin or end
    (see `_cuts`); the database sums each measure per piece between two cuts, so every
    flow, stock, before or year sum of a bucket is a difference of two running totals.
    """
    resolved = _check(list(dict.fromkeys(metrics)), None, filters)
    subwindows = [Window("custom", start, end, end) for start, end in window.buckets(grain)]
    filter_dim, filter_keys = next(iter(filters.items())) if filters else (None, None)
    filtered = {m.key for m in resolved if filter_dim is not None and filter_dim in m.dimensions}
    cuts = _cuts(subwindows, year=any(m.year for m in resolved), forecast=any(m.forecast for m in resolved))
    needs = {"": {x for m in resolved if m.key not in filtered for x in m.measures}}
    if filtered:
        needs[filter_dim] = {x for m in resolved if m.key in filtered for x in m.measures}
    totals = _fetch_pieces(needs, cuts, keys=list(filter_keys) if filtered else None)
    targets = _target_rows([], subwindows, None)
    # Series buckets are custom windows: no period, so no revenue target for `leads_needed`.
    extras = [{"SLA_MIN_ATTEMPTS": _sla_min_attempts(targets, sub), "GROSS_MARGIN": float(settings.GROSS_MARGIN),
               REVENUE_TARGET: None} for sub in subwindows]
    out: dict[str, list[dict]] = {}
    for metric in resolved:
        running = totals.get(filter_dim if metric.key in filtered else "", {})
        out[metric.key] = [
            {"start": sub.start, "end": sub.end,
             "value": _value(metric, metric.compute(_SeriesSums(running, cuts, sub, extra))[0])}
            for sub, extra in zip(subwindows, extras, strict=True)
        ]
    return out


def _cuts(subwindows: list[Window], *, year: bool, forecast: bool = False) -> list[dt.date]:
    """The last day of each piece: every bucket's end and the day before the first bucket,
    plus the day before each bucket's 365-day year when a metric reads `year`, and the
    bounds of its forecast cohort when one reads `forecast`."""
    day = dt.timedelta(days=1)
    ends = {sub.end for sub in subwindows} | {subwindows[0].start - day}
    if year:
        ends |= {sub.end - 365 * day for sub in subwindows}
    if forecast:
        for sub in subwindows:
            first, last = forecast_range(sub.end)
            ends |= {first - day, last}
    return sorted(ends)


def _piece_sql(cuts: list[dt.date], column: str = "day") -> tuple[str, list]:
    """SQL for the piece index of a fact's day (or month start): 0 up to cuts[0], i for
    (cuts[i-1], cuts[i]]."""
    if connection.vendor == "postgresql":
        # A binary search over the bounds; a CASE would test every cut against every row.
        return f"width_bucket({column}, %s::date[])", [[cut + dt.timedelta(days=1) for cut in cuts]]
    adapt = connection.ops.adapt_datefield_value
    whens = " ".join(f"WHEN {column} <= %s THEN {index}" for index in range(len(cuts)))
    return f"CASE {whens} END", [adapt(cut) for cut in cuts]


@dataclass(frozen=True)
class _PieceReads:
    """How `_fetch_pieces` reads its pieces: whole calendar months from their sums, the rest
    day by day."""

    months_until: dt.date | None  # every month from the first fact up to this month start
    months: tuple[dt.date, ...]  # later month starts, each wholly inside one piece
    days: tuple[tuple[dt.date | None, dt.date], ...]  # day ranges, (None, last) = from the first fact


def _piece_reads(cuts: list[dt.date]) -> _PieceReads:
    months_until, months, days = None, [], []
    for index, hi in enumerate(cuts):
        lo = None if index == 0 else cuts[index - 1] + dt.timedelta(days=1)
        whole = whole_months(lo, hi)
        if whole is None:
            days.append((lo, hi))
            continue
        first, last = whole
        if first is None:
            months_until = last
        else:
            if lo < first:
                days.append((lo, first - dt.timedelta(days=1)))
            cursor = first
            while cursor <= last:
                months.append(cursor)
                cursor = add_months(cursor, 1)
        month_end = period_bounds("month", last)[1]
        if month_end < hi:
            days.append((month_end + dt.timedelta(days=1), hi))
    merged: list[tuple[dt.date | None, dt.date]] = []
    for lo, hi in days:
        if merged and lo is not None and merged[-1][1] + dt.timedelta(days=1) == lo:
            merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return _PieceReads(months_until, tuple(months), tuple(merged))


LEVEL_PIECE, AFTER_PIECE = -1, -2  # `_fetch_pieces`' rows of a stock's level, and of its facts after the last cut

# {dimension: {measure: {fact bucket: [running total up to and including each piece]}}}
Running = dict[str, dict[str, dict[int, list[float]]]]


def _fetch_pieces(needs: dict[str, set[str]], cuts: list[dt.date], *, keys: list[str] | None) -> Running:
    """Sum the facts of each dimension's measures per piece, in one query.

    The dimension "" is the total; any other dimension is read for `keys` only (a filter).
    A calendar month wholly inside one piece is read from its sum (`FactMonth`), so a year of
    daily buckets reads the days around its cuts, not every day since the first cut. A
    stock's first piece (every day up to the first cut) is its running level (`FactLevel`)
    less the later pieces and the facts after the last cut, not a sum over its history.
    """
    adapt = connection.ops.adapt_datefield_value

    def where(chosen: Callable[[set[str]], set[str]]) -> tuple[str, list]:
        """The condition selecting the `chosen` measures of each dimension, and its parameters."""
        arms, arm_params = [], []
        for dimension, measures in needs.items():
            measures = chosen(measures)
            if not measures:
                continue
            arm = f"dimension = %s AND measure IN ({', '.join(['%s'] * len(measures))})"
            arm_params += [dimension, *sorted(measures)]
            if dimension:
                arm += f" AND key IN ({', '.join(['%s'] * len(keys or []))})"
                arm_params += list(keys or [])
            arms.append(f"({arm})")
        return " OR ".join(arms), arm_params

    every, every_params = where(lambda measures: measures)
    if not every:
        return {}
    # Lag measures have no month sums.
    lags = any(measures & lag_measures() for measures in needs.values())
    reads = _PieceReads(None, (), ((None, cuts[-1]),)) if lags else _piece_reads(cuts)
    stocks = set() if lags else {m for measures in needs.values() for m in measures & level_measures()}
    history, history_params = where(lambda measures: measures - stocks) if stocks else (every, every_params)
    selects, sql_params = [], []

    def select(table: str, piece: str, piece_params: list, bounds: str, bound_params: list, chosen: str,
               chosen_params: list) -> None:
        selects.append(f"SELECT dimension, measure, bucket, {piece} AS piece, SUM(value) FROM {table} "
                       f"WHERE {bounds} AND ({chosen}) GROUP BY dimension, measure, bucket, piece")
        sql_params.extend([*piece_params, *bound_params, *chosen_params])

    for lo, hi in reads.days:
        piece, params = _piece_sql(cuts)
        if lo is None:
            if history:
                select(Fact._meta.db_table, piece, params, "day <= %s", [adapt(hi)], history, history_params)
        else:
            select(Fact._meta.db_table, piece, params, "day >= %s AND day <= %s", [adapt(lo), adapt(hi)],
                   every, every_params)
    if reads.months_until is not None and history:
        piece, params = _piece_sql(cuts, "month")
        select(FactMonth._meta.db_table, piece, params, "month <= %s", [adapt(reads.months_until)], history,
               history_params)
    if reads.months:
        piece, params = _piece_sql(cuts, "month")
        select(FactMonth._meta.db_table, piece, params, f"month IN ({', '.join(['%s'] * len(reads.months))})",
               [adapt(month) for month in reads.months], every, every_params)
    if stocks:
        # The stocks' levels and their facts after the last cut, under piece numbers of their own.
        chosen, chosen_params = where(lambda measures: measures & stocks)
        last, month_end = cuts[-1], period_bounds("month", cuts[-1])[1]
        select(FactLevel._meta.db_table, str(LEVEL_PIECE), [], "1 = 1", [], chosen, chosen_params)
        select(Fact._meta.db_table, str(AFTER_PIECE), [], "day > %s AND day <= %s", [adapt(last), adapt(month_end)],
               chosen, chosen_params)
        select(FactMonth._meta.db_table, str(AFTER_PIECE), [], "month > %s", [adapt(month_end)], chosen,
               chosen_params)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects), sql_params)
        rows = cursor.fetchall()
    pieces: dict[str, dict[str, dict[int, list[float]]]] = defaultdict(lambda: defaultdict(dict))
    levels: dict[tuple[str, str, int], float] = defaultdict(float)
    for dimension, measure, bucket, index, total in rows:
        if index in (LEVEL_PIECE, AFTER_PIECE):
            levels[(dimension, measure, bucket)] += float(total or 0) * (1 if index == LEVEL_PIECE else -1)
        else:
            pieces[dimension][measure].setdefault(bucket, [0.0] * len(cuts))[index] += float(total or 0)
    for (dimension, measure, bucket), level in levels.items():
        values = pieces[dimension][measure].setdefault(bucket, [0.0] * len(cuts))
        values[0] = level - sum(values[1:])
    for by_measure in pieces.values():
        for by_bucket in by_measure.values():
            for values in by_bucket.values():
                for index in range(1, len(values)):
                    values[index] += values[index - 1]
    return pieces


class _SeriesSums:
    """The `Sums` of one series bucket, read off the running totals at the cuts."""

    def __init__(self, running: dict[str, dict[int, list[float]]], cuts: list[dt.date], window: Window,
                 extra: dict[str, float]) -> None:
        self.running = running
        self.at = {cut: index for index, cut in enumerate(cuts)}
        self.window = window
        self.extra = extra

    def _between(self, measure: str, after: dt.date | None, last: dt.date, min_bucket: int = 0) -> float:
        """The sum over the days in (after, last]; `after` None = from the first fact."""
        total = 0.0
        for bucket, values in self.running.get(measure, {}).items():
            if bucket >= min_bucket:
                total += values[self.at[last]] - (values[self.at[after]] if after is not None else 0.0)
        return total

    def flow(self, measure: str) -> float:
        return self._between(measure, self.window.start - dt.timedelta(days=1), self.window.end)

    def cum(self, measure: str) -> float:
        return self._between(measure, None, self.window.end)

    def before(self, measure: str) -> float:
        return self._between(measure, None, self.window.start - dt.timedelta(days=1))

    def year(self, measure: str) -> float:
        return self._between(measure, self.window.end - dt.timedelta(days=365), self.window.end)

    def forecast(self, measure: str) -> float:
        first, last = forecast_range(self.window.end)
        return self._between(measure, first - dt.timedelta(days=1), last)

    def flow_from_bucket(self, measure: str, bucket: int) -> float:
        return self._between(measure, self.window.start - dt.timedelta(days=1), self.window.end, max(bucket, 0))

    def setting(self, name: str) -> float | None:
        if name in self.extra:
            return self.extra[name]
        return float(getattr(settings, name))


def metric_records(*, metric: str, window: Window, filters: dict[str, list[str]] | None = None,
                   key: str | None = None, dimension: str | None = None) -> RecordSet:
    """The records behind a number; `key` (of `dimension`, default the filter's) narrows further."""
    resolved = _check([metric], None, filters)[0]
    return records_for(metric=resolved, window=window, filters=filters, key=key, dimension=dimension)


def facts_as_of() -> dt.datetime | None:
    return facts_version()[0]


def facts_version() -> tuple[dt.datetime | None, int]:
    """What every answer is computed from, as a cache key: the last recompute and the version
    that moves with it and with the records read live (targets, campaign and rep names)."""
    return FactsState.objects.filter(pk=1).values_list("facts_as_of", "version").first() or (None, 0)


def recompute_pending() -> bool:
    return DirtyDay.objects.exists()


__all__ = [
    "METRICS",
    "KpiQueryError",
    "answer_cached",
    "answer_key",
    "facts_as_of",
    "facts_version",
    "key_labels",
    "kpi_report",
    "kpi_report_cached",
    "kpi_series",
    "kpi_series_many",
    "kpi_values",
    "metric_records",
    "recompute_pending",
]
