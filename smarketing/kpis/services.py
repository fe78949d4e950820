"""Writes to the facts: rebuild days (or everything), mark days dirty, work off the dirty days.

Every rebuild runs in one transaction under one lock (a PostgreSQL advisory lock; SQLite
serializes writers by itself), so two recomputes of the same days never interleave their
deletes and inserts: readers see the old facts or the new ones, never a gap or a double.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from smarketing.funnel import models as funnel
from smarketing.funnel.db import bound_cursor, tables_analyze
from smarketing.kpis.models import DirtyDay, Fact, FactsState

from .facts import (
    FACT_TABLES,
    LAG_FAMILIES,
    RECORD_MODELS,
    families,
    families_rebuild,
    rebuild_everything_fresh,
)
from .signals import facts_recomputed, live_records_written

logger = logging.getLogger("smarketing.kpis")

FACTS_LOCK_ID = 741_852_963  # pg_advisory_xact_lock key of the facts recompute
# A recompute sorts and groups a million records at once (and a full one indexes millions of
# facts): PostgreSQL's default 4 MB per sort sends them to disk. One recompute runs at a time
# (the lock), so this is spent once.
RECOMPUTE_WORK_MEM = "256MB"
# The daily facts and their sums (facts.FACT_TABLES): rebuilt, emptied, vacuumed and analysed together.
FACT_TABLE_LIST = ", ".join(model._meta.db_table for model in FACT_TABLES.values())

CONTACT_FAMILIES = (
    "contacts_lead", "contacts_nurture", "contacts_mql", "contacts_demo", "contacts_sql",
    "contacts_opportunity", "contacts_customer", "contacts_churned", "contacts_disqualified", "mql_rejections",
    "content_assist", "sla", *LAG_FAMILIES,
)
DEAL_FAMILIES = ("deals_closed", "deals_opened", "deals_left_open", "lifetime_value", "attribution")
RESOURCE_FAMILIES: dict[str, tuple[str, ...]] = {
    # A deal's channel and campaign come from its contact, so contacts touch the deal facts too.
    "contacts": (*CONTACT_FAMILIES, *DEAL_FAMILIES, "accounts"),
    "deals": DEAL_FAMILIES,
    "activities": ("activities", "sla", "sla_lags"),
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
    # Names and targets are read live by the query: nothing to recompute (`LIVE_RESOURCES`).
    "campaigns": (),
    "team_members": (),
    "targets": (),
}
LIVE_RESOURCES = tuple(name for name, families in RESOURCE_FAMILIES.items() if not families)
CONTACT_RESOURCES = ("contacts", "deals", "activities", "touches")


@dataclass(frozen=True)
class RebuildResult:
    families: int
    days: int | None  # None: every day
    seconds: float  # in all, the vacuum after the commit included
    visible_seconds: float  # until the commit: when readers see the new facts


def _lock(*, wait: bool = True) -> bool:
    """The recompute's lock for this transaction, and its sort memory; `wait=False`: only if
    free (True when held)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FACTS_LOCK_ID])
        else:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [FACTS_LOCK_ID])
            if not cursor.fetchone()[0]:
                return False
        cursor.execute(f"SET LOCAL work_mem = '{RECOMPUTE_WORK_MEM}'")
        cursor.execute(f"SET LOCAL maintenance_work_mem = '{RECOMPUTE_WORK_MEM}'")
    return True


