"""The one window type: a range of whole company-time-zone days, and its previous period.

Fiscal-year aware (`FISCAL_YEAR_START_MONTH`): `qtd` and `ytd` start at fiscal quarter and
fiscal year starts. Calendar periods (month / quarter / year) used by targets live here too.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

WINDOW_NAMES = ("mtd", "qtd", "ytd", "last_7", "last_30", "last_90", "custom")
WINDOW_LABELS = {
    "mtd": _("Month to date"),
    "qtd": _("Quarter to date"),
    "ytd": _("Year to date"),
    "last_7": _("Last 7 days"),
    "last_30": _("Last 30 days"),
    "last_90": _("Last 90 days"),
    "custom": _("Custom range"),
}
PERIOD_KINDS = ("month", "quarter", "year")
# Bounds of every window, so that no request can ask for unbounded work: days within
# 1970-01-01 … 2100-12-31 (a window's previous period then stays a valid date), and a
# custom window of at most 1,100 days (three years and a little), a span the facts answer
# in well under a second.
FIRST_DAY = dt.date(1970, 1, 1)
LAST_DAY = dt.date(2100, 12, 31)
CUSTOM_MAX_DAYS = 1100
# What a window is compared with (the `kind` of a result's `previous` block).
COMPARISONS = ("previous_period", "complete_previous_period", "same_period_last_year")
COMPARISON_LABELS = {
    "previous_period": _("Previous period (same days)"),
    "complete_previous_period": _("Complete previous period"),
    "same_period_last_year": _("Same period last year"),
}
# The short names URLs and the API have accepted since before `kind` existed.
COMPARISON_ALIASES = {"same_days": "previous_period", "complete": "complete_previous_period",
                      "last_year": "same_period_last_year"}
GRAINS = ("day", "week", "month")


class WindowError(ValueError):
    """A window that cannot be built; the message says what to send instead."""


def company_today() -> dt.date:
    return timezone.now().astimezone(ZoneInfo(settings.SMARKETING_TIMEZONE)).date()


def fiscal_start_month() -> int:
    return int(settings.FISCAL_YEAR_START_MONTH)


def add_months(day: dt.date, months: int) -> dt.date:
    """Shift by whole months; a day that does not exist (Feb 30) clips to the month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period_bounds(kind: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The month, fiscal quarter or fiscal year holding `day`: (first day, last day)."""
    if kind == "month":
        start = day.replace(day=1)
        months = 1
    elif kind in ("quarter", "year"):
        fiscal = fiscal_start_month()
        into_year = (day.month - fiscal) % 12
        span = 3 if kind == "quarter" else 12
        start = add_months(day.replace(day=1), -(into_year % span))
        months = span
    else:
        raise WindowError(f"unknown period {kind!r}: use one of {', '.join(PERIOD_KINDS)}")
    return start, add_months(start, months) - dt.timedelta(days=1)


def is_period_start(kind: str, day: dt.date) -> bool:
    return period_bounds(kind, day)[0] == day


@dataclass(frozen=True)
class Window:
    name: str
    start: dt.date
    end: dt.date
    as_of: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        return str(WINDOW_LABELS[self.name])

    @property
    def period_kind(self) -> str | None:
        """The target period a to-date window measures against (mtd → month, ...)."""
        return {"mtd": "month", "qtd": "quarter", "ytd": "year"}.get(self.name)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def previous(self, *, complete: bool = False, kind: str | None = None) -> Window:
        """The window this one is compared with; `kind` is one of COMPARISONS.

        Default the same span one period back (`complete`: the whole previous period
        instead); `same_period_last_year` is the same days twelve months back, a day that
        does not exist (Feb 29) clipping to the month's last day.
        """
        kind = comparison_for(kind or ("complete_previous_period" if complete else "previous_period"))
        if kind == "same_period_last_year":
            return Window(self.name, add_months(self.start, -12), add_months(self.end, -12),
                          add_months(self.as_of, -12))
        complete = kind == "complete_previous_period"
        months = {"mtd": 1, "qtd": 3, "ytd": 12}.get(self.name)
        if months is None:
            start = self.start - dt.timedelta(days=self.days)
            return Window(self.name, start, self.start - dt.timedelta(days=1), self.as_of)
        start = add_months(self.start, -months)
        end = self.start - dt.timedelta(days=1) if complete else add_months(self.end, -months)
        return Window(self.name, start, end, add_months(self.as_of, -months))

    def to_json(self) -> dict:
        return {"name": self.name, "start": self.start.isoformat(), "end": self.end.isoformat()}

    def grain(self) -> str:
        """The time-series grain that suits the window's length."""
        if self.days <= 45:
            return "day"
        if self.days <= 190:
            return "week"
        return "month"

    def buckets(self, grain: str | None = None) -> list[tuple[dt.date, dt.date]]:
        """Consecutive (start, end) ranges covering the window, clipped to it."""
        grain = grain or self.grain()
        if grain not in GRAINS:
            raise WindowError(f"unknown grain {grain!r}: use one of {', '.join(GRAINS)}")
        out: list[tuple[dt.date, dt.date]] = []
        cursor = self.start
        while cursor <= self.end:
            if grain == "day":
                last = cursor
            elif grain == "week":
                last = cursor + dt.timedelta(days=6 - cursor.weekday())
            else:
                last = period_bounds("month", cursor)[1]
            last = min(last, self.end)
            out.append((cursor, last))
            cursor = last + dt.timedelta(days=1)
        return out


def comparison_for(value: str | None) -> str:
    """A comparison name (or its short alias) as one of COMPARISONS; None → the previous period."""
    if value is None or value == "":
        return "previous_period"
    name = COMPARISON_ALIASES.get(value, value)
    if name not in COMPARISONS:
        allowed = ", ".join([*COMPARISONS, *COMPARISON_ALIASES])
        raise WindowError(f"compare: {value!r} is not a comparison: use one of {allowed}")
    return name


def parse_date(value: str | dt.date | None, *, field: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value))
        except ValueError:
            raise WindowError(f"{field}: {value!r} is not a date in YYYY-MM-DD form") from None
    if not FIRST_DAY <= value <= LAST_DAY:
        raise WindowError(f"{field}: {value.isoformat()} is out of range: use a date from "
                          f"{FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}")
    return value


def window_for(
    name: str,
    *,
    as_of: str | dt.date | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
) -> Window:
    """Build a window by name; `as_of` defaults to today in the company time zone."""
    if name not in WINDOW_NAMES:
        raise WindowError(f"unknown window {name!r}: use one of {', '.join(WINDOW_NAMES)}")
    as_of_day = parse_date(as_of, field="as_of") or company_today()
    if name == "custom":
        start_day, end_day = parse_date(start, field="start"), parse_date(end, field="end")
        if start_day is None or end_day is None:
            raise WindowError("custom window needs both start and end (YYYY-MM-DD)")
        if start_day > end_day:
            raise WindowError(f"custom window: start {start_day} is after end {end_day}")
        if (end_day - start_day).days + 1 > CUSTOM_MAX_DAYS:
            raise WindowError(f"custom window: {start_day} to {end_day} is {(end_day - start_day).days + 1:,} "
                              f"days; the longest is {CUSTOM_MAX_DAYS:,} days")
        return Window(name, start_day, end_day, end_day)
    if name.startswith("last_"):
        days = int(name.removeprefix("last_"))
        return Window(name, as_of_day - dt.timedelta(days=days - 1), as_of_day, as_of_day)
    kind = {"mtd": "month", "qtd": "quarter", "ytd": "year"}[name]
    return Window(name, period_bounds(kind, as_of_day)[0], as_of_day, as_of_day)
