"""Admin for alert rules, destinations (targets entered sealed, shown masked) and the logs."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from .conditions import RuleError, condition_clean, target_clean
from .models import AlertDelivery, AlertEvent, DeliveryAttempt, Destination, Rule
from .services import destination_target_clean
from .vault import seal, target_hint


class DestinationAdminForm(forms.ModelForm):
    target = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False),
                             help_text="Leave empty to keep the stored target.")
    secret = forms.CharField(required=False, strip=False, widget=forms.PasswordInput(render_value=False),
                             help_text="Signed webhooks only; leave empty to keep the stored secret.")

    class Meta:
        model = Destination
        fields = ["owner", "name", "kind"]

    def clean(self):
        data = super().clean()
        target = data.get("target")
        if not target and not self.instance.pk:
            raise ValidationError({"target": "an address or URL is needed"})
        if target:
            try:
                data["target"] = destination_target_clean(kind=data.get("kind", ""), target=target)
            except RuleError as error:
                raise ValidationError({"target": error.message}) from None
        return data

    def save(self, commit=True):
        destination = super().save(commit=False)
        if self.cleaned_data.get("target"):
            destination.target_sealed = seal(self.cleaned_data["target"])
            destination.target_hint = target_hint(kind=destination.kind, target=self.cleaned_data["target"])
        if self.cleaned_data.get("secret"):
            destination.secret_sealed = seal(self.cleaned_data["secret"])
        if commit:
            destination.save()
        return destination


@admin.register(Destination)
class DestinationAdmin(admin.ModelAdmin):
    form = DestinationAdminForm
    list_display = ("name", "kind", "target_hint", "owner")
    list_filter = ("kind",)
    raw_id_fields = ("owner",)


class RuleAdminForm(forms.ModelForm):
    class Meta:
        model = Rule
        fields = ["owner", "team", "name", "metric", "dimension", "key", "window", "condition", "destinations",
                  "active"]

    def clean(self):
        data = super().clean()
        try:
            target_clean(metric=data.get("metric", ""), dimension=data.get("dimension", ""),
                         key=data.get("key", ""), window=data.get("window", ""))
            data["condition"] = condition_clean(data.get("condition"))
        except RuleError as error:
            field = error.field.split(".")[0]
            raise ValidationError({field if field in self.fields else None: error.message}) from None
        return data


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    form = RuleAdminForm
    list_display = ("name", "metric", "window", "state", "state_since", "active", "owner", "team")
    list_filter = ("state", "active", "window", "team")
    raw_id_fields = ("owner",)
    readonly_fields = ("state", "state_since", "last_value", "last_reference", "last_as_of", "last_evaluated_at")


@admin.register(AlertEvent)
class AlertEventAdmin(admin.ModelAdmin):
    list_display = ("rule", "state", "value", "reference", "as_of", "created_at")
    list_filter = ("state",)


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(admin.ModelAdmin):
    list_display = ("event", "destination", "status", "attempts", "last_status_code", "next_attempt_at", "sent_at")
    list_filter = ("status",)


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(admin.ModelAdmin):
    list_display = ("destination", "at", "ok", "status_code", "test", "error")
    list_filter = ("ok", "test")