def _maintain(*, analyse: bool) -> None:
    """After a rebuild's commit (PostgreSQL): the visibility map kept fresh so the queries'
    index-only scans need not visit the tables (only the pages a rebuild touched are visited),
    and after millions of fresh rows the planner's statistics. VACUUM cannot run in a
    transaction: inside one only the statistics are taken."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if not connection.in_atomic_block:
            cursor.execute(f"VACUUM {'(ANALYZE) ' if analyse else ''}{FACT_TABLE_LIST}")
        elif analyse:
            cursor.execute(f"ANALYZE {FACT_TABLE_LIST}")


def _statistics_ensure() -> None:
    """PostgreSQL: ANALYZE the record and fact tables the planner has never analysed, before a
    rebuild plans its statements on them. A restored dump, or a server whose autovacuum is off or
    lagging, has none, and a rebuild planned blind costs more (one new day at 1M contacts: 2.9 s
    against 2.1 s); the imports analyse what they write, but not every write is an import. One
    catalog read when every table has its statistics."""
    tables_analyze([*RECORD_MODELS.values(), *FACT_TABLES.values()], written=0)


def _state_advance(**fields) -> None:
    """Set `fields` of the one FactsState row and move its version (in the caller's transaction:
    what rolls back moves nothing)."""
    if not FactsState.objects.filter(pk=1).update(version=F("version") + 1, **fields):
        FactsState.objects.create(pk=1, version=1, **fields)


def live_records_changed() -> None:
    """Targets, campaigns or team members changed (what the query reads live: judgements,
    names, the reps listed), or the notes the charts show: every answer cached by
    `selectors.facts_version` is stale."""
    _state_advance()


def live_records_announce(*, resource: str) -> None:
    """Tell the listeners of `live_records_written` (alert rules) that `resource` was written."""
    _send_on_commit(live_records_written, "live_records_written", sender=FactsState, resource=resource)


def _send_on_commit(signal, name: str, **kwargs) -> None:
    """Send `signal` once the caller's writes are committed (at once outside a transaction). A
    listener's failure is logged: it must not fail the write or the recompute before it."""
    def send() -> None:
        for receiver, outcome in signal.send_robust(**kwargs):
            if isinstance(outcome, Exception):
                logger.error("%s listener %r failed", name, receiver, exc_info=outcome)

    transaction.on_commit(send)


def _stamp(*, full: bool, started: dt.datetime) -> None:
    fields = {"facts_as_of": started}
    if full:
        fields["full_rebuild_at"] = started
    _state_advance(**fields)


RECOMPUTE_LAST_KEY = "kpis:recompute-last"


def recompute_last_record(result: RebuildResult) -> None:
    """Keep the last recompute's figures where every process can read them (metrics)."""
    try:
        cache.set(RECOMPUTE_LAST_KEY, {"seconds": result.seconds, "days": result.days,
                                       "at": timezone.now().isoformat()}, timeout=None)
    except Exception:  # a metric must not fail the recompute it describes (e.g. Redis down)
        logger.warning("could not record the recompute's duration", exc_info=True)


def recompute_last() -> dict | None:
    return cache.get(RECOMPUTE_LAST_KEY)


def facts_rebuild(*, days: Iterable[dt.date] | None = None, family_names: Iterable[str] | None = None) -> RebuildResult:
    """Rebuild the facts of `days` (record dates) for the families (default all); days=None = everything."""
    started, clock = timezone.now(), time.monotonic()
    chosen = families()
    if family_names is not None:
        wanted = set(family_names)
        chosen = {name: family for name, family in chosen.items() if name in wanted}
    day_list = None if days is None else sorted(set(days))
    _statistics_ensure()
    with transaction.atomic():
        _lock()
        # The marks this rebuild covers go first: their rows stay locked until the commit, so an
        # ingest marking one again waits and its mark survives, as in facts_recompute_dirty.
        covered = DirtyDay.objects.all()
        if family_names is not None:
            covered = covered.filter(family__in=list(chosen))
        if day_list is not None:
            covered = covered.filter(day__in=day_list)
        covered.delete()
        everything = day_list is None and family_names is None
        if everything and connection.vendor == "postgresql":
            rebuild_everything_fresh(chosen.values())
        else:
            if everything:
                for model in FACT_TABLES.values():
                    model.objects.all().delete()
            families_rebuild((family, day_list) for family in chosen.values())
        _stamp(full=everything, started=started)
    visible = time.monotonic() - clock
    if day_list is None:
        _maintain(analyse=True)
    result = RebuildResult(len(chosen), None if day_list is None else len(day_list), time.monotonic() - clock,
                           visible)
    logger.info("facts rebuilt: %s families, %s days in %.2f s (visible after %.2f s)", result.families,
                "all" if result.days is None else result.days, result.seconds, result.visible_seconds)
    _announce(families=sorted(chosen), days=day_list)
    return result


