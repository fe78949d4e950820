"""API routes: resources (funnel records) and KPIs, plus the OpenAPI schema and docs."""

from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .attention import AttentionView
from .boards import BoardDetailView, BoardListView
from .me import MeView

urlpatterns = [
    path("v1/kpis/", include("smarketing.api.kpi_urls")),
    path("v1/attention/", AttentionView.as_view(), name="api-attention"),
    path("v1/me/", MeView.as_view(), name="api-me"),
    path("v1/alerts/", include("smarketing.alerts.api_urls")),
    path("v1/boards/", BoardListView.as_view(), name="api-boards"),
    path("v1/boards/<int:pk>/", BoardDetailView.as_view(), name="api-board"),
    path("v1/", include("smarketing.api.resource_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Signed out, the docs page sends a browser to sign in. The split view serves its start-up
    # script as a file, so the Content-Security-Policy needs no inline script.
    path("docs/", login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
]
