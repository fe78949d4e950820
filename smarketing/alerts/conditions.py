"""Rule conditions: checking what a client sends, and deciding whether one holds.

- `{"type": "below", "value": N}`: fires while the value is strictly below N;
- `{"type": "above", "value": N}`: fires while the value is strictly above N;
- `{"type": "change", "percent": P, "direction": "any"|"up"|"down"}` (P > 0, direction
  default "any"): fires while the change against the previous period (the same days one
  period back, as the dashboards' tiles compare) is strictly beyond P percent;
- `{"type": "attention"}`: fires while the metric's slice is an item of the attention list
  (kpi-catalogue.md, "Reading the numbers" rule 6: SLA, target, significant change), judged
  on complete days like the dashboards' banner and the digest.

A value the engine cannot compute (a rate over nothing) or a change from a previous value of
0 or none has no answer: the rule keeps its state rather than fire or resolve on nothing.
"""

from __future__ import annotations

import math

from django.utils.translation import gettext

from smarketing.kpis.registry import DIMENSIONS, metric_get
from smarketing.kpis.windows import WINDOW_NAMES

CONDITION_TYPES = ("below", "above", "change", "attention")
DIRECTIONS = ("any", "up", "down")
# A custom range never moves: nothing new could ever make it fire.
RULE_WINDOWS = tuple(name for name in WINDOW_NAMES if name != "custom")


class RuleError(ValueError):
    """A rule that cannot be evaluated; `field` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _number(raw: object, *, field: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise RuleError(field, f"{raw!r} is not a number")
    return float(raw)


def condition_clean(raw: object) -> dict:
    """The condition in its stored form; RuleError naming the field otherwise."""
    if not isinstance(raw, dict):
        raise RuleError("condition", 'must be an object such as {"type": "below", "value": 10}')
    kind = raw.get("type")
    if kind not in CONDITION_TYPES:
        raise RuleError("condition.type", f"{kind!r} is not one of {', '.join(CONDITION_TYPES)}")
    allowed = {"type", "value"} if kind in ("below", "above") else \
        {"type"} if kind == "attention" else {"type", "percent", "direction"}
    extra = sorted(set(raw) - allowed)
    if extra:
        raise RuleError(f"condition.{extra[0]}", f"is not a field of a {kind!r} condition")
    if kind == "attention":
        return {"type": "attention"}
    if kind in ("below", "above"):
        if "value" not in raw:
            raise RuleError("condition.value", f"a {kind!r} condition needs a number")
        return {"type": kind, "value": _number(raw["value"], field="condition.value")}
    if "percent" not in raw:
        raise RuleError("condition.percent", "a 'change' condition needs a percentage")
    percent = _number(raw["percent"], field="condition.percent")
    if percent <= 0:
        raise RuleError("condition.percent", f"{raw['percent']!r} must be above 0 (use direction for up or down)")
    direction = raw.get("direction", "any")
    if direction not in DIRECTIONS:
        raise RuleError("condition.direction", f"{direction!r} is not one of {', '.join(DIRECTIONS)}")
    return {"type": "change", "percent": percent, "direction": direction}


def target_clean(*, metric: str, dimension: str, key: str, window: str) -> None:
    """RuleError unless the metric, slice and window name something the KPI query answers."""
    try:
        resolved = metric_get(metric)
    except (KeyError, ValueError):
        raise RuleError("metric", f"{metric!r} is not a metric key of the catalogue") from None
    if window not in RULE_WINDOWS:
        raise RuleError("window", f"{window!r} is not one of {', '.join(RULE_WINDOWS)}")
    if dimension:
        if dimension not in DIMENSIONS:
            raise RuleError("dimension", f"{dimension!r} is not one of {', '.join(DIMENSIONS)}")
        if dimension not in resolved.dimensions:
            carried = ", ".join(resolved.dimensions) or "none"
            raise RuleError("dimension", f"{metric} has no {dimension} (it has: {carried})")
        if not key:
            raise RuleError("key", f"a rule on one {dimension} needs its key")
    elif key:
        raise RuleError("dimension", "a key needs the dimension it belongs to")


def change_percent(value: float | None, previous: float | None) -> float | None:
    if value is None or previous is None or previous == 0:
        return None
    return (value - previous) / abs(previous) * 100


def condition_holds(condition: dict, *, value: float | None, previous: float | None,
                    attention: dict | None = None) -> bool | None:
    """True (fire), False (resolve) or None (no answer: keep the state). `attention` is the
    slice's attention item, if it has one."""
    if value is None:
        return None
    kind = condition["type"]
    if kind == "attention":
        return attention is not None
    if kind == "below":
        return value < condition["value"]
    if kind == "above":
        return value > condition["value"]
    change = change_percent(value, previous)
    if change is None:
        return None
    direction, percent = condition.get("direction", "any"), condition["percent"]
    if direction == "up":
        return change > percent
    if direction == "down":
        return change < -percent
    return abs(change) > percent


def condition_reference(condition: dict, *, previous: float | None, attention: dict | None = None) -> float | None:
    """What the value is held against: the threshold, the previous period's value, or the
    target, pace or previous value the attention item names."""
    if condition["type"] == "attention":
        return (attention or {}).get("reference")
    return previous if condition["type"] == "change" else condition["value"]


def condition_text(condition: dict) -> str:
    kind = condition["type"]
    if kind == "attention":
        return gettext("needs attention")
    if kind == "below":
        return gettext("below {value}").format(value=_plain(condition["value"]))
    if kind == "above":
        return gettext("above {value}").format(value=_plain(condition["value"]))
    sign = {"any": "±", "up": "+", "down": "−"}[condition.get("direction", "any")]
    return gettext("changes by more than {change} %").format(change=f"{sign}{_plain(condition['percent'])}")


def _plain(number: float) -> str:
    return f"{number:,.0f}" if float(number).is_integer() else f"{number:,.2f}".rstrip("0")