def _announce(*, families: list[str], days: list[dt.date] | None) -> None:
    """Tell listeners (alert rules) which facts changed, once the rebuild is visible to others."""
    if not families or days == []:
        return
    _send_on_commit(facts_recomputed, "facts_recomputed", sender=RebuildResult, families=families, days=days)


def facts_sweep(*, older_than: dt.timedelta) -> RebuildResult | None:
    """Rebuild the dirty days when a mark is `older_than` old and no recompute is running.

    A recompute is sent after every write, but its message can be lost to a worker killed
    mid-run (Redis gives it back only after the visibility timeout) or to a broker that was
    down when the write committed: the marks are in the database, and this finds them.
    Returns None when there was nothing to do or another recompute holds the lock.
    """
    if not DirtyDay.objects.filter(marked_at__lt=timezone.now() - older_than).exists():
        return None
    return facts_recompute_dirty(wait=False)


def facts_recompute_dirty(*, wait: bool = True) -> RebuildResult | None:
    """Rebuild every day marked dirty, and clear the marks, in one transaction (`wait=False`:
    None at once when another recompute holds the lock).

    The marks are locked (FOR UPDATE) before the records are read: an ingest that marks one
    of them again waits, and its mark survives for the next run. Marks an ingest holds right
    now are skipped, never waited for (SKIP LOCKED): that ingest sends its own recompute when
    it commits, and a recompute that waited on it while holding other marks could deadlock
    with it.
    """
    started, clock = timezone.now(), time.monotonic()
    _statistics_ensure()
    with transaction.atomic():
        if not _lock(wait=wait):
            return None
        marks = list(DirtyDay.objects.select_for_update(skip_locked=True).order_by("family", "day").values_list("id", "family", "day"))
        by_family: dict[str, set[dt.date]] = defaultdict(set)
        for _, family, day in marks:
            by_family[family].add(day)
        known = families()
        # An empty store (a new database's first load, a seed) is filled as a full rebuild fills
        # it: every fact is missing anyway, and fresh tables indexed once are faster to fill and
        # leave compact indexes (at 1M contacts 30 % smaller than the same facts inserted day by
        # day, and breakdowns read them 30-40 % faster). It reads every record, a superset of
        # the marked days.
        everything = bool(marks) and connection.vendor == "postgresql" and not Fact.objects.exists()
        if everything:
            rebuild_everything_fresh(known.values())
        else:
            families_rebuild((known[name], days) for name, days in by_family.items() if name in known)
        DirtyDay.objects.filter(id__in=[mark[0] for mark in marks]).delete()
        _stamp(full=everything, started=started)
    visible = time.monotonic() - clock
    if marks:
        _maintain(analyse=everything)
    rebuilt = sorted(known) if everything else sorted(name for name in by_family if name in known)
    result = RebuildResult(len(rebuilt), None if everything else len({day for _, _, day in marks}),
                           time.monotonic() - clock, visible)
    _announce(families=rebuilt, days=None if everything else sorted({day for _, _, day in marks}))
    logger.info("dirty facts rebuilt: %s families, %s days in %.2f s (visible after %.2f s)", result.families,
                "all" if result.days is None else result.days, result.seconds, result.visible_seconds)
    return result


def _contact_day_sources() -> dict[str, list[tuple[str, str, tuple[str, ...]]]]:
    """Per kind of change: (FROM clause, contact-id column, date columns) whose days it re-keys."""
    contacts = connection.ops.quote_name(funnel.Contact._meta.db_table)
    deals = connection.ops.quote_name(funnel.Deal._meta.db_table)
    with_referrer = f"{contacts} c LEFT JOIN {contacts} r ON r.id = c.referred_by_id"
    return {
        "mql": [(f"{contacts} c", "c.id", ("c.mql_on",))],
        "touch": [(f"{contacts} c", "c.id", ("c.customer_on",)), (f"{deals} d", "d.contact_id", ("d.closed_on",))],
        "deal": [(with_referrer, "c.id", ("c.customer_on", "r.customer_on"))],
        # The changed contacts' own stage days come with the signal (ingest sends old and new
        # values); the customer day of a contact named only as a referrer it left does not.
        "all": [
            (f"{contacts} c", "c.id", ("c.customer_on",)),
            (f"{contacts} c JOIN {contacts} r ON r.id = c.referred_by_id", "c.id", ("r.customer_on",)),
            (f"{deals} d", "d.contact_id", ("d.created_on", "d.closed_on")),
            (f"{deals} d JOIN {contacts} c ON c.id = d.contact_id", "c.referred_by_id", ("d.closed_on",)),
        ],
    }


