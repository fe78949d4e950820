"""A person's own settings, beside Django's user (which the project does not replace)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

LANGUAGE_CODES = tuple(code for code, _name in settings.LANGUAGES)


class Preference(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    # Empty: follow the browser's Accept-Language.
    language = models.CharField(_("language"), max_length=16, blank=True, choices=settings.LANGUAGES,
                                help_text=_("Empty: the browser's language."))
    # What the user's browser last asked for: mails (digest, password reset) follow it while
    # `language` is empty, as the pages do.
    browser_language = models.CharField(max_length=16, blank=True, choices=settings.LANGUAGES)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("preference")
        verbose_name_plural = _("preferences")
        constraints = [
            models.CheckConstraint(condition=Q(language__in=("", *LANGUAGE_CODES)), name="preference_language_valid"),
            models.CheckConstraint(condition=Q(browser_language__in=("", *LANGUAGE_CODES)),
                                   name="preference_browser_language_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.language or 'browser'}"
