"""Numbers for people ("1.2k", "$45,300", "23.5 %"), shared by the web dashboards and the email digest."""

from __future__ import annotations

import math
from decimal import Decimal

from django.conf import settings

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


def format_value(value: float | int | Decimal | None, unit: str) -> str:
    """A metric value as people read it; "—" when there is no value (a 0 denominator)."""
    number = _number(value)
    if number is None:
        return NONE
    if unit == "percent":
        return f"{number:,.1f} %"
    if unit == "currency":
        return _money(number)
    if unit == "currency_per_day":
        return f"{_money(number)}/day"
    if unit == "days":
        return f"{number:,.1f} days"
    if unit == "hours":
        return f"{number:,.1f} h"
    if unit == "ratio":
        return f"{number:,.1f}×"
    return _compact(number)


def format_delta(
    value: float | int | Decimal | None,
    previous: float | int | Decimal | None,
    direction: str,
) -> dict:
    """Change against the previous period in percent, and whether it is good news.

    `good` is None when either side is missing or the previous value is 0 (no relative
    change to speak of), and when nothing changed.
    """
    current, before = _number(value), _number(previous)
    if current is None or before is None or before == 0:
        return {"text": NONE, "good": None}
    change = (current - before) / abs(before) * 100
    text = f"{change:+,.1f} %"
    if round(change, 1) == 0:
        return {"text": "±0.0 %", "good": None}
    went_up = change > 0
    return {"text": text, "good": went_up if direction == "up" else not went_up}
