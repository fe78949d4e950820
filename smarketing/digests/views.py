"""Digest pages: the user's settings, a preview of today's email, and signed-out unsubscribe."""

from __future__ import annotations

import base64
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from smarketing.digests.compose import Digest
from smarketing.digests.forms import SubscriptionForm
from smarketing.digests.models import Subscription
from smarketing.digests.services import (
    digest_for,
    subscription_for_preview,
    subscription_next_send,
    subscription_save,
    subscription_unsubscribe,
    unsubscribe_token_read,
)


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    existing = Subscription.objects.filter(user=request.user).first()
    instance = existing or subscription_for_preview(user=request.user)
    if existing is None:
        # Nobody is subscribed by merely opening the page: the box starts unticked for them.
        instance.active = False
    form = SubscriptionForm(request.POST or None, instance=instance, user=request.user)
    if request.method == "POST" and form.is_valid():
        subscription_save(user=request.user, **{name: form.cleaned_data[name] for name in SubscriptionForm.Meta.fields})
        messages.success(request, "Digest settings saved.")
        return redirect("digests:settings")
    next_send = subscription_next_send(subscription=existing, now=timezone.now()) if existing else None
    return render(request, "digests/settings.html", {"form": form, "subscription": existing, "next_send": next_send,
                                                     "has_email": bool(request.user.email)})


def digest_html_inline(digest: Digest) -> str:
    """The HTML part with each `cid:` image swapped for a data URI, for viewing in a browser."""
    images = {image.cid: image for image in digest.images}

    def inline(match: re.Match) -> str:
        image = images.get(match.group(1))
        if image is None:
            return match.group(0)
        return 'src="data:image/png;base64,' + base64.b64encode(image.png).decode("ascii") + '"'

    return re.sub(r'src="cid:([^"]+)"', inline, digest.html)


@login_required
def preview(request: HttpRequest) -> HttpResponse:
    subscription = subscription_for_preview(user=request.user)
    digest = digest_for(subscription=subscription, now=timezone.now())
    response = HttpResponse(digest_html_inline(digest))
    response["X-Digest-Subject"] = digest.subject.encode("ascii", "replace").decode("ascii")
    return response


# Mail clients send RFC 8058 one-click POSTs without a CSRF token; the signed token is the credential.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "POST":
            subscription = subscription_unsubscribe(token=token)
            return render(request, "digests/unsubscribe.html", {"done": True, "subscription": subscription})
        subscription = unsubscribe_token_read(token=token)
    except signing.BadSignature:
        return render(request, "digests/unsubscribe.html", {"invalid": True}, status=400)
    # A GET only asks: link scanners in mail gateways open every link, and must not unsubscribe anyone.
    return render(request, "digests/unsubscribe.html", {"subscription": subscription, "token": token})
