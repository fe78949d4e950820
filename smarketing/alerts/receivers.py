"""After every recompute: judge the rules whose metric's days it touched (kpis sends, alerts listens);
after targets, campaigns or reps are written: judge every rule, in a task."""

from __future__ import annotations

from .services import rules_evaluate


def facts_recomputed_receiver(sender, *, families, days, **kwargs) -> None:
    rules_evaluate(families_changed=families, days=days)


def live_records_written_receiver(sender, *, resource: str, **kwargs) -> None:
    from smarketing.celery import task_send

    from .tasks import alerts_after_live_records

    # A task: the writer's request does not wait. With the broker down the next recompute
    # judges the rules anyway.
    task_send(alerts_after_live_records)
