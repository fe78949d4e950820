from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "smarketing.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from smarketing.kpis.signals import facts_recomputed, live_records_written

        from .receivers import facts_recomputed_receiver, live_records_written_receiver

        facts_recomputed.connect(facts_recomputed_receiver, dispatch_uid="alerts.facts_recomputed")
        live_records_written.connect(live_records_written_receiver, dispatch_uid="alerts.live_records_written")
