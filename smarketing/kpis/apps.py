from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "smarketing.kpis"
    label = "kpis"
