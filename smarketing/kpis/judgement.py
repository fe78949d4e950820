"""How a value is judged (kpi-catalogue.md, "Targets and pace" and "Reading the numbers").

Plain functions over plain numbers: no database, no settings. The query (`selectors`)
feeds them the facts' sums; the attention list, the dashboards and the digest read
their answers from the KPI result, so every reader applies the same rules.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

Z95 = 1.96
MIN_RATE_DENOMINATOR = 30
CHANGE_FLOOR = 0.10  # a significant change is also at least 10 % of the previous value
LUMPY_FLOOR = 0.25  # currency and days: no test, a quarter of the previous value

# Rule 2: days a cohort needs before its conversions are judged against a target.
MATURITY_DAYS: dict[str, int] = {
    "lead_to_mql_rate": 30, "nurture_to_mql_rate": 30, "mql_to_demo_rate": 30,
    "mql_to_sql_rate": 14,
    "mql_to_opportunity_rate": 45, "lead_to_opportunity_rate": 45,
    "opportunity_to_customer_rate": 90,
    "lead_to_customer_rate": 120, "mql_to_customer_rate": 120,
    "leads_worked_rate": 7, "worked_to_connected_rate": 7, "sla_attempt_compliance": 7,
    "leads_worked_on_time_rate": 7, "mql_rejection_rate": 7,
}

# How a target is judged (see `target_class`).
SUM, DIRECT, RATE = "sum", "direct", "rate"
# How a change is tested (see `change_class`).
POISSON, PROPORTIONS, LUMPY, NEVER = "poisson", "proportions", "lumpy", "never"


def target_class(*, key: str, unit: str, kind: str) -> str:
    """`sum` (pace, projection, ahead/behind/met/missed), `rate` (Wilson) or `direct`."""
    if unit in ("count", "currency") and kind in ("flow", "derived"):
        return SUM
    if unit == "percent" and key != "roi":
        return RATE
    return DIRECT


def change_class(*, key: str, unit: str, kind: str) -> str:
    """Precise reading 6: which significance rule a metric's change follows."""
    if kind == "stock" or key in ("blog_subscriber_growth", "leads_needed", "roi"):
        return NEVER
    if unit == "count" and kind == "flow":
        return POISSON
    if unit == "percent":
        return PROPORTIONS
    if unit in ("currency", "days"):
        return LUMPY
    return NEVER


def round_half_up(value: float, places: int) -> float:
    """Round like a person: 2.5 → 3, 0.125 → 0.13 (binary floats would give 2 and 0.12)."""
    quantum = Decimal(1).scaleb(-places)
    return float(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))


def round_like(value: float | None, unit: str) -> float | None:
    """Counts to whole numbers, currency to cents (pace and projection are rounded like the value)."""
    if value is None:
        return None
    return round_half_up(value, 0 if unit == "count" else 2)


def elapsed_days(*, period_start: dt.date, period_end: dt.date, window_end: dt.date, today: dt.date) -> int:
    """Complete days of the period up to min(window end, today − 1) (precise reading 1)."""
    last = min(window_end, today - dt.timedelta(days=1), period_end)
    return max((last - period_start).days + 1, 0)


def at_or_past(value: float, reference: float, direction: str) -> bool:
    return value >= reference if direction == "up" else value <= reference


def pace_judgement(*, value: float | None, target: float, elapsed: int, period_days: int,
                   direction: str, unit: str) -> dict:
    """A sum over the window against its target: pace, projection and status."""
    if elapsed <= 0:
        return {"pace": 0.0 if unit != "count" else 0, "projection": None, "status": None}
    pace = round_like(target * elapsed / period_days, unit)
    projection = None if value is None else round_like(value * period_days / elapsed, unit)
    status = None
    if value is not None:
        if elapsed >= period_days:
            status = "met" if at_or_past(value, target, direction) else "missed"
        else:
            status = "ahead" if at_or_past(value, pace, direction) else "behind"
    if unit == "count":
        pace = int(pace)
        projection = None if projection is None else int(projection)
    return {"pace": pace, "projection": projection, "status": status}


def direct_status(*, value: float | None, target: float, direction: str) -> str | None:
    if value is None:
        return None
    return "on_target" if at_or_past(value, target, direction) else "below_target"


