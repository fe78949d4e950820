"""`/data/`: the import page of data managers and the CSV templates."""

from django.urls import path

from smarketing.funnel import views

app_name = "funnel"
urlpatterns = [
    path("upload/", views.upload, name="upload"),
    path("upload/mapping-preview/", views.mapping_preview, name="mapping_preview"),
    path("history/", views.history, name="history"),
    path("jobs/<int:pk>/", views.job, name="job"),
    path("jobs/<int:pk>/confirm/", views.job_confirm, name="job_confirm"),
    path("jobs/<int:pk>/status/", views.job_status, name="job_status"),
    path("templates/<str:resource>.csv", views.csv_template, name="template"),
    path("examples/<str:resource>.csv", views.csv_example, name="example"),
]
