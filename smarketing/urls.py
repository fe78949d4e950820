"""Top-level URL map: each app owns its own prefix."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic.base import RedirectView

urlpatterns = [
    # Browsers ask for /favicon.ico on pages without a <link rel="icon"> (API, admin).
    path("favicon.ico", RedirectView.as_view(url="/static/img/favicon.svg", permanent=True)),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("smarketing.api.urls")),
    path("data/", include("smarketing.funnel.urls")),
    path("digests/", include("smarketing.digests.urls")),
    path("", include("smarketing.dashboards.urls")),
]
