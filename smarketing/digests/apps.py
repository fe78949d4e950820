from django.apps import AppConfig


class DigestsConfig(AppConfig):
    name = "smarketing.digests"
    label = "digests"
    verbose_name = "Email digests"

    def ready(self) -> None:
        from smarketing.digests import signals  # noqa: F401
