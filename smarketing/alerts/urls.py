from django.urls import path

from smarketing.alerts import views

app_name = "alerts"
urlpatterns = [
    path("", views.rules_page, name="rules"),
    path("rules/<int:pk>/", views.rule_action_view, name="rule_action"),
    path("destinations/<int:pk>/test/", views.destination_test_view, name="destination_test"),
]
