"""Writes to funnel records: validated, set-based upserts and deletes, one transaction each.

`records_upsert` takes rows of any resource (dicts of column: value, as CSV or JSON gives
them), validates them through `funnel.schemas`, resolves references per batch with one
query per reference column, and upserts by key (`INSERT … ON CONFLICT … DO UPDATE` on
PostgreSQL and SQLite). Any invalid row means nothing is written. After a write the
`records_changed` signal carries every touched local day (old and new values) to `kpis`.
"""

from __future__ import annotations

import datetime as dt
import gc
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from typing import Any

from django.db import connection, transaction
from django.db import models as djm
from django.db.models import Q
from django.db.models.base import ModelState

from smarketing.funnel import models as m
from smarketing.funnel.db import bound_cursor
from smarketing.funnel.schemas import RESOURCES, Resource, resource_get, row_validate
from smarketing.funnel.selectors import records_filter_by_key
from smarketing.funnel.signals import records_changed

CHUNK_ROWS = 10_000
MAX_ERRORS = 1000
# Above this many contacts a change is reported as "all contacts" (None) instead of a list.
CONTACT_IDS_LIMIT = 2_000_000
IN_BATCH = 5000


@dataclass(frozen=True)
class BadRow:
    """A row the reader could not turn into columns (wrong cell count, bad encoding)."""

    field: str
    message: str


@dataclass
class UpsertResult:
    resource: str
    created: int = 0
    updated: int = 0
    rows: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class _Plan:
    """How one resource's validated rows become model rows; derived from its schema."""

    resource: Resource
    # (column, attname, value when the cell is empty but the model column is not nullable)
    assign: tuple[tuple[str, str, Any], ...]
    key_attnames: tuple[str, ...]
    update_fields: tuple[str, ...]
    day_fields: tuple[str, ...]
    contact_attname: str | None
    partial_key: bool
    # Every concrete field's default, so a row can be built without Model.__init__.
    blank: tuple[tuple[str, Any], ...]
    # (`<name>_at`, `<name>_on`) attnames of the model's LOCAL_DATE_FIELDS.
    local_pairs: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, resource: Resource) -> _Plan:
        meta = resource.model._meta
        assign = []
        for column in resource.columns:
            model_field = meta.get_field(resource.field_name(column))
            empty = None
            if not model_field.null and model_field.has_default():
                empty = model_field.get_default()
            assign.append((column, model_field.attname, empty))
        key_attnames = tuple(meta.get_field(resource.field_name(c)).attname for c in resource.key)
        local = tuple(f"{name}_on" for name in getattr(resource.model, "LOCAL_DATE_FIELDS", ()))
        derived = local + (("email_domain",) if resource.model is m.Contact else ())
        updates = tuple(
            meta.get_field(resource.field_name(c)).name for c in resource.columns if c not in resource.key
        ) + derived
        has_date = any(f.name == "date" for f in meta.concrete_fields)
        # Contacts, and the records of a contact (deals, activities, touches), name contacts to kpis.
        if resource.model is m.Contact:
            contact = "id"
        elif any(f.name == "contact" for f in meta.concrete_fields):
            contact = "contact_id"
        else:
            contact = None
        return cls(
            resource=resource,
            assign=tuple(assign),
            key_attnames=key_attnames,
            update_fields=updates,
            day_fields=local + (("date",) if has_date else ()),
            contact_attname=contact,
            # A team-wide target's key has a NULL owner: partial unique indexes, no ON CONFLICT target.
            partial_key=resource.model is m.Target,
            blank=tuple(
                (f.attname, f.get_default() if f.has_default() else None) for f in meta.concrete_fields
            ),
            local_pairs=tuple(
                (f"{name}_at", f"{name}_on") for name in getattr(resource.model, "LOCAL_DATE_FIELDS", ())
            ),
        )


PLANS: dict[str, _Plan] = {}


