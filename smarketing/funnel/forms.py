"""The upload form: a resource (or a zip of several), the file, and its column mapping."""

import json

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from smarketing.funnel.mapping import ColumnMapping, MappingError
from smarketing.funnel.schemas import RESOURCES
from smarketing.funnel.uploads import size_error, zip_errors

ZIP = "__zip__"
# What each resource holds, in the reader's language; its name (the file and API name) stays.
RESOURCE_LABELS = {
    "team_members": _("Team members"), "campaigns": _("Campaigns"), "content": _("Content"),
    "contacts": _("Contacts"), "deals": _("Deals"), "activities": _("Sales activities"), "touches": _("Touches"),
    "web_traffic": _("Web traffic"), "cta_stats": _("CTA statistics"), "landing_pages": _("Landing pages"),
    "email_sends": _("Email sends"), "audience": _("Audience"), "social_stats": _("Social statistics"),
    "spend": _("Spend"), "webinars": _("Webinars"), "direct_mail": _("Direct mail"),
    "feature_usage": _("Feature usage"), "target_accounts": _("Target accounts"), "targets": _("Targets"),
}


class UploadForm(forms.Form):
    resource = forms.ChoiceField(
        choices=[("", _("Choose what the file holds…"))]
        + [(name, format_lazy("{label} ({name})", label=RESOURCE_LABELS.get(name, r.label), name=name))
           for name, r in RESOURCES.items()]
        + [(ZIP, _("Several resources: a zip of <resource>.csv files"))],
        label=_("The file holds"),
    )
    file = forms.FileField(label=_("CSV file (or zip)"))
    # JSON of funnel.mapping, filled by the page's mapping step; empty: the contract's headers.
    mapping = forms.CharField(required=False, widget=forms.HiddenInput)
    save_as = forms.CharField(required=False, max_length=100, label=_("Save this mapping as (optional)"))

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        resource = cleaned.get("resource")
        cleaned["column_mapping"] = None
        if cleaned.get("mapping") and resource and resource != ZIP:
            try:
                cleaned["column_mapping"] = ColumnMapping.of(RESOURCES[resource], json.loads(cleaned["mapping"]))
            except ValueError as exc:
                problem = exc if isinstance(exc, MappingError) else _("is not valid JSON")
                self.add_error(None, _("The column mapping cannot be used: {problem}").format(problem=problem))
        if upload and resource:
            name = upload.name.lower()
            if resource == ZIP and not name.endswith(".zip"):
                self.add_error("file", _("Choose a .zip file, or pick the resource the CSV holds."))
            elif resource != ZIP and name.endswith(".zip"):
                self.add_error("resource", _("A zip holds several resources: choose the zip option."))
            elif too_big := size_error(upload.size or 0):
                self.add_error("file", too_big)
            elif resource == ZIP:
                for problem in zip_errors(upload):
                    self.add_error("file", problem)
        return cleaned
