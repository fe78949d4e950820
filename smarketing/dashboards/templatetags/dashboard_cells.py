"""How a record's cell reads on the drill-down page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import template
from django.utils import timezone

from smarketing.funnel.models import company_tz

register = template.Library()


@register.filter
def cell(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.datetime):
        local = value.astimezone(company_tz()) if timezone.is_aware(value) else value
        return local.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal | float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@register.filter
def is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)
