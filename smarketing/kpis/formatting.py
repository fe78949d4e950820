"""Numbers for people ("1.2k", "$45,300", "23.5 %"), shared by the dashboards, the digest and the
attention list's messages (kpis holds it so that every layer above can read a number the same way)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

NONE = "—"
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CAD": "CA$", "AUD": "A$"}
_SCALES = ((1e9, "B"), (1e6, "M"), (1e3, "k"))


def currency_symbol() -> str:
    code = str(getattr(settings, "CURRENCY", "USD")).upper()
    return CURRENCY_SYMBOLS.get(code, f"{code} ")


def _number(value: float | int | Decimal | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        return None
    return number


def _compact(number: float) -> str:
    """1,234 → 1.2k; whole numbers under a thousand as they are."""
    magnitude = abs(number)
    for index, (scale, suffix) in enumerate(_SCALES):
        if magnitude >= scale:
            scaled = round(magnitude / scale, 1)
            # 999,960 rounds to "1000.0k": carry into the next unit instead.
            if scaled >= 1000 and index > 0:
                scale, suffix = _SCALES[index - 1]
                scaled = round(magnitude / scale, 1)
            text = f"{scaled:,.1f}{suffix}"
            return f"-{text}" if number < 0 else text
    if float(number).is_integer():
        return f"{number:,.0f}"
    return f"{number:,.1f}"


def _money(number: float) -> str:
    symbol = currency_symbol()
    magnitude = abs(number)
    if magnitude >= 1e6:
        body = _compact(magnitude)
    elif magnitude < 100 and not float(magnitude).is_integer():
        body = f"{magnitude:,.2f}"
    else:
        body = f"{magnitude:,.0f}"
    sign = "-" if number < 0 and body.strip("0.,") else ""
    return f"{sign}{symbol}{body}"


def format_date(day: dt.date) -> str:
    """A day as people of the active language write it: "29 Nov 2026", "2026年11月29日"."""
    return date_format(day, pgettext("date format: day, month, year", "j M Y"))


def format_value(value: float | int | Decimal | None, unit: str) -> str:
    """A metric value as people read it; "—" when there is no value (a 0 denominator)."""
    number = _number(value)
    if number is None:
        return NONE
    if unit == "percent":
        return f"{number:,.1f} %"
    if unit == "currency":
        return _money(number)
    # Chinese groups thousands and writes decimals as English does: only the unit words differ.
    if unit == "currency_per_day":
        return _("{amount}/day").format(amount=_money(number))
    if unit == "days":
        return _("{number} days").format(number=f"{number:,.1f}")
    if unit == "hours":
        return _("{number} h").format(number=f"{number:,.1f}")
    if unit == "ratio":
        return f"{number:,.1f}×"
    return _compact(number)


def format_delta(
    value: float | int | Decimal | None,
    previous: float | int | Decimal | None,
    direction: str,
) -> dict:
    """Change against the previous period in percent: which way it went, and whether that is good.

    The arrow says where the value went (▲ up, ▼ down) and `good` how to colour it, which
    for a lower-is-better metric is the other way round (catalogue, reading the numbers 5).
    `good` and the arrow are empty when either side is missing or the previous value is 0
    (no relative change to speak of), and when nothing changed.
    """
    current, before = _number(value), _number(previous)
    if current is None or before is None or before == 0:
        return {"text": NONE, "good": None, "arrow": ""}
    change = (current - before) / abs(before) * 100
    text = f"{change:+,.1f} %"
    if round(change, 1) == 0:
        return {"text": "±0.0 %", "good": None, "arrow": ""}
    went_up = change > 0
    return {"text": text, "good": went_up if direction == "up" else not went_up, "arrow": "▲" if went_up else "▼"}


def round_like_value(value: float | int | Decimal | None, unit: str) -> float | None:
    """A pace or projection rounded half up as the value is: counts whole, currency to cents."""
    number = _number(value)
    if number is None:
        return None
    places = {"count": Decimal("1"), "currency": Decimal("0.01")}.get(unit)
    if places is None:
        return number
    return float(Decimal(repr(number)).quantize(places, rounding=ROUND_HALF_UP))


def format_values(values: Sequence[float | int | Decimal | None], unit: str) -> list[str]:
    """Several numbers of one cell or sentence on one scale ("$1.10M / $0.97M", not "$1.1M / $965,000")."""
    numbers = [_number(value) for value in values]
    if unit not in ("count", "currency"):
        return [format_value(number, unit) for number in numbers]
    present = [abs(number) for number in numbers if number is not None]
    largest = max(present, default=0.0)
    if largest < 1e6:
        if unit == "count":
            return [NONE if n is None else f"{round_like_value(n, unit):,.0f}" for n in numbers]
        if largest >= 100:
            # "$45,300 / $12" rather than "$45,300 / $12.35": whole units like the larger one.
            return [format_value(None if n is None else round(n), unit) for n in numbers]
        return [format_value(number, unit) for number in numbers]
    scale, suffix = next((scale, suffix) for scale, suffix in _SCALES if largest >= scale)
    # One decimal on the common scale, two when a smaller number would read as 0.x.
    decimals = 1 if all(n / scale >= 1 for n in present) else 2
    prefix = currency_symbol() if unit == "currency" else ""
    out = []
    for number in numbers:
        if number is None:
            out.append(NONE)
            continue
        sign = "-" if number < 0 else ""
        scaled = Decimal(repr(abs(number) / scale)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        out.append(f"{sign}{prefix}{scaled:,}{suffix}")
    return out


# Statuses of a target (kpi-catalogue "Targets and pace"): the words people read, and the tone.
# Only sums over the window have a pace; everything else is compared with the target directly.
STATUS_TEXT = {
    "ahead": (gettext_lazy("Ahead of pace"), "good"),
    "behind": (gettext_lazy("Behind pace"), "bad"),
    "met": (gettext_lazy("Target met"), "good"),
    "missed": (gettext_lazy("Target missed"), "bad"),
    "on_target": (gettext_lazy("On target"), "good"),
    "below_target": (gettext_lazy("Below target"), "bad"),
    "inconclusive": (gettext_lazy("Too close to call"), "neutral"),
    "maturing": (gettext_lazy("Too early to judge"), "neutral"),
}
# A target without a pace judged with the pace words ("behind pace" on a percentage) reads
# as if the month were unfinished; a direct comparison speaks of the target itself.
DIRECT_STATUS = {"ahead": "on_target", "met": "on_target", "behind": "below_target", "missed": "below_target"}


def target_sentence(value: float | int | Decimal | None, target: dict | None, unit: str) -> str:
    """Status and detail as one phrase: "Behind pace by 2 · target 229", "Below target of 90.0 %"."""
    words = target_status(target)[0]
    parts, reads_on = _detail_parts(value, target, unit)
    detail = " · ".join(parts)
    if not (target or {}).get("status"):
        return detail
    if not detail:
        return words
    return f"{words} {detail}" if reads_on else f"{words} · {detail}"


def _shown_status(target: dict | None) -> str | None:
    """The status as people read it: a pace word on a target without a pace is the direct one."""
    status = (target or {}).get("status")
    if status and target.get("pace") is None and status in DIRECT_STATUS:
        return DIRECT_STATUS[status]
    return status


def target_status(target: dict | None) -> tuple[str, str]:
    """(words, tone) for a target's status: "—"/neutral when there is none."""
    status = _shown_status(target)
    if not status:
        return NONE, "neutral"
    words, tone = STATUS_TEXT.get(status, (str(status).replace("_", " ").capitalize(), "neutral"))
    return str(words), tone


