"""/api/v1/kpis/ routes (the KPI query)."""

from django.urls import path

from .kpis import KpiView

urlpatterns = [path("", KpiView.as_view(), name="api-kpis")]
