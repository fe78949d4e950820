"""Each request in the reader's language (LocaleMiddleware without URL prefixes, user first)."""

from __future__ import annotations

from django.utils import translation
from django.utils.cache import patch_vary_headers

from smarketing.accounts.services import browser_language_note, request_language


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Overridden for this request only: a thread that serves the next one (or a test)
        # does not inherit this reader's language.
        language = request_language(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and request.method == "GET":
            browser_language_note(user, language)
        with translation.override(language):
            request.LANGUAGE_CODE = translation.get_language()
            response = self.get_response(request)
        # The same address answers in either language: caches must key on what decided it.
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
