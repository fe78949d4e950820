from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from smarketing.accounts.forms import LanguageForm
from smarketing.accounts.services import set_language


@login_required
@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """The header's language switch: stores the choice and goes back to the page it came from."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text())
    set_language(request.user, form.cleaned_data["language"])
    back = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        back = "/"
    return redirect(back)
