from django.urls import path

from smarketing.dashboards import board_views, views

app_name = "dashboards"
urlpatterns = [
    path("", views.home, name="home"),
    path("sla/", views.sla, name="sla"),
    # Before the dashboard route: "notes" is not a dashboard key.
    path("dashboards/notes/", views.annotations, name="annotations"),
    path("dashboards/notes/<int:pk>/", views.annotation_change, name="annotation_change"),
    path("dashboards/<slug:key>/", views.dashboard, name="dashboard"),
    path("dashboards/<slug:key>/duplicate/", board_views.dashboard_copy, name="dashboard_copy"),
    path("dashboards/<slug:key>/views/", board_views.view_save, name="view_save"),
    path("boards/new/", board_views.board_new, name="board_new"),
    path("boards/import/", board_views.board_import, name="board_import"),
    path("boards/<int:pk>/", board_views.board, name="board"),
    path("boards/<int:pk>/edit/", board_views.board_edit, name="board_edit"),
    path("boards/<int:pk>/duplicate/", board_views.board_copy, name="board_copy"),
    path("boards/<int:pk>/export.json", board_views.board_export, name="board_export"),
    path("views/<int:pk>/", board_views.view_change, name="view_change"),
    path("views/<slug:token>/", board_views.view_link, name="view_link"),
    path("dashboards/<slug:key>/tables/<slug:panel>.<str:fmt>", views.panel_table, name="panel_table"),
    path("metrics/<slug:metric>/records/", views.records, name="records"),
    path("metrics/<slug:metric>/records.csv", views.records_csv, name="records_csv"),
]
