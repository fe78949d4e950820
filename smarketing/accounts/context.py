from django.conf import settings

from smarketing.accounts.forms import LanguageForm
from smarketing.accounts.services import user_language


def language_switch(request):
    """The header's language form, preset to the user's own setting ("" = the browser's)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"language_form": LanguageForm(initial={"language": user_language(user) or ""}),
            "languages": settings.LANGUAGES}
