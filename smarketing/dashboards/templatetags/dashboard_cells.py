"""How a record's cell reads on the drill-down page, and the filter choices of a dashboard."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

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


@register.simple_tag
def filter_choices(groups: list[dict], selected: list[str]) -> SafeString:
    """The <optgroup>s of the filter select (a few hundred options: built here, not in a loop tag)."""
    chosen = set(selected)
    return format_html_join(
        "",
        '<optgroup label="{}">{}</optgroup>',
        (
            (group["label"], format_html_join(
                "", '<option value="{}"{}>{}</option>',
                ((value, " selected" if value in chosen else "", label) for value, label in group["options"]),
            ))
            for group in groups
        ),
    ) or format_html("")
