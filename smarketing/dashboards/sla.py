"""The lead-handover SLA in force, in words: the settings and the `targets` rows that override them.

The marketing SLA (leads each rep is owed) and the sales SLA (how fast and how often sales
works them) follow kpi-catalogue.md's order: a `targets` row for the rep and period, else
`leads_needed` from the rep's revenue target when `SLA_LEADS_FROM_QUOTA` is on, else the
monthly setting.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils.translation import gettext as _

from smarketing.funnel import models as funnel
from smarketing.kpis.formatting import format_value
from smarketing.kpis.registry import SLA_MIN_ATTEMPTS_KEY
from smarketing.kpis.selectors import kpi_values
from smarketing.kpis.windows import period_bounds, window_for

SALES_SLA_METRICS = ("leads_worked_rate", "leads_worked_on_time_rate", "sla_attempt_compliance")


def _number(value: float) -> str:
    return format_value(value, "count")


def sla_in_force(*, as_of: dt.date) -> dict:
    """Sentences for the month holding `as_of`: {"month", "marketing": [...], "sales": [...], "reps": [...]}."""
    month_start, month_end = period_bounds("month", as_of)
    window = window_for("mtd", as_of=month_end)
    rows = funnel.Target.objects.filter(period="month", period_start=month_start).select_related("owner")
    by_metric: dict[str, dict[str | None, float]] = {}
    for row in rows:
        by_metric.setdefault(row.metric, {})[row.owner.email if row.owner else None] = float(row.value)
    per_month = settings.SLA_LEADS_PER_REP_PER_MONTH
    from_quota = settings.SLA_LEADS_FROM_QUOTA
    marketing = [
        _("Marketing owes each sales rep {leads} leads delivered (MQLs) a month (SLA_LEADS_PER_REP_PER_MONTH), "
          "unless a leads_delivered targets row for the rep says otherwise.").format(leads=_number(per_month)),
        _("Leads needed from quota replace that number for every rep with a revenue target "
          "(SLA_LEADS_FROM_QUOTA is on).") if from_quota else
        _("Leads needed from quota are shown beside it but do not set the SLA (SLA_LEADS_FROM_QUOTA is off)."),
    ]
    if None in by_metric.get("leads_delivered", {}):
        marketing.append(_("Team-wide target this month: {leads} leads delivered.").format(
            leads=_number(by_metric["leads_delivered"][None])))
    hours = settings.SLA_FIRST_ATTEMPT_HOURS
    worked = settings.SLA_WORKED_TARGET_PCT
    attempts = by_metric.get(SLA_MIN_ATTEMPTS_KEY, {}).get(None, settings.SLA_MIN_ATTEMPTS)
    attempts_text = (_("A lead worked but not yet reached gets at least {attempts} attempts (SLA_MIN_ATTEMPTS, "
                       "overridden by a sla_min_attempts targets row); target {share} of them.")
                     if SLA_MIN_ATTEMPTS_KEY in by_metric else
                     _("A lead worked but not yet reached gets at least {attempts} attempts (SLA_MIN_ATTEMPTS); "
                       "target {share} of them."))
    sales = [
        _("Sales works {share} of the leads delivered (at least one call, email or meeting after the lead became "
          "an MQL; SLA_WORKED_TARGET_PCT).").format(
            share=format_value(by_metric.get("leads_worked_rate", {}).get(None, worked), "percent")),
        _("First attempt within {hours} h of delivery (SLA_FIRST_ATTEMPT_HOURS) for {share} of them.").format(
            hours=_number(hours),
            share=format_value(by_metric.get("leads_worked_on_time_rate", {}).get(None, worked), "percent")),
        attempts_text.format(attempts=_number(attempts), share=format_value(
            by_metric.get("sla_attempt_compliance", {}).get(None, 100), "percent")),
    ]
    [needed] = kpi_values(metrics=["leads_needed"], window=window, dimension="owner")
    needed_by_rep = {item["key"]: item["value"] for item in needed["breakdown"]}
    revenue_targets = by_metric.get("revenue", {})
    reps = []
    for member in funnel.TeamMember.objects.filter(team="sales").order_by("name"):
        row = by_metric.get("leads_delivered", {}).get(member.email)
        quota_leads = needed_by_rep.get(member.email)
        if row is not None:
            source, value = _("its own targets row"), row
        elif from_quota and quota_leads is not None:
            source, value = _("leads needed from the revenue target"), quota_leads
        else:
            source, value = _("the monthly setting"), per_month
        revenue = revenue_targets.get(member.email)
        quota_text = (_("revenue target {revenue} needs {leads} leads").format(
            revenue=format_value(revenue, "currency"),
            leads=_number(quota_leads) if quota_leads is not None else _("— (no close rate or deal size yet)"))
            if revenue is not None else _("no revenue target this month"))
        overrides = [f"{metric.replace('_', ' ')} {format_value(by_metric[metric][member.email], 'percent')}"
                     for metric in SALES_SLA_METRICS if member.email in by_metric.get(metric, {})]
        reps.append({"name": member.name, "email": member.email, "leads": _number(value), "source": source,
                     "quota": quota_text, "overrides": overrides})
    return {"month": month_start, "marketing": marketing, "sales": sales, "reps": reps}
