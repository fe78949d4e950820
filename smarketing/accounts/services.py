"""Which language a person reads: their own setting, else what their browser asks for."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

from smarketing.accounts.models import LANGUAGE_CODES, Preference

_NOT_READ = object()


class UnknownLanguage(ValueError):
    """A language code the product has no translation for."""


def _preference(user) -> tuple[str, str]:
    """(chosen language, browser's last language), "" when none; one query per user object."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.pk:
        return "", ""
    cached = getattr(user, "_smarketing_languages", _NOT_READ)
    if cached is _NOT_READ:
        row = Preference.objects.filter(user=user).values_list("language", "browser_language").first()
        cached = user._smarketing_languages = tuple(row) if row else ("", "")
    return cached


def user_language(user) -> str | None:
    """The language a user chose, or None (never chosen, or signed out)."""
    return _preference(user)[0] or None


def language_for(user) -> str:
    """What to write to a user when no request is there to ask (digests, reset mails): their
    choice, else what their browser last asked for, else the site's language."""
    chosen, browser = _preference(user)
    return chosen or browser or settings.LANGUAGE_CODE


def request_language(request) -> str:
    """The user's setting when signed in and set; else negotiated from Accept-Language."""
    return user_language(getattr(request, "user", None)) or translation.get_language_from_request(request)


def browser_language_note(user, language: str) -> None:
    """Remembers the browser's language of a user without a setting (written only when it changed)."""
    chosen, browser = _preference(user)
    if chosen or browser == language or language not in LANGUAGE_CODES or not user.pk:
        return
    Preference.objects.update_or_create(user=user, defaults={"browser_language": language})
    user._smarketing_languages = (chosen, language)


def set_language(user, language: str | None) -> str | None:
    """Stores (or with None / "" clears) a user's language; an unknown code is refused."""
    language = (language or "").strip().lower()
    if language and language not in LANGUAGE_CODES:
        raise UnknownLanguage(language)
    Preference.objects.update_or_create(user=user, defaults={"language": language})
    user._smarketing_languages = (language, _preference(user)[1])
    return language or None