def _most_contacts(cursor, count: int) -> bool:
    """Whether `count` distinct contact ids are at least half of every contact, counted exactly.

    Counting stops one row past twice the ids, so it costs what the change named, not what
    the table holds; and no planner statistic takes part (a table PostgreSQL has not analysed
    yet reads as empty, which would turn every small import into a recompute of every day).
    """
    table = connection.ops.quote_name(funnel.Contact._meta.db_table)
    cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT %s) AS head", [2 * count + 1])
    return cursor.fetchone()[0] <= 2 * count


def contact_days(*, contact_ids: Iterable[int], need: str = "all") -> set[dt.date]:
    """The days the facts of these contacts are keyed by, for one kind of change.

    `need`: "mql" (activities: the SLA cohort's MQL day), "touch" (customer days and the
    close days of their deals), "deal" (customer days of the deal's contact and of who
    referred it), or "all" (a contact changed: its deals' days, and the customer days of who
    referred it and the deals of whom it referred; its own stage days are in the signal's
    `days`, old and new, so they are not read again).

    One query per source whatever the number of contacts (an import names a million): the
    ids go as one array (PostgreSQL) or one JSON text (SQLite), and only distinct days
    come back.
    """
    ids = sorted(set(contact_ids))
    out: set[dt.date] = set()
    if not ids:
        return out
    postgres = connection.vendor == "postgresql"
    # The ids go as one bound value: a million separate parameters would not fit a statement.
    param = ids if postgres else json.dumps(ids)
    with bound_cursor() if postgres else connection.cursor() as cursor:
        # Ids of about every contact (a big import) select nothing: the days of all contacts
        # are a superset, read without joining a million ids (recomputing a day more is harmless).
        everyone = postgres and _most_contacts(cursor, len(ids))
        for source, id_column, columns in _contact_day_sources()[need]:
            if postgres:
                only = "" if everyone else f"JOIN unnest(%b::bigint[]) AS ids(id) ON {id_column} = ids.id "
                cursor.execute(
                    f"SELECT DISTINCT v.day FROM {source} {only}"
                    f"CROSS JOIN LATERAL unnest(ARRAY[{', '.join(columns)}]::date[]) AS v(day)",
                    [] if everyone else [param],
                )
            else:
                selects = " UNION ".join(
                    f"SELECT {column} FROM {source} WHERE {id_column} IN (SELECT value FROM json_each(%s))"
                    for column in columns
                )
                cursor.execute(selects, [param] * len(columns))
            # SQLite answers raw SQL with ISO text.
            out.update(dt.date.fromisoformat(day) if isinstance(day, str) else day for (day,) in cursor.fetchall())
    out.discard(None)
    return out


# Which families a contact expansion feeds, per resource (the rest take the sent days only).
EXPANSIONS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "activities": ("mql", ("sla", "sla_lags")),
    "touches": ("touch", ("attribution", "contacts_customer", "content_assist")),
    "deals": ("deal", ("lifetime_value",)),
    "contacts": ("all", None),  # every family of the resource
}


def own_day_field(name: str) -> str:
    """The contact day field (`mql_on`, ...) a contact family is keyed by (its `c.<field>` day column)."""
    column = families()[name].day_column or ""
    alias, _, field = column.partition(".")
    if alias != "c" or not field:
        raise ValueError(f"family {name!r} is not keyed by a contact day column: {column!r}")
    return field


