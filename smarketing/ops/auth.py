"""Abuse limits: sign-in throttling (django-axes, site and admin alike) and password-reset
mails rate-limited and sent by a task."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.views import PasswordResetView
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext

from smarketing.accounts.services import language_for

logger = logging.getLogger(__name__)


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses a locked-out account or address before the password is checked.

    Only sign-ins over HTTP carry a request and can be throttled; code that calls
    `authenticate()` without one (the test client, management commands) is not a web sign-in
    and passes through to the next backend instead of failing.
    """

    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_address(request: HttpRequest) -> str:
    """The client's address: behind PROXY_COUNT proxies, the entry the outermost one appended
    to X-Forwarded-For (entries left of it are the client's to forge)."""
    proxies = settings.PROXY_COUNT
    if proxies:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def _over_rate(scope: str, value: str) -> bool:
    """Counts one more request for `value` in the current window; True past the limit."""
    digest = hashlib.sha256(value.lower().encode()).hexdigest()
    key = f"ops:password-reset:{scope}:{digest}"
    window = settings.PASSWORD_RESET_RATE_WINDOW
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr: this is the window's first
        cache.set(key, 1, timeout=window)
        count = 1
    return count > settings.PASSWORD_RESET_RATE


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's reset form, with the mail looked up, built and sent by a Celery task.

    The request does the same work for every address (count it, queue it), so neither its
    answer nor its timing tells whether an account exists; a known address past
    PASSWORD_RESET_RATE mails per hour is quietly not mailed again, for the same reason.
    """

    queued: dict[str, Any] | None = None

    def save(self, *, request: HttpRequest, use_https: bool = False, domain_override: str | None = None,
             **kwargs: Any) -> None:
        email = self.cleaned_data["email"]
        if _over_rate("email", email):
            logger.warning("password reset for one address over %s per hour: not sent", settings.PASSWORD_RESET_RATE)
            return
        self.queued = {"email": email, "domain": domain_override or request.get_host(), "use_https": use_https}


def _queue_reset_mail(**mail: Any) -> None:
    from smarketing.ops.tasks import password_reset_send

    try:
        password_reset_send.delay(**mail)
    except Exception:  # the answer is already sent; the operator must hear of it
        logger.exception("could not queue a password reset mail")


class ThrottledPasswordResetView(PasswordResetView):
    form_class = QueuedPasswordResetForm

    def form_valid(self, form: QueuedPasswordResetForm) -> HttpResponse:
        if _over_rate("address", client_address(self.request)):
            form.add_error(None, gettext("Too many password reset requests from your address: try again in an hour."))
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        response = super().form_valid(form)
        if form.queued:
            # Queued once the answer has gone out (the server closes the response after
            # sending it): also an eager task (embedded mode) cannot delay the answer.
            queued = form.queued
            response._resource_closers.append(lambda: _queue_reset_mail(**queued))
        return response


class LocalizedPasswordResetForm(PasswordResetForm):
    """Each account's reset mail in that user's language (their setting, else their browser's)."""

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        with translation.override(language_for(context["user"])):
            super().send_mail(subject_template_name, email_template_name, context, from_email, to_email,
                              html_email_template_name)


def password_reset_mail(*, email: str, domain: str, use_https: bool) -> None:
    """Mails the reset link to the active accounts with this address (none: nothing)."""
    form = LocalizedPasswordResetForm({"email": email})
    if form.is_valid():
        form.save(domain_override=domain, use_https=use_https,
                  subject_template_name="registration/password_reset_subject.txt",
                  email_template_name="registration/password_reset_email.html")


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict | None = None) -> HttpResponse:
    """The answer to a locked-out sign-in, on the site or the admin: what happened, for how long."""
    minutes = round(settings.AXES_COOLOFF_TIME * 60)
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
