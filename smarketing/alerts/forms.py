"""Forms of the alerts page; they collect fields, alerts.services checks and saves them."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from smarketing.funnel.models import Team
from smarketing.kpis.registry import DIMENSION_LABELS, DIMENSIONS, METRICS
from smarketing.kpis.windows import WINDOW_LABELS

from .conditions import DIRECTIONS, RULE_WINDOWS
from .models import DestinationKind

DIRECTION_LABELS = {"any": _("any"), "up": _("up"), "down": _("down")}
DIMENSION_CHOICES = [(name, DIMENSION_LABELS.get(name, name.replace("_", " "))) for name in DIMENSIONS]


class DestinationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("e.g. #marketing-alerts"))
    kind = forms.ChoiceField(label=_("Kind"), choices=DestinationKind.choices)
    target = forms.CharField(label=_("Address or webhook URL"), max_length=2000,
                             widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                             help_text=_("Stored encrypted; only a masked form is shown afterwards."))
    secret = forms.CharField(label=_("Signing secret (signed webhook only)"), required=False, max_length=500,
                             strip=False, widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}))


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    metric = forms.ChoiceField(label=_("Metric"), choices=sorted(((key, metric.label) for key, metric in METRICS.items()),
                                              key=lambda choice: choice[1]))
    window = forms.ChoiceField(label=_("Window"), choices=[(name, WINDOW_LABELS[name]) for name in RULE_WINDOWS])
    condition_type = forms.ChoiceField(label=_("Condition"), choices=[
        ("below", _("Value below")), ("above", _("Value above")), ("change", _("Change vs previous period beyond (%)")),
        ("attention", _("Needs attention (behind target, below the SLA or a significant change)"))])
    threshold = forms.FloatField(label=_("Number or percentage"), required=False,
                                 help_text=_("Not used for “needs attention”."))
    direction = forms.ChoiceField(label=_("Change direction"), choices=[(d, DIRECTION_LABELS[d]) for d in DIRECTIONS], initial="any",
                                  required=False)
    dimension = forms.ChoiceField(label=_("Only one (optional)"), required=False,
                                  choices=[("", _("Everything")), *DIMENSION_CHOICES])
    key = forms.CharField(label=_("Key (e.g. paid_search, a campaign id, a rep's e-mail)"), required=False, max_length=500)
    destinations = forms.MultipleChoiceField(label=_("Destinations"), required=False, widget=forms.CheckboxSelectMultiple)
    team = forms.ChoiceField(label=_("Belongs to"), required=False,
                             choices=[("", _("Only me")), *Team.choices],
                             help_text=_("A team's rule can be edited by every member of that team."))

    def __init__(self, *args, destinations=(), teams: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["destinations"].choices = [(str(d.pk), str(d)) for d in destinations]
        if not teams:
            # Only a data manager gives a rule to a team (alerts.services checks it again).
            del self.fields["team"]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("condition_type") not in (None, "attention") and data.get("threshold") is None:
            self.add_error("threshold", _("This condition needs a number."))
        return data

    def condition(self) -> dict:
        data = self.cleaned_data
        if data["condition_type"] == "attention":
            return {"type": "attention"}
        if data["condition_type"] == "change":
            return {"type": "change", "percent": data["threshold"], "direction": data.get("direction") or "any"}
        return {"type": data["condition_type"], "value": data["threshold"]}