def plan_get(resource: Resource) -> _Plan:
    plan = PLANS.get(resource.name)
    if plan is None:
        plan = PLANS[resource.name] = _Plan.of(resource)
    return plan


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _lookup(model: type[djm.Model], field_name: str, values: set[Any]) -> dict[Any, int]:
    """{value: pk} for stored records whose `field_name` is one of `values`."""
    found: dict[Any, int] = {}
    if connection.vendor == "postgresql":
        # One array parameter instead of thousands of placeholders.
        meta = model._meta
        with bound_cursor() as cursor:
            cursor.execute(
                f"SELECT {connection.ops.quote_name(meta.get_field(field_name).column)}, id "
                f"FROM {connection.ops.quote_name(meta.db_table)} "
                f"WHERE {connection.ops.quote_name(meta.get_field(field_name).column)} = ANY(%s)",
                [list(values)],
            )
            return dict(cursor.fetchall())
    for batch in _batched(values, IN_BATCH):
        found.update(model.objects.filter(**{f"{field_name}__in": batch}).values_list(field_name, "pk"))
    return found


def _key_lookup(resource: Resource) -> str:
    """The unique column other resources name a record of `resource` by."""
    return resource.key[0]


@dataclass
class _Parsed:
    rows: list[tuple[int, dict[str, Any], djm.Model]] = field(default_factory=list)
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    count: int = 0
    # The reader filled the chunk: more rows may follow.
    full_chunk: bool = False


