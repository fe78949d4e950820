"""Which language a person reads: their own setting, else what their browser asks for."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

from smarketing.accounts.models import LANGUAGE_CODES, Preference


class UnknownLanguage(ValueError):
    """A language code the product has no translation for."""


def user_language(user) -> str | None:
    """The language a user chose, or None (never chosen, or signed out)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.pk:
        return None
    # The middleware asks on every request: one cached attribute read per user object.
    cached = getattr(user, "_smarketing_language", False)
    if cached is not False:
        return cached
    language = Preference.objects.filter(user=user).values_list("language", flat=True).first() or None
    user._smarketing_language = language
    return language


def language_for(user) -> str:
    """What to write to a user when no request is there to ask (digests, reset mails)."""
    return user_language(user) or settings.LANGUAGE_CODE


def request_language(request) -> str:
    """The user's setting when signed in and set; else negotiated from Accept-Language."""
    return user_language(getattr(request, "user", None)) or translation.get_language_from_request(request)


def set_language(user, language: str | None) -> str | None:
    """Stores (or with None / "" clears) a user's language; an unknown code is refused."""
    language = (language or "").strip().lower()
    if language and language not in LANGUAGE_CODES:
        raise UnknownLanguage(language)
    Preference.objects.update_or_create(user=user, defaults={"language": language})
    user._smarketing_language = language or None
    return language or None
