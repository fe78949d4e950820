"""Ingest says which days changed; the facts of those days are marked and recomputed on commit."""

from __future__ import annotations

from django.db import transaction

from .services import dirty_mark


def records_changed_receiver(sender, *, resource: str, days, contact_ids=None, **kwargs) -> None:
    if dirty_mark(resource=resource, days=days or (), contact_ids=contact_ids):
        from .tasks import facts_recompute_days

        transaction.on_commit(facts_recompute_days.delay)