def wilson_interval(numerator: float, denominator: float, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of numerator / denominator, as fractions; p is clipped to [0, 1]."""
    n = float(denominator)
    p = min(max(float(numerator) / n, 0.0), 1.0)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def rate_status(*, numerator: float | None, denominator: float | None, target_pct: float,
                direction: str) -> str | None:
    """A percent rate against its target by the 95 % Wilson rule (precise reading 4)."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    if denominator < MIN_RATE_DENOMINATOR:
        return "inconclusive"
    low, high = (bound * 100 for bound in wilson_interval(numerator, denominator))
    wrong_side = high < target_pct if direction == "up" else low > target_pct
    good_side = low > target_pct if direction == "up" else high < target_pct
    if wrong_side:
        return "below_target"
    if good_side:
        return "on_target"
    return "inconclusive"


def poisson_significant(value: float, previous: float) -> bool:
    """Counts: |x − x₀| ≥ 1.96 √(x + x₀) and |x − x₀| ≥ 10 % of x₀."""
    gap = abs(value - previous)
    if gap == 0:
        return False
    return gap >= Z95 * math.sqrt(value + previous) and gap >= CHANGE_FLOOR * abs(previous)


def proportions_significant(k: float, n: float, k0: float, n0: float) -> bool:
    """Rates: the pooled two-proportion z-test |z| ≥ 1.96 and a 10 % relative floor."""
    if not n or not n0:
        return False
    p, p0 = k / n, k0 / n0
    if p == p0:
        return False
    pooled = (k + k0) / (n + n0)
    variance = pooled * (1 - pooled) * (1 / n + 1 / n0)
    if variance <= 0:
        return False
    z = (p - p0) / math.sqrt(variance)
    return abs(z) >= Z95 and abs(p - p0) >= CHANGE_FLOOR * abs(p0)


def lumpy_significant(value: float, previous: float) -> bool:
    gap = abs(value - previous)
    return gap > 0 and gap >= LUMPY_FLOOR * abs(previous)


def change(*, value: float | None, previous: float | None, klass: str,
           parts: tuple[float | None, float | None, float | None, float | None] | None = None) -> dict | None:
    """Precise reading 5: absolute, relative (a fraction), significant, direction.

    `parts` = (k, n, k₀, n₀) for the two-proportion test of rates.
    """
    if value is None or previous is None:
        return None
    absolute = float(value) - float(previous)
    relative = None if previous == 0 else absolute / abs(float(previous))
    direction = None if absolute == 0 else ("up" if absolute > 0 else "down")
    significant = False
    if direction is not None:
        if klass == POISSON:
            significant = poisson_significant(float(value), float(previous))
        elif klass == PROPORTIONS and parts is not None and None not in parts:
            significant = proportions_significant(*(float(x) for x in parts))
        elif klass == LUMPY:
            significant = lumpy_significant(float(value), float(previous))
    return {"absolute": round(absolute, 6), "relative": None if relative is None else round(relative, 6),
            "significant": significant, "direction": direction}


def bad_direction(*, change_direction: str | None, metric_direction: str) -> bool:
    """Arrows show direction; whether it is bad follows the metric's good direction."""
    if change_direction is None:
        return False
    return (change_direction == "down") == (metric_direction == "up")


def behind_enough(*, target: dict, direction: str) -> bool:
    """A `behind` sum worth attention: 7+ elapsed days and a projection under 95 % of the target."""
    projection, value = target.get("projection"), target.get("value")
    if target.get("elapsed_days", 0) < 7 or projection is None or value is None:
        return False
    if direction == "up":
        return projection < 0.95 * value
    return projection > 1.05 * value


# The SLA has two sides that are never merged into one verdict: marketing's (leads
# delivered against each rep's SLA pace) and sales' (worked and attempt compliance).
SIDE_TEXT = {
    "ahead": (_("On pace"), "good"), "met": (_("SLA met"), "good"), "behind": (_("Short of SLA"), "bad"),
    "missed": (_("SLA missed"), "bad"), "on_target": (_("Within SLA"), "good"),
    "below_target": (_("Below SLA"), "bad"), "inconclusive": (_("Too few to judge"), "neutral"),
    "maturing": (_("Too early to judge"), "neutral"),
}
_WORST_FIRST = ("missed", "behind", "below_target", "inconclusive", "maturing")


def side_status(statuses: list[str | None]) -> tuple[str, str]:
    """(text, tone good|bad|neutral) of one side from its metrics' statuses: the worst speaks."""
    known = [status for status in statuses if status]
    if not known:
        return "—", "neutral"
    for worst in _WORST_FIRST:
        if worst in known:
            text, tone = SIDE_TEXT[worst]
            return str(text), tone
    text, tone = SIDE_TEXT.get(known[0], (known[0].replace("_", " ").capitalize(), "neutral"))
    return str(text), tone