def _contact_fields_of(name: str, *, contacts_known: bool) -> tuple[str, ...] | None:
    """Of a contact change, the contact's own day fields whose days family `name` needs (None:
    every day named). A contact family: the field it is keyed by. A deal family: none, when the
    contacts are known (a deal carries its contact's channel and campaign on the deal's own
    days, which `contact_days` adds); a customer's lifetime value also counts from its
    customer day."""
    if name in CONTACT_FAMILIES:
        return (own_day_field(name),)
    if not contacts_known or name not in DEAL_FAMILIES:
        return None
    return ("customer_on",) if name == "lifetime_value" else ()


def _family_days(name: str, *, resource: str, days: set[dt.date], fields: dict[str, set[dt.date]] | None,
                 expanded: bool) -> tuple[set[dt.date], bool]:
    """The days family `name` takes of a change's own records, and whether it also takes the
    days its contacts name (`contact_days`; `expanded`: the resource's expansion feeds it).

    A contact family reached through known contacts (an activity: the SLA of its contact's MQL
    day) takes only theirs. A family of a contact change with ingest's days per field takes the
    fields it is keyed by (`_contact_fields_of`); a contact family reads no deal and no
    referrer, so none of their days either. Any other takes every day named."""
    if expanded and resource != "contacts" and name in CONTACT_FAMILIES:
        return set(), True
    if resource == "contacts" and fields is not None:
        wanted = _contact_fields_of(name, contacts_known=expanded)
        if wanted is not None:
            return set().union(*(fields.get(field, set()) for field in wanted)), expanded and name not in CONTACT_FAMILIES
    return set(days), expanded


def dirty_mark(*, resource: str, days: Iterable[dt.date], contact_ids: Iterable[int] | None,
               days_by_field: dict[str, Iterable[dt.date]] | None = None) -> int:
    """Mark the days (and the measures' families) a change touched; returns the marks written.

    `days_by_field` (ingest sends it): the same days per day field of the records (`lead_on`:
    the old and new lead days, ...). A family of a contact change then marks only the days it
    is keyed by (`_family_days`): a lead that became an MQL today changes the facts of its
    lead day and of today's MQLs, not the SQL or SLA facts of its lead day, nor its deals'
    facts of either day. Without it, every family takes every day. A change to the records of
    known contacts (activities, touches) marks the contact families it reaches on the days of
    those contacts only (the SLA on their MQL days), not on the records' own days."""
    names = RESOURCE_FAMILIES.get(resource)
    day_set = {day for day in days if day is not None}
    # Unknown contacts of a contact-bearing resource can sit in any family's cohort; records
    # without contacts (web traffic, spend, ...) always send None and feed only their own.
    if names is None or (contact_ids is None and resource in CONTACT_RESOURCES):
        names = tuple(families())
    fields = None if days_by_field is None else {
        field: {day for day in field_days if day is not None} for field, field_days in days_by_field.items()}
    need, fed = EXPANSIONS.get(resource, (None, ()))
    fed_names = set(fed or names) if contact_ids is not None and need is not None else set()
    per_family, expand = {}, []
    for name in names:
        per_family[name], takes_contacts = _family_days(name, resource=resource, days=day_set, fields=fields,
                                                        expanded=name in fed_names)
        if takes_contacts:
            expand.append(name)
    if expand:
        extra = contact_days(contact_ids=contact_ids, need=need)
        for name in expand:
            per_family[name] |= extra
    now = timezone.now()
    pairs = [(day, name) for name in sorted(per_family) for day in sorted(per_family[name])]
    if not pairs:
        return 0
    if connection.vendor == "postgresql":
        # A big import marks every family on every day (tens of thousands of marks): one
        # statement over two arrays instead of the ORM's per-object work.
        table = connection.ops.quote_name(DirtyDay._meta.db_table)
        with bound_cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (day, family, marked_at) "
                f"SELECT day, family, %s FROM unnest(%s::date[], %s::text[]) AS marks(day, family) "
                f"ON CONFLICT (day, family) DO UPDATE SET marked_at = EXCLUDED.marked_at",
                [now, [day for day, _ in pairs], [name for _, name in pairs]],
            )
    else:
        DirtyDay.objects.bulk_create([DirtyDay(day=day, family=name, marked_at=now) for day, name in pairs],
                                     batch_size=2000, update_conflicts=True,
                                     unique_fields=["day", "family"], update_fields=["marked_at"])
    return len(pairs)
