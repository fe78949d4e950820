from django.urls import path

from smarketing.dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("", views.home, name="home"),
    path("sla/", views.sla, name="sla"),
    # Before the dashboard route: "notes" is not a dashboard key.
    path("dashboards/notes/", views.annotations, name="annotations"),
    path("dashboards/notes/<int:pk>/", views.annotation_change, name="annotation_change"),
    path("dashboards/<slug:key>/", views.dashboard, name="dashboard"),
    path("dashboards/<slug:key>/tables/<slug:panel>.<str:fmt>", views.panel_table, name="panel_table"),
    path("metrics/<slug:metric>/records/", views.records, name="records"),
    path("metrics/<slug:metric>/records.csv", views.records_csv, name="records_csv"),
]
