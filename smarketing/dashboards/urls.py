from django.urls import path

from smarketing.dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("", views.home, name="home"),
    path("sla/", views.sla, name="sla"),
    path("dashboards/<slug:key>/", views.dashboard, name="dashboard"),
    path("metrics/<slug:metric>/records/", views.records, name="records"),
    path("metrics/<slug:metric>/records.csv", views.records_csv, name="records_csv"),
]
