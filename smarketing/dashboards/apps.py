from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "smarketing.dashboards"
    label = "dashboards"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .annotations import annotations_changed
        from .models import Annotation

        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(annotations_changed, sender=Annotation, dispatch_uid=f"dashboards.annotation_{name}")
