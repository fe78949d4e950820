"""Where a form sends its reader back to: the `next` it names, when that stays on this site."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, *, default: str) -> str:
    """The POSTed `next` address when it is on this host (and https on a secure request), else
    `default`: a crafted link can never bounce a signed-in reader to another site."""
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default
