"""Top-level URL map: each app owns its own prefix."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic.base import RedirectView
from django.views.i18n import JavaScriptCatalog

from smarketing.ops.auth import ThrottledPasswordResetView

urlpatterns = [
    # Browsers ask for /favicon.ico on pages without a <link rel="icon"> (API, admin).
    path("favicon.ico", RedirectView.as_view(url="/static/img/favicon.svg", permanent=True)),
    path("admin/", admin.site.urls),
    # The translations the static scripts read (gettext() in static/js), in the request's language.
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    # Django's own view, told how long a reset link lasts so the page can say so.
    # The reset mail is rate-limited and sent by a task (smarketing.ops.auth).
    path("accounts/password_reset/", ThrottledPasswordResetView.as_view(), name="password_reset"),
    path("accounts/password_reset/done/", auth_views.PasswordResetDoneView.as_view(
        extra_context={"reset_days": settings.PASSWORD_RESET_TIMEOUT // 86400}), name="password_reset_done"),
    path("accounts/", include("smarketing.accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("smarketing.api.urls")),
    path("", include("smarketing.ops.urls")),
    path("data/", include("smarketing.funnel.urls")),
    path("digests/", include("smarketing.digests.urls")),
    path("alerts/", include("smarketing.alerts.urls")),
    path("", include("smarketing.dashboards.urls")),
]
