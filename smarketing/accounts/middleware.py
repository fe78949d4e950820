"""Each request in the reader's language (LocaleMiddleware without URL prefixes, user first)."""

from __future__ import annotations

from django.utils import translation
from django.utils.cache import patch_vary_headers

from smarketing.accounts.services import request_language


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Overridden for this request only: a thread that serves the next one (or a test)
        # does not inherit this reader's language.
        with translation.override(request_language(request)):
            request.LANGUAGE_CODE = translation.get_language()
            response = self.get_response(request)
        # The same address answers in either language: caches must key on what decided it.
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
