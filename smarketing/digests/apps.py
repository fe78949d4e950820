from django.apps import AppConfig


class DigestsConfig(AppConfig):
    name = "smarketing.digests"
    label = "digests"
