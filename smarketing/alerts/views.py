"""The alerts page: rules with their state and history, destinations with their delivery log."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smarketing.funnel.selectors import is_data_manager
from smarketing.kpis.formatting import format_value
from smarketing.kpis.registry import METRICS
from smarketing.kpis.windows import WINDOW_LABELS

from .conditions import RuleError, condition_text
from .forms import DestinationForm, RuleForm
from .selectors import attempts_for, destinations_visible, events_for, rules_visible
from .services import destination_save, destination_test, rule_save, rule_set_active


def _form_error(form, error: RuleError) -> None:
    field = error.field.split(".")[0]
    field = {"condition": "threshold"}.get(field, field)
    form.add_error(field if field in form.fields else None, error.message)


@login_required
def rules_page(request: HttpRequest) -> HttpResponse:
    destinations = destinations_visible(request.user)
    destination_form = DestinationForm(prefix="d")
    teams = is_data_manager(request.user)
    rule_form = RuleForm(prefix="r", destinations=destinations, teams=teams)
    if request.method == "POST" and request.POST.get("form") == "destination":
        destination_form = DestinationForm(request.POST, prefix="d")
        if destination_form.is_valid():
            data = destination_form.cleaned_data
            try:
                destination_save(owner=request.user, name=data["name"], kind=data["kind"], target=data["target"],
                                 secret=data["secret"] or None)
            except RuleError as error:
                _form_error(destination_form, error)
            else:
                messages.success(request, gettext("Destination “{name}” added.").format(name=data["name"]))
                return redirect("alerts:rules")
    elif request.method == "POST" and request.POST.get("form") == "rule":
        rule_form = RuleForm(request.POST, prefix="r", destinations=destinations, teams=teams)
        if rule_form.is_valid():
            data = rule_form.cleaned_data
            try:
                rule = rule_save(owner=request.user, name=data["name"], metric=data["metric"],
                                 dimension=data["dimension"], key=data["key"], window=data["window"],
                                 condition=rule_form.condition(),
                                 destinations=destinations.filter(pk__in=[int(pk) for pk in data["destinations"]]),
                                 team=data.get("team") or "", actor=request.user)
            except RuleError as error:
                _form_error(rule_form, error)
            else:
                messages.success(request, gettext("Rule “{name}” saved; it is checked after the next recompute.").format(
                    name=rule.name))
                return redirect("alerts:rules")
    rules = rules_visible(request.user)
    events = events_for(rules)
    rows = []
    for rule in rules:
        metric = METRICS.get(rule.metric)
        rows.append({"rule": rule, "metric": metric, "condition": condition_text(rule.condition),
                     "window": WINDOW_LABELS.get(rule.window, rule.window),
                     "value": format_value(rule.last_value, metric.unit if metric else "count"),
                     "events": events.get(rule.pk, [])})
    attempts = attempts_for(destinations)
    context = {
        "rows": rows,
        "destinations": [{"destination": d, "attempts": attempts.get(d.pk, [])} for d in destinations],
        "destination_form": destination_form,
        "rule_form": rule_form,
    }
    return render(request, "alerts/rules.html", context)


@login_required
@require_POST
def rule_action_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Pause, resume or delete a rule the user may edit: their own, their team's, or any for a data manager."""
    rule = get_object_or_404(rules_visible(request.user), pk=pk)
    action = request.POST.get("action")
    if action == "delete":
        rule.delete()
        messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
    elif action in ("pause", "resume"):
        rule_set_active(rule=rule, active=action == "resume")
        messages.success(request, (_("Rule “%(name)s” resumed.") if rule.active else _("Rule “%(name)s” paused."))
                         % {"name": rule.name})
    else:
        messages.error(request, _("Unknown action: use pause, resume or delete."))
    return redirect("alerts:rules")


@login_required
@require_POST
def destination_test_view(request: HttpRequest, pk: int) -> HttpResponse:
    destination = get_object_or_404(destinations_visible(request.user), pk=pk)
    outcome = destination_test(destination)
    if outcome.ok:
        messages.success(request, gettext("Test message sent to “{name}” (HTTP {status}).").format(
            name=destination.name, status=outcome.status_code) if outcome.status_code else
            gettext("Test message sent to “{name}”.").format(name=destination.name))
    else:
        messages.error(request, gettext("The test message to “{name}” failed: {error}").format(
            name=destination.name, error=outcome.error))
    return redirect("alerts:rules")
