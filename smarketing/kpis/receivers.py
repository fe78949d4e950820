"""Ingest says which days changed; the facts of those days are marked and recomputed on commit,
and a change to what the query reads live (targets, names) moves `FactsState.version`."""

from __future__ import annotations

from django.db import transaction

from .services import LIVE_RESOURCES, dirty_mark, live_records_announce, live_records_changed


def records_changed_receiver(sender, *, resource: str, days, contact_ids=None, days_by_field=None,
                             **kwargs) -> None:
    if resource in LIVE_RESOURCES:
        live_records_changed()
        # What judges with them (alert rules) judges again, after the commit.
        live_records_announce(resource=resource)
    if dirty_mark(resource=resource, days=days or (), contact_ids=contact_ids, days_by_field=days_by_field):
        from smarketing.celery import task_send

        from .tasks import facts_recompute_days

        # The marks commit with the write; a broker that is down delays the recompute (the
        # beat sweep finds the marks) but never fails a write that is already committed.
        transaction.on_commit(lambda: task_send(facts_recompute_days))
