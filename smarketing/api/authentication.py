"""Token authentication in the token user's language (kept apart from the views: DRF imports
authentication classes while its own views module is still loading)."""

from __future__ import annotations

from django.utils import translation
from rest_framework.authentication import TokenAuthentication

from smarketing.accounts.services import user_language


class LanguageTokenAuthentication(TokenAuthentication):
    """A session's user gets their language from the middleware; a token's user is only known
    inside the view, so the answer switches to their setting here."""

    def authenticate(self, request):
        found = super().authenticate(request)
        if found is not None:
            language = user_language(found[0])
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return found
