"""Writes to the facts: rebuild days (or everything), mark days dirty, work off the dirty days.

Every rebuild runs in one transaction under one lock (a PostgreSQL advisory lock; SQLite
serializes writers by itself), so two recomputes of the same days never interleave their
deletes and inserts: readers see the old facts or the new ones, never a gap or a double.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from smarketing.funnel import models as funnel
from smarketing.kpis.models import DirtyDay, Fact, FactsState

from .facts import families, family_rebuild

logger = logging.getLogger("smarketing.kpis")

FACTS_LOCK_ID = 741_852_963  # pg_advisory_xact_lock key of the facts recompute

CONTACT_FAMILIES = (
    "contacts_lead", "contacts_nurture", "contacts_mql", "contacts_demo", "contacts_sql",
    "contacts_opportunity", "contacts_customer", "contacts_churned", "content_assist", "sla",
)
DEAL_FAMILIES = ("deals_closed", "deals_opened", "deals_left_open", "lifetime_value", "attribution")
RESOURCE_FAMILIES: dict[str, tuple[str, ...]] = {
    # A deal's channel and campaign come from its contact, so contacts touch the deal facts too.
    "contacts": (*CONTACT_FAMILIES, *DEAL_FAMILIES, "accounts"),
    "deals": DEAL_FAMILIES,
    "activities": ("activities", "sla"),
    "touches": ("attribution", "contacts_customer", "content_assist"),
    "web_traffic": ("web_traffic",),
    "cta_stats": ("cta_stats",),
    "landing_pages": ("landing_pages",),
    "email_sends": ("email_sends",),
    "audience": ("audience",),
    "social_stats": ("social_stats",),
    "spend": ("spend",),
    "webinars": ("webinars",),
    "direct_mail": ("direct_mail",),
    "content": ("content",),
    "feature_usage": ("feature_flows", "feature_stock"),
    "target_accounts": ("accounts",),
    # Names and targets are read live by the query: nothing to recompute.
    "campaigns": (),
    "team_members": (),
    "targets": (),
}
CONTACT_RESOURCES = ("contacts", "deals", "activities", "touches")
CONTACT_DATE_FIELDS = tuple(f"{stage}_on" for stage in funnel.Contact.LOCAL_DATE_FIELDS)


@dataclass(frozen=True)
class RebuildResult:
    families: int
    days: int | None  # None: every day
    seconds: float


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FACTS_LOCK_ID])


def _stamp(*, full: bool, started: dt.datetime) -> None:
    defaults = {"facts_as_of": started}
    if full:
        defaults["full_rebuild_at"] = started
    FactsState.objects.update_or_create(pk=1, defaults=defaults)


def facts_rebuild(*, days: Iterable[dt.date] | None = None, family_names: Iterable[str] | None = None) -> RebuildResult:
    """Rebuild the facts of `days` (record dates) for the families (default all); days=None = everything."""
    started, clock = timezone.now(), time.monotonic()
    chosen = families()
    if family_names is not None:
        wanted = set(family_names)
        chosen = {name: family for name, family in chosen.items() if name in wanted}
    day_list = None if days is None else sorted(set(days))
    with transaction.atomic():
        _lock()
        if day_list is None and family_names is None:
            Fact.objects.all().delete()
        for family in chosen.values():
            family_rebuild(family=family, days=day_list)
        _stamp(full=day_list is None and family_names is None, started=started)
    if day_list is None and connection.vendor == "postgresql":
        # Millions of fresh rows: statistics for the planner, and a visibility map so the
        # query's index-only scans need not visit the table (VACUUM cannot run in a transaction).
        with connection.cursor() as cursor:
            verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            cursor.execute(f"{verb} {Fact._meta.db_table}")
    result = RebuildResult(len(chosen), None if day_list is None else len(day_list), time.monotonic() - clock)
    logger.info("facts rebuilt: %s families, %s days in %.2f s", result.families,
                "all" if result.days is None else result.days, result.seconds)
    return result


def facts_recompute_dirty() -> RebuildResult:
    """Rebuild every day marked dirty, and clear the marks, in one transaction.

    The marks are locked (FOR UPDATE) before the records are read: an ingest that marks one
    of them again waits, and its mark survives for the next run.
    """
    started, clock = timezone.now(), time.monotonic()
    with transaction.atomic():
        _lock()
        marks = list(DirtyDay.objects.select_for_update().order_by("family", "day").values_list("id", "family", "day"))
        by_family: dict[str, set[dt.date]] = defaultdict(set)
        for _, family, day in marks:
            by_family[family].add(day)
        known = families()
        for name, days in by_family.items():
            if name in known:
                family_rebuild(family=known[name], days=days)
        DirtyDay.objects.filter(id__in=[mark[0] for mark in marks]).delete()
        _stamp(full=False, started=started)
    result = RebuildResult(len(by_family), len({day for _, _, day in marks}), time.monotonic() - clock)
    logger.info("dirty facts rebuilt: %s families, %s days in %.2f s", result.families, result.days, result.seconds)
    return result


def _chunks(values: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def contact_days(*, contact_ids: Iterable[int]) -> set[dt.date]:
    """Every day a fact of these contacts is keyed by: their stage days, their deals' days,
    and the customer days of who referred them and the deals of whom they referred."""
    ids = sorted(set(contact_ids))
    out: set[dt.date] = set()
    size = 20_000 if connection.vendor == "postgresql" else 500
    for chunk in _chunks(ids, size):
        for row in funnel.Contact.objects.filter(Q(pk__in=chunk) | Q(referrals__in=chunk)).values_list(
                *CONTACT_DATE_FIELDS).distinct():
            out.update(row)
        for row in funnel.Deal.objects.filter(Q(contact__in=chunk) | Q(contact__referred_by__in=chunk)).values_list(
                "created_on", "closed_on").distinct():
            out.update(row)
    out.discard(None)
    return out


def dirty_mark(*, resource: str, days: Iterable[dt.date], contact_ids: Iterable[int] | None) -> int:
    """Mark the days (and the measures' families) a change touched; returns the marks written."""
    names = RESOURCE_FAMILIES.get(resource)
    day_set = {day for day in days if day is not None}
    # Unknown contacts of a contact-bearing resource can sit in any family's cohort; records
    # without contacts (web traffic, spend, ...) always send None and feed only their own.
    if names is None or (contact_ids is None and resource in CONTACT_RESOURCES):
        names = tuple(families())
    if contact_ids is not None and resource in CONTACT_RESOURCES:
        day_set |= contact_days(contact_ids=contact_ids)
    if not names or not day_set:
        return 0
    now = timezone.now()
    marks = [DirtyDay(day=day, family=name, marked_at=now) for name in sorted(names) for day in sorted(day_set)]
    DirtyDay.objects.bulk_create(marks, batch_size=2000, update_conflicts=True,
                                 unique_fields=["day", "family"], update_fields=["marked_at"])
    return len(marks)
