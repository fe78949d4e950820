from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "smarketing.ops"
    label = "ops"
    verbose_name = "Operations"
