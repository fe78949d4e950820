"""API routes: resources (funnel records) and KPIs, plus the OpenAPI schema and docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("v1/kpis/", include("smarketing.api.kpi_urls")),
    path("v1/alerts/", include("smarketing.alerts.api_urls")),
    path("v1/", include("smarketing.api.resource_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
