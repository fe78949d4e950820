from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "smarketing.dashboards"
    label = "dashboards"
