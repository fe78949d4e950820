from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "smarketing.kpis"
    label = "kpis"

    def ready(self) -> None:
        from smarketing.funnel.signals import records_changed

        from .receivers import records_changed_receiver

        records_changed.connect(records_changed_receiver, dispatch_uid="kpis.records_changed")
        _install_target_check()


def _install_target_check() -> None:
    """Give ingest's target validation the real metric keys (funnel cannot import kpis)."""
    from smarketing.funnel.schemas import metric_key_validator_set

    from .registry import target_key_valid

    metric_key_validator_set(target_key_valid)
