from django.urls import path

from smarketing.alerts import views

app_name = "alerts"
urlpatterns = [
    path("", views.rules_page, name="rules"),
    path("destinations/<int:pk>/test/", views.destination_test_view, name="destination_test"),
]
