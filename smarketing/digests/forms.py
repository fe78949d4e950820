"""The subscription form, shared by the settings page and the admin."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from smarketing.digests.models import Subscription, time_zone_names


def dashboard_choices(user=None) -> list[tuple[str, str]]:
    """The role dashboards, then the own boards the user can see."""
    from smarketing.dashboards.boards import layout_choices

    return layout_choices(user)


class SubscriptionForm(forms.ModelForm):
    dashboards = forms.MultipleChoiceField(
        choices=dashboard_choices, widget=forms.CheckboxSelectMultiple, required=False,
        help_text=_("Each one arrives whole, in the order of this list."),
    )
    time_zone = forms.ChoiceField(choices=lambda: [(name, name) for name in time_zone_names()])
    send_time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                                help_text=_("Local time in the time zone below."))

    class Meta:
        model = Subscription
        fields = ["dashboards", "send_time", "time_zone", "cadence", "weekday", "active", "chat_destination"]
        labels = {"cadence": _("How often"), "weekday": _("Weekly on"), "active": _("Send me the digest"),
                  "chat_destination": _("Also post to Slack or Teams")}
        widgets = {"cadence": forms.RadioSelect}
        help_texts = {"chat_destination": _("The headline numbers and what needs attention, each morning, "
                                            "to a channel you added on the Alerts page.")}

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # a digest may carry the own boards its reader can open
        self.fields["dashboards"].choices = dashboard_choices(user if user is not None else self.instance_user())
        field = self.fields["chat_destination"]
        field.empty_label = _("No, e-mail only")
        if user is not None:
            # One's own channels only: a destination's URL is its owner's secret.
            field.queryset = field.queryset.filter(owner=user)

    def clean_dashboards(self) -> list[str]:
        chosen = self.cleaned_data["dashboards"]
        order = [key for key, _title in self.fields["dashboards"].choices]
        return sorted(chosen, key=order.index)

    def instance_user(self):
        return self.instance.user if self.instance.pk and self.instance.user_id else None

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("active") and not cleaned.get("dashboards"):
            self.add_error("dashboards", _("Pick at least one dashboard, or switch the digest off."))
        return cleaned


class AdminSubscriptionForm(SubscriptionForm):
    class Meta(SubscriptionForm.Meta):
        fields = ["user", *SubscriptionForm.Meta.fields]