class _Upsert:
    """One resource's rows flowing through validation and writing, chunk by chunk."""

    def __init__(self, resource: Resource) -> None:
        self.resource = resource
        self.plan = plan_get(resource)
        self.result = UpsertResult(resource=resource.name)
        self.seen: dict[Any, int] = {}
        self.days: set[dt.date] = set()
        self.contact_ids: set[int] | None = set() if self.plan.contact_attname else None
        # Self references (referred_by) to a record not stored yet: (row, own key, referenced key).
        self.pending_self: list[tuple[int, Any, Any]] = []
        self.self_refs = [c for c in resource.refs if resource.col(c).ref == resource.name]
        self.inserted = 0
        # PostgreSQL type oids of the staged columns, read once per import.
        self.copy_types: list[int] | None = None

    @property
    def full(self) -> bool:
        return len(self.result.errors) >= MAX_ERRORS

    def error(self, row: int, field_name: str, message: str) -> None:
        if not self.full:
            self.result.errors.append({"row": row, "field": field_name, "message": message})

    def parse(self, numbered: list[tuple[int, Any]]) -> _Parsed:
        """Validate a chunk and build its model rows (no database access)."""
        resource = self.resource
        plan = self.plan
        model = resource.model
        # Columns whose model attribute has another name or an empty-cell default.
        moved = [(c, a, e) for c, a, e in plan.assign if c != a or e is not None]
        blank = dict(plan.blank)
        # What fill_local_dates (and Contact's email_domain) would set, computed from the state
        # directly: bulk writes skip save(), which is what fills them otherwise.
        local_pairs = plan.local_pairs
        domain = model is m.Contact
        email_domain = m.email_domain
        local_date = m.local_date
        tz = m.company_tz()
        new = model.__new__
        parsed = _Parsed()
        append = parsed.rows.append
        for number, raw in numbered:
            if not isinstance(raw, dict):
                if isinstance(raw, BadRow):
                    parsed.errors.append((number, raw.field, raw.message))
                else:
                    parsed.errors.append((number, "", "each row must be an object of column: value pairs"))
                continue
            values, problems = row_validate(resource, raw)
            if problems:
                parsed.errors.extend((number, f, message) for f, message in problems)
                continue
            # Model.__init__ costs more than validating the row; the fields are already clean.
            obj = new(model)
            state = obj.__dict__
            state.update(blank)
            state.update(values)
            for column, attname, empty in moved:
                value = state.pop(column) if column != attname else state[column]
                state[attname] = empty if value is None and empty is not None else value
            obj._state = ModelState()
            for at, on in local_pairs:
                value = state[at]
                state[on] = None if value is None else local_date(value, tz)
            if domain:
                state["email_domain"] = email_domain(state["email"])
            append((number, values, obj))
        parsed.count = len(numbered)
        return parsed

    def accept(self, parsed: _Parsed) -> None:
        """Duplicate keys, references (one query per reference column), then the write."""
        self.result.rows += parsed.count
        for number, field_name, message in parsed.errors:
            self.error(number, field_name, message)
        key_columns = self.resource.key
        single = key_columns[0] if len(key_columns) == 1 else None
        unique = []
        for number, values, obj in parsed.rows:
            # A bare value, not a 1-tuple, for single-column keys: this dict holds every key of a
            # file (3 million activities) and is most of an import's memory.
            key = values[single] if single else tuple(values[c] for c in key_columns)
            earlier = self.seen.get(key)
            if earlier is not None:
                self.error(number, ",".join(key_columns), f"duplicate key: the same record as row {earlier}")
                continue
            self.seen[key] = number
            unique.append((number, values, obj))
        resolved = self._resolve(unique)
        if self.result.errors:
            return
        self._write([obj for _, _, obj in resolved])

    def feed(self, numbered: list[tuple[int, Any]]) -> None:
        self.accept(self.parse(numbered))

    def _resolve(self, rows: list[tuple[int, dict[str, Any], djm.Model]]) -> list[tuple[int, dict[str, Any], djm.Model]]:
        """Replace each reference by the referenced pk (one query per reference column)."""
        resource = self.resource
        out = rows
        for column in resource.refs:
            col = resource.col(column)
            target = RESOURCES[col.ref]
            attname = resource.model._meta.get_field(resource.field_name(column)).attname
            wanted = {values[column] for _, values, _ in out if values[column] is not None}
            if not wanted:
                continue
            found = _lookup(target.model, _key_lookup(target), wanted)
            kept = []
            for number, values, obj in out:
                value = values[column]
                if value is not None:
                    pk = found.get(value)
                    if pk is None and column in self.self_refs:
                        # Resolved once the whole file is written: the referrer may come later.
                        self.pending_self.append((number, values[resource.key[0]], value))
                    elif pk is None:
                        self.error(number, column, f"unknown {target.name} record {value!r}")
                        continue
                    obj.__dict__[attname] = pk
                kept.append((number, values, obj))
            out = kept
        return out

    def _existing(self, objs: list[djm.Model]) -> dict[tuple, dict[str, Any]]:
        """Stored rows with the batch's keys: pk and the old day / contact values."""
        attnames = self.plan.key_attnames
        keys = {tuple(getattr(o, a) for a in attnames) for o in objs}
        wanted_fields = ["pk", *attnames, *self.plan.day_fields]
        if self.plan.contact_attname and self.plan.contact_attname != "id":
            wanted_fields.append(self.plan.contact_attname)
        condition = Q()
        for index, attname in enumerate(attnames):
            values = {k[index] for k in keys}
            part = Q(**{f"{attname}__in": [v for v in values if v is not None]})
            if None in values:
                part |= Q(**{f"{attname}__isnull": True})
            condition &= part
        out = {}
        for row in self.resource.model.objects.filter(condition).values(*wanted_fields):
            key = tuple(row[a] for a in attnames)
            if key in keys:
                out[key] = row
        return out

    def _write(self, objs: list[djm.Model]) -> None:
        if not objs:
            return
        plan = self.plan
        if connection.vendor == "postgresql" and not plan.partial_key:
            existing = self._write_copy(objs)
            created = self.inserted
        else:
            existing = self._write_orm(objs)
            created = len(objs) - len(existing)
        self.result.created += created
        self.result.updated += len(objs) - created
        for row in existing.values():
            self._touch(row.get, old=True)
        for name in plan.day_fields:
            self.days.update(obj.__dict__[name] for obj in objs)
        self.days.discard(None)
        contact = plan.contact_attname
        if contact and self.contact_ids is not None:
            attname = "id" if contact == "id" else contact
            self.contact_ids.update(obj.__dict__[attname] for obj in objs)
            self.contact_ids.discard(None)
            if len(self.contact_ids) > CONTACT_IDS_LIMIT:
                self.contact_ids = None
        if self.pending_self:
            self._patch_self_refs(final=False)

    def _write_orm(self, objs: list[djm.Model]) -> dict[tuple, dict[str, Any]]:
        plan = self.plan
        model = self.resource.model
        attnames = plan.key_attnames
        # A stable order keeps concurrent imports of overlapping keys from deadlocking.
        objs.sort(key=lambda o: tuple("" if getattr(o, a) is None else str(getattr(o, a)) for a in attnames))
        existing = self._existing(objs)
        if plan.partial_key:
            old, new = [], []
            for obj in objs:
                row = existing.get(tuple(getattr(obj, a) for a in attnames))
                if row is None:
                    new.append(obj)
                else:
                    obj.pk = row["pk"]
                    old.append(obj)
            model.objects.bulk_update(old, list(plan.update_fields), batch_size=1000)
            model.objects.bulk_create(new)
        else:
            model.objects.bulk_create(
                objs,
                update_conflicts=True,
                unique_fields=[model._meta.get_field(a).name for a in attnames],
                update_fields=list(plan.update_fields),
                batch_size=1000,
            )
        return existing

    def _write_copy(self, objs: list[djm.Model]) -> dict[tuple, dict[str, Any]]:
        """PostgreSQL: COPY the batch into a temporary table, then one INSERT … ON CONFLICT.

        Same statement as bulk_create(update_conflicts=True) issues, minus the ORM's
        per-value work, which costs more than the database does on big files.
        """
        plan = self.plan
        meta = self.resource.model._meta
        table = connection.ops.quote_name(meta.db_table)
        stage = connection.ops.quote_name(f"ingest_{meta.db_table}")
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        keys = [connection.ops.quote_name(meta.get_field(a).column) for a in plan.key_attnames]
        updates = ", ".join(
            f"{q} = EXCLUDED.{q}"
            for q in (connection.ops.quote_name(meta.get_field(n).column) for n in plan.update_fields)
        )
        old_fields = ["pk", *plan.key_attnames, *plan.day_fields]
        if plan.contact_attname and plan.contact_attname != "id":
            old_fields.append(plan.contact_attname)
        old_columns = ", ".join(
            "t.id" if name == "pk" else f"t.{connection.ops.quote_name(meta.get_field(name).column)}"
            for name in old_fields
        )
        attnames = [f.attname for f in fields]
        with bound_cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DROP AS "
                f"SELECT {columns} FROM {table} WITH NO DATA"
            )
            cursor.execute(f"TRUNCATE {stage}")
            if self.copy_types is None:
                # The stage's own column types: binary COPY sends dates and numbers as they
                # are, without formatting each value as text in Python.
                cursor.execute(f"SELECT {columns} FROM {stage} LIMIT 0")
                self.copy_types = [column.type_code for column in cursor.description]
            with cursor.copy(f"COPY {stage} ({columns}) FROM STDIN (FORMAT binary)") as copy:
                copy.set_types(self.copy_types)
                # A tuple of the row's cells (itemgetter of one name would give a bare value).
                cells = itemgetter(*attnames) if len(attnames) > 1 else (lambda state: (state[attnames[0]],))
                write_row = copy.write_row
                for obj in objs:
                    write_row(cells(obj.__dict__))
            if len(keys) == 1:
                # One array parameter: an index lookup per key, whatever the planner knows.
                cursor.execute(
                    f"SELECT {old_columns} FROM {table} t WHERE t.{keys[0]} = ANY(%s)",
                    [[obj.__dict__[plan.key_attnames[0]] for obj in objs]],
                )
            else:
                # Row counts for the planner: without them it scans the whole table for the join.
                cursor.execute(f"ANALYZE {stage}")
                join = " AND ".join(f"t.{k} = s.{k}" for k in keys)
                cursor.execute(f"SELECT {old_columns} FROM {table} t JOIN {stage} s ON {join}")
            existing = {}
            width = len(plan.key_attnames)
            for row in cursor.fetchall():
                named = dict(zip(old_fields, row, strict=True))
                existing[tuple(row[1 : 1 + width])] = named
            # ORDER BY: a stable lock order keeps concurrent imports of overlapping keys
            # from deadlocking.
            insert = (
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage} ORDER BY {', '.join(keys)} "
                f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
            )
            # xmax = 0 marks a row this statement inserted (not one it updated): exact counts
            # even when another import wrote the same keys after the read above.
            cursor.execute(f"{insert} RETURNING id, {keys[0]}, (xmax = 0)")
            returned = cursor.fetchall()
        self.inserted = sum(1 for _, _, inserted in returned if inserted)
        if self.resource.model is m.Contact:
            # Contacts report their own ids to kpis and may be referred to in this file.
            ids = {key: pk for pk, key, _ in returned}
            for obj in objs:
                obj.pk = ids[obj.external_id]
        return existing

    def _touch(self, get: Callable[[str], Any], *, old: bool = False) -> None:
        for name in self.plan.day_fields:
            day = get(name)
            if day is not None:
                self.days.add(day)
        contact = self.plan.contact_attname
        if contact and self.contact_ids is not None:
            value = get("pk" if old and contact == "id" else contact)
            if value is not None:
                self.contact_ids.add(value)
                if len(self.contact_ids) > CONTACT_IDS_LIMIT:
                    self.contact_ids = None

    def _patch_self_refs(self, *, final: bool) -> None:
        """Point stored rows at referrers written in this import (all of them at the end)."""
        resource = self.resource
        lookup = _key_lookup(resource)
        column = self.self_refs[0]
        attname = resource.model._meta.get_field(resource.field_name(column)).attname
        keys = {k for _, k, _ in self.pending_self} | {ref for _, _, ref in self.pending_self}
        pks = _lookup(resource.model, lookup, keys)
        waiting, updates = [], []
        for number, own, ref in self.pending_self:
            if own in pks and ref in pks:
                obj = resource.model(pk=pks[own])
                setattr(obj, attname, pks[ref])
                updates.append(obj)
            elif final:
                self.error(number, column, f"unknown {resource.name} record {ref!r}")
            else:
                waiting.append((number, own, ref))
        if updates:
            resource.model.objects.bulk_update(updates, [resource.field_name(column)], batch_size=1000)
        self.pending_self = waiting

    def finish(self) -> None:
        if self.pending_self and not self.result.errors:
            self._patch_self_refs(final=True)
        elif self.pending_self:
            # Still report references to records that appear nowhere.
            for number, _, ref in self.pending_self:
                if ref not in self.seen:
                    self.error(number, self.self_refs[0], f"unknown {self.resource.name} record {ref!r}")

    def notify(self) -> None:
        records_changed.send(
            sender=self.resource.model,
            resource=self.resource.name,
            days=sorted(self.days),
            contact_ids=None if self.contact_ids is None else sorted(self.contact_ids),
        )