def target_detail(value: float | int | Decimal | None, target: dict | None, unit: str) -> str:
    """The target in words: how far from pace (the real gap), the target, the projection.

    "by $1,305 · target $12.0M · heading for $12.0M" (after the status, "Behind pace"), on
    one scale per sentence; rates and stocks "of 35.0 %" (after "Below target").
    """
    return " · ".join(_detail_parts(value, target, unit)[0])


def _detail_parts(value: float | int | Decimal | None, target: dict | None, unit: str) -> tuple[list[str], bool]:
    """The detail's parts, and whether the first reads on from the status ("by …", "of …")."""
    if not target or target.get("value") is None:
        return [], False
    pace = round_like_value(target.get("pace"), unit)
    projection = round_like_value(target.get("projection"), unit)
    goal_text, projection_text = format_values([target["value"], projection], unit)
    parts = []
    current = _number(value)
    status = target.get("status")
    if pace is not None and current is not None and status in ("ahead", "behind"):
        gap = abs(round_like_value(current - pace, unit))
        # The status says which side is good (lower-is-better metrics are ahead below pace).
        if gap:
            # Read after the status: "Behind pace by $1,305", whichever way the metric is good.
            parts.append(_("by {gap}").format(gap=format_value(gap, unit)))
    reads_on = bool(parts)
    # A direct comparison ("On target", "Below target") reads on from its status.
    if _shown_status(target) in ("on_target", "below_target") and not parts:
        parts.append(_("of {target}").format(target=goal_text))
        reads_on = True
    else:
        parts.append(_("target {target}").format(target=goal_text))
    if projection is not None and target.get("status") in ("ahead", "behind"):
        parts.append(_("heading for {projection}").format(projection=projection_text))
    return parts, reads_on
