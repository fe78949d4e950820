from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from smarketing.accounts.forms import LanguageForm
from smarketing.accounts.services import set_language
from smarketing.redirects import safe_next


@login_required
@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """The header's language switch: stores the choice and goes back to the page it came from."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text())
    set_language(request.user, form.cleaned_data["language"])
    return redirect(safe_next(request, default="/"))
