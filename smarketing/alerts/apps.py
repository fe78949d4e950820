from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "smarketing.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from smarketing.kpis.signals import facts_recomputed

        from .receivers import facts_recomputed_receiver

        facts_recomputed.connect(facts_recomputed_receiver, dispatch_uid="alerts.facts_recomputed")
