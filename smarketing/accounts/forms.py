from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class LanguageForm(forms.Form):
    # Each language named in itself, so a reader who cannot read the current one finds theirs.
    language = forms.ChoiceField(label=_("Language"),
                                 choices=[("", _("Browser's language")), *settings.LANGUAGES], required=False)