def records_upsert(
    *,
    resource: str,
    rows: Iterable[Any],
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    notify: bool = True,
) -> UpsertResult:
    """Validate and upsert `rows` of one resource by key: all of them or, on any error, none.

    `rows` may be a stream (a CSV reader): it is consumed in chunks of `chunk_rows`, so
    memory stays bounded; each chunk costs one query per reference column, one for the
    stored keys and the batched upsert. `dry_run` does everything, then rolls back.
    `notify=False` leaves the signal to a caller that decides later (a dry-run of a folder).
    """
    spec = resource_get(resource)
    state = _Upsert(spec)
    with transaction.atomic(), _gc_paused(), _read_ahead(_parsed_chunks(state, rows, chunk_rows)) as chunks:
        for parsed in chunks:
            state.accept(parsed)
            if progress:
                progress(state.result.rows)
            if state.full:
                break
        state.finish()
        state.result.errors.sort(key=lambda e: e["row"])
        if state.result.errors or dry_run:
            transaction.set_rollback(True)
        elif notify:
            state.notify()
    return state.result


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic GC passes while rows stream through: the rows hold no reference cycles, and
    the collector's passes over millions of short-lived objects cost about a third of the time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def _read_ahead(chunks: Iterator[_Parsed], depth: int = 2) -> Iterator[Iterator[_Parsed]]:
    """Parse the next chunks in a thread while this one writes the current chunk.

    The writer mostly waits on the database, which frees the interpreter for the parser:
    a big file takes about as long as the slower of the two instead of their sum. Parsing
    touches no database connection (Django's are per thread). The first chunk is parsed
    here, so a request of a few rows never starts a thread.
    """
    first = next(chunks, None)
    if first is None:
        yield iter(())
        return
    if first.count == 0 or not first.full_chunk:
        yield iter((first,))
        return
    handoff: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        handoff.put(("chunk", chunk), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            handoff.put(("end", None))
        except BaseException as exc:  # handed to the writer, which raises it
            handoff.put(("error", exc))

    def consume() -> Iterator[_Parsed]:
        yield first
        while True:
            kind, item = handoff.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item

    parser = threading.Thread(target=produce, name="ingest-parse", daemon=True)
    parser.start()
    try:
        yield consume()
    finally:
        stop.set()
        # Unblock a parser waiting for room, then let it finish its chunk.
        while parser.is_alive():
            try:
                handoff.get_nowait()
            except queue.Empty:
                parser.join(0.05)


def _parsed_chunks(state: _Upsert, rows: Iterable[Any], chunk_rows: int) -> Iterator[_Parsed]:
    for chunk in _batched(enumerate(rows, start=1), chunk_rows):
        parsed = state.parse(chunk)
        parsed.full_chunk = len(chunk) == chunk_rows
        yield parsed


def records_delete(*, resource: str, keys: list[dict[str, str]]) -> int:
    """Delete records by contract key; tells `kpis` the days they covered. Returns how many."""
    spec = resource_get(resource)
    condition = Q(pk__in=[])
    for key in keys:
        condition |= records_filter_by_key(resource=spec, key=key)
    return records_delete_matching(resource=spec.name, condition=condition)


def records_delete_matching(*, resource: str, condition: Q) -> int:
    """Delete the records matching `condition` (the admin's bulk delete, the API's by-key delete)."""
    spec = resource_get(resource)
    plan = plan_get(spec)
    state = _Upsert(spec)
    with transaction.atomic():
        wanted = ["pk", *plan.day_fields]
        if plan.contact_attname and plan.contact_attname != "id":
            wanted.append(plan.contact_attname)
        rows = list(spec.model.objects.filter(condition).values(*wanted))
        for row in rows:
            state._touch(row.get, old=True)
        spec.model.objects.filter(pk__in=[r["pk"] for r in rows]).delete()
        if rows:
            state.notify()
    return len(rows)


def record_save(*, instance: djm.Model) -> None:
    """Save one record changed by hand (the admin) and tell `kpis` its old and new days."""
    spec = _resource_of(instance)
    plan = plan_get(spec)
    state = _Upsert(spec)
    with transaction.atomic():
        if instance.pk is not None:
            wanted = ["pk", *plan.day_fields]
            if plan.contact_attname and plan.contact_attname != "id":
                wanted.append(plan.contact_attname)
            for row in spec.model.objects.filter(pk=instance.pk).values(*wanted):
                state._touch(row.get, old=True)
        instance.save()
        state._touch(lambda name: instance.pk if name == "pk" else getattr(instance, name))
        state.notify()


def record_delete(*, instance: djm.Model) -> None:
    spec = _resource_of(instance)
    state = _Upsert(spec)
    with transaction.atomic():
        state._touch(lambda name: instance.pk if name == "pk" else getattr(instance, name), old=True)
        instance.delete()
        state.notify()


def _resource_of(instance: djm.Model) -> Resource:
    for spec in RESOURCES.values():
        if isinstance(instance, spec.model):
            return spec
    raise LookupError(f"{type(instance).__name__} is not a funnel resource")
