"""After every recompute: judge the rules whose metric's days it touched (kpis sends, alerts listens)."""

from __future__ import annotations

from .services import rules_evaluate


def facts_recomputed_receiver(sender, *, families, days, **kwargs) -> None:
    rules_evaluate(families_changed=families, days=days)
