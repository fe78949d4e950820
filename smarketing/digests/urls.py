from django.urls import path

from smarketing.digests import views

app_name = "digests"
urlpatterns = [
    path("settings/", views.settings_page, name="settings"),
    path("preview/", views.preview, name="preview"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
