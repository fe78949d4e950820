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
import os
import pickle
import signal
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from operator import itemgetter
from typing import Any

from django.db import connection, transaction
from django.db import models as djm
from django.db.models import Q
from django.db.models.base import ModelState
from django.utils.translation import gettext as _
from psycopg._copy_base import BinaryFormatter  # the encoder behind Copy.write_row
from psycopg.adapt import Transformer
from psycopg.pq import Format

from smarketing.funnel import models as m
from smarketing.funnel.db import bound_cursor, resources_lock, retrying, tables_analyze
from smarketing.funnel.schemas import (
    RESOURCES,
    Resource,
    company_zone,
    printable,
    resource_get,
    row_validate,
)
from smarketing.funnel.selectors import records_filter_by_key
from smarketing.funnel.signals import records_changed

CHUNK_ROWS = 10_000
MAX_ERRORS = 1000
# Above this many contacts a change is reported as "all contacts" (None) instead of a list.
CONTACT_IDS_LIMIT = 2_000_000
IN_BATCH = 5000


@dataclass(frozen=True)
class BadRow:
    """A row the reader could not turn into columns (wrong cell count, bad encoding, a cell its
    column mapping cannot transform)."""

    field: str
    message: str
    # Further (field, message) problems of the same row.
    more: tuple[tuple[str, str], ...] = ()


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
    # A contact's referrer (a contact too): a customer's lifetime value counts what the
    # contacts it referred bought, so the referrer a contact leaves is changed too.
    referrer_attname: str | None = None

    @property
    def old_fields(self) -> tuple[str, ...]:
        """What `_Upsert._touch` reads of a stored row before it changes: its days, its contact, its referrer."""
        contact = (self.contact_attname,) if self.contact_attname and self.contact_attname != "id" else ()
        referrer = (self.referrer_attname,) if self.referrer_attname else ()
        return ("pk", *self.day_fields, *contact, *referrer)

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
            referrer_attname=meta.get_field("referred_by").attname if resource.model is m.Contact else None,
        )


PLANS: dict[str, _Plan] = {}


def _per_resource(cache: dict[str, Any], resource: Resource, build: Callable[[Resource], Any]) -> Any:
    """What `build` derives from a resource, built once per process."""
    built = cache.get(resource.name)
    if built is None:
        built = cache[resource.name] = build(resource)
    return built


def plan_get(resource: Resource) -> _Plan:
    return _per_resource(PLANS, resource, _Plan.of)


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
    # How far the input was read when the chunk was (`records_upsert`'s `position()`).
    position: int = 0


@dataclass
class _Staged:
    """A validated chunk for PostgreSQL: its rows as binary COPY data of the stage's columns, and what
    the writer needs besides (errors, the days its rows name, the input read so far)."""

    count: int
    errors: list[tuple[int, str, str]]
    data: bytes
    days: dict[str, set[dt.date]]  # per day field
    position: int
    full_chunk: bool


STAGE_ROW = "ingest_row"


def _unknown(target: Resource, value: Any) -> str:
    return _("unknown {resource} record {value}").format(resource=target.name, value=repr(value))


@dataclass(frozen=True)
class _Stage:
    """PostgreSQL: one resource's staging table and the statements that upsert from it.

    The stage has the model's columns (a reference as the referenced record's key, as text)
    and the input row number. Each chunk is COPYed in; one statement looks each reference
    up once (a join on the referenced key), upserts the rows by INSERT … ON CONFLICT unless
    one names a record that does not exist, and answers both the written rows and the
    unknown references with their row numbers.
    """

    name: str
    cells: Callable[[dict[str, Any]], tuple]
    # PostgreSQL type oid of each staged column, for the binary encoding.
    types: tuple[int, ...]
    create: str
    copy: str
    # Contract column → referenced resource, of each reference column (in the answers' order).
    targets: dict[str, Resource]
    analyze: str | None
    existing_sql: str
    old_fields: tuple[str, ...]
    # Rows (kind 0: id, contact, inserted) and unknown references (kind 1: row, column, own key, value).
    upsert_sql: str
    # Only the unknown references (a chunk after an error is checked, not written).
    check_sql: str

    @classmethod
    def of(cls, resource: Resource) -> _Stage:
        plan = plan_get(resource)
        meta = resource.model._meta
        q = connection.ops.quote_name
        table, stage = q(meta.db_table), q(f"ingest_{meta.db_table}")
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        ref_columns = {meta.get_field(resource.field_name(c)).attname: c for c in resource.refs}
        staged, chosen, lookups, joins = [], [], [], []
        for f in fields:
            column = q(f.column)
            if f.attname in ref_columns:
                target = RESOURCES[resource.col(ref_columns[f.attname]).ref]
                key = q(target.model._meta.get_field(target.field_name(_key_lookup(target))).column)
                staged.append(f"t.{column}::text AS {column}")
                alias = f"ingest_ref{len(lookups)}"
                chosen.append(f"s.{alias}")
                joins.append((f"r{len(lookups)}.id AS {alias}",
                              f"LEFT JOIN {q(target.model._meta.db_table)} r{len(lookups)} "
                              f"ON r{len(lookups)}.{key} = s.{column}"))
                lookups.append((ref_columns[f.attname], target, column, alias))
            else:
                staged.append(f"t.{column}")
                chosen.append(f"s.{column}")
        columns = ", ".join(q(f.column) for f in fields)
        keys = [q(meta.get_field(a).column) for a in plan.key_attnames]
        own = keys[0]
        # Each reference looked up once, kept for the write and the report of unknown ones.
        resolved = (f"WITH resolved AS MATERIALIZED (SELECT s.*{''.join(f', {c}' for c, _ in joins)} "
                    f"FROM {stage} s {' '.join(j for _, j in joins)})")
        unknown = [f"SELECT 1, s.{q(STAGE_ROW)}::bigint, NULL::bigint, NULL::boolean, {name!r}, s.{own}::text, "
                   f"s.{column} FROM resolved s WHERE s.{column} IS NOT NULL AND s.{alias} IS NULL"
                   for name, _, column, alias in lookups]
        # A reference to a record of the same resource may name a row written later (pending).
        bad = " OR ".join(f"(b.{column} IS NOT NULL AND b.{alias} IS NULL)"
                          for name, target, column, alias in lookups if target is not resource)
        old_fields = plan.old_fields
        old_columns = ", ".join("t.id" if n == "pk" else f"t.{q(meta.get_field(n).column)}" for n in old_fields)
        if len(keys) == 1:
            # ARRAY(subquery): an index probe per staged key, never a join planned blind.
            existing = f"SELECT {old_columns} FROM {table} t WHERE t.{own} = ANY(ARRAY(SELECT s.{own} FROM {stage} s))"
        else:
            existing = f"SELECT {old_columns} FROM {table} t JOIN {stage} s ON " + " AND ".join(
                f"t.{k} = s.{k}" for k in keys)
        updates = ", ".join(
            f"{c} = EXCLUDED.{c}" for c in (q(meta.get_field(n).column) for n in plan.update_fields))
        contact = {None: "NULL", "id": "id"}.get(plan.contact_attname) or q(
            meta.get_field(plan.contact_attname).column)
        attnames = [STAGE_ROW, *(f.attname for f in fields)]
        with bound_cursor() as cursor:
            cursor.execute(f"SELECT 0 AS {q(STAGE_ROW)}, {', '.join(staged)} FROM {table} t LIMIT 0")
            types = tuple(column.type_code for column in cursor.description)
        return cls(
            name=stage,
            cells=itemgetter(*attnames),
            types=types,
            create=(f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DROP AS "
                    f"SELECT 0 AS {q(STAGE_ROW)}, {', '.join(staged)} FROM {table} t WITH NO DATA"),
            copy=f"COPY {stage} ({q(STAGE_ROW)}, {columns}) FROM STDIN (FORMAT binary)",
            targets={name: target for name, target, _, _ in lookups},
            # Row counts for the planner of the key join: without them it may scan the whole
            # table. A single key needs none (an index probe per key, see `existing`), and the
            # reference joins are planned well from the stage's size alone.
            analyze=None if len(keys) == 1 else f"ANALYZE {stage}",
            existing_sql=existing,
            old_fields=old_fields,
            # ORDER BY: a stable lock order keeps concurrent imports of overlapping keys from
            # deadlocking. xmax = 0 marks a row this statement inserted (not one it updated):
            # exact counts even when another import wrote the same keys meanwhile.
            upsert_sql=(
                f"{resolved}, written AS (INSERT INTO {table} ({columns}) SELECT {', '.join(chosen)} FROM resolved s "
                + (f"WHERE NOT EXISTS (SELECT FROM resolved b WHERE {bad}) " if bad else "")
                + f"ORDER BY {', '.join(f's.{k}' for k in keys)} "
                f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates} "
                f"RETURNING id, {contact} AS contact, (xmax = 0) AS inserted) "
                f"SELECT 0, id, contact::bigint, inserted, NULL::text, NULL::text, NULL::text FROM written"
                + "".join(f" UNION ALL {query}" for query in unknown)
            ),
            check_sql=(f"{resolved} " + " UNION ALL ".join(unknown)) if unknown else "",
        )

    def load(self, cursor: Any, data: bytes, *, first: bool) -> None:
        if first:
            cursor.execute(self.create)
        cursor.execute(f"TRUNCATE {self.name}")
        with cursor.copy(self.copy) as copy:
            copy.write(data)
        if self.analyze:
            cursor.execute(self.analyze)

    def check(self, cursor: Any) -> list[tuple]:
        """The unknown references of the staged chunk: (1, row, None, None, column, own key, value)."""
        if not self.check_sql:
            return []
        cursor.execute(self.check_sql)
        return cursor.fetchall()

    def existing(self, cursor: Any) -> list[dict[str, Any]]:
        cursor.execute(self.existing_sql)
        return [dict(zip(self.old_fields, row, strict=True)) for row in cursor.fetchall()]

    def upsert(self, cursor: Any) -> tuple[list[tuple[int, int | None, bool]], list[tuple]]:
        """(written rows as (id, contact, inserted), unknown references as `check` gives them)."""
        cursor.execute(self.upsert_sql)
        written, unknown = [], []
        for row in cursor.fetchall():
            if row[0] == 0:
                written.append(row[1:4])
            else:
                unknown.append(row)
        return written, unknown


STAGES: dict[str, _Stage] = {}


def stage_get(resource: Resource) -> _Stage:
    return _per_resource(STAGES, resource, _Stage.of)


class _Upsert:
    """One resource's rows flowing through validation and writing, chunk by chunk."""

    def __init__(self, resource: Resource) -> None:
        self.resource = resource
        self.plan = plan_get(resource)
        self.result = UpsertResult(resource=resource.name)
        self.seen: dict[Any, int] = {}
        # Per day field (`lead_on`, ...): the days the changed records named, old and new.
        self.days: dict[str, set[dt.date]] = defaultdict(set)
        self.contact_ids: set[int] | None = set() if self.plan.contact_attname else None
        # Self references (referred_by) to a record not stored yet: (row, own key, referenced key).
        self.pending_self: list[tuple[int, Any, Any]] = []
        self.self_refs = [c for c in resource.refs if resource.col(c).ref == resource.name]
        # Values of the self reference column seen in the input (few: referrals).
        self.self_ref_values: set[Any] = set()
        # PostgreSQL: the stage exists in this transaction.
        self.staging = False

    @property
    def full(self) -> bool:
        return len(self.result.errors) >= MAX_ERRORS

    def error(self, row: int, field_name: str, message: str) -> None:
        if not self.full:
            # A key or cell may hold a lone surrogate: the report is stored as JSON and shown.
            self.result.errors.append({"row": row, "field": printable(field_name), "message": printable(message)})

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
        # The zone naive cells were read in: their local dates need no conversion.
        tz = company_zone()
        new = model.__new__
        parsed = _Parsed()
        append = parsed.rows.append
        for number, raw in numbered:
            if not isinstance(raw, dict):
                if isinstance(raw, BadRow):
                    parsed.errors.append((number, raw.field, raw.message))
                    parsed.errors.extend((number, f, message) for f, message in raw.more)
                else:
                    parsed.errors.append((number, "", _("each row must be an object of column: value pairs")))
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

    def dedupe(self, parsed: _Parsed) -> list[tuple[int, dict[str, Any], djm.Model]]:
        """The chunk's rows whose key no earlier row of the input had; the others become errors."""
        key_columns = self.resource.key
        single = key_columns[0] if len(key_columns) == 1 else None
        self_ref = self.self_refs[0] if self.self_refs else None
        unique = []
        for number, values, obj in parsed.rows:
            # A bare value, not a 1-tuple, for single-column keys: this dict holds every key of a
            # file (3 million activities) and is most of an import's memory.
            key = values[single] if single else tuple(values[c] for c in key_columns)
            earlier = self.seen.get(key)
            if earlier is not None:
                parsed.errors.append(
                    (number, ",".join(key_columns),
                     _("duplicate key: the same record as row {row}").format(row=earlier)))
                continue
            self.seen[key] = number
            if self_ref and values[self_ref] is not None:
                self.self_ref_values.add(values[self_ref])
            unique.append((number, values, obj))
        return unique

    def missing_self_refs(self) -> set[Any]:
        """Self references (referred_by) to keys that no row of the input has."""
        return {value for value in self.self_ref_values if value not in self.seen}

    def accept(self, parsed: _Parsed) -> None:
        """Duplicate keys, references (one query per reference column), then the write."""
        unique = self.dedupe(parsed)
        self.result.rows += parsed.count
        for number, field_name, message in parsed.errors:
            self.error(number, field_name, message)
        resolved = self._resolve(unique)
        if self.result.errors:
            return
        self._write([obj for _, _, obj in resolved])

    def staged(self, parsed: _Parsed) -> _Staged:
        """PostgreSQL: a parsed chunk as binary COPY data of the stage (no database access).

        References stay the referenced records' keys; the database resolves them. Runs where
        the parsing runs, in a forked reader for big inputs, so the writer gets bytes.
        """
        rows = self.dedupe(parsed)
        stage = stage_get(self.resource)
        # psycopg's own binary COPY encoder (C), outside a COPY: each value is dumped as its
        # column's type, no text formatting of dates and numbers.
        transformer = Transformer()
        transformer.set_dumper_types(stage.types, Format.BINARY)
        formatter = BinaryFormatter(transformer)
        data = bytearray()
        cells = stage.cells
        write_row = formatter.write_row
        for number, _values, obj in rows:
            state = obj.__dict__
            state[STAGE_ROW] = number
            data += write_row(cells(state))
        data += formatter.end()
        return _Staged(count=parsed.count, errors=parsed.errors, data=bytes(data),
                       days=self._days_of(obj for _, _, obj in rows), position=parsed.position,
                       full_chunk=parsed.full_chunk)

    def accept_staged(self, chunk: _Staged) -> None:
        """PostgreSQL: COPY a chunk to the stage, report unknown references, upsert it."""
        self.result.rows += chunk.count
        for number, field_name, message in chunk.errors:
            self.error(number, field_name, message)
        stage = stage_get(self.resource)
        with bound_cursor() as cursor:
            stage.load(cursor, chunk.data, first=not self.staging)
            self.staging = True
            if self.result.errors:
                # Nothing more is written: only report what else is wrong.
                self._unknown_refs(stage, stage.check(cursor))
                return
            existing = stage.existing(cursor)
            returned, unknown = stage.upsert(cursor)
        self._unknown_refs(stage, unknown)
        if self.result.errors:
            return  # the rows were not written (the statement checks first), and the import rolls back
        created = sum(1 for _, _, inserted in returned if inserted)
        self.result.created += created
        self.result.updated += len(returned) - created
        for row in existing:
            self._touch(row.get, old=True)
        self._days_add(chunk.days)
        if self.plan.contact_attname:
            self._contacts_add(contact for _, contact, _ in returned)
        if self.pending_self:
            self._patch_self_refs(final=False)

    def _unknown_refs(self, stage: _Stage, rows: list[tuple]) -> None:
        for _kind, number, _pk, _contact, column, own, value in sorted(rows, key=itemgetter(1)):
            if column in self.self_refs:
                # Resolved once the whole file is written: the referrer may come later.
                self.pending_self.append((number, own, value))
            else:
                self.error(number, column, _unknown(stage.targets[column], value))

    def _contacts_add(self, ids: Iterable[int | None]) -> None:
        if self.contact_ids is None:
            return
        self.contact_ids.update(ids)
        self.contact_ids.discard(None)
        if len(self.contact_ids) > CONTACT_IDS_LIMIT:
            self.contact_ids = None

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
                        self.error(number, column, _unknown(target, value))
                        continue
                    obj.__dict__[attname] = pk
                kept.append((number, values, obj))
            out = kept
        return out

    def _existing(self, objs: list[djm.Model]) -> dict[tuple, dict[str, Any]]:
        """Stored rows with the batch's keys: pk and the old day / contact values."""
        attnames = self.plan.key_attnames
        keys = {tuple(getattr(o, a) for a in attnames) for o in objs}
        wanted_fields = [*self.plan.old_fields, *attnames]
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
        existing = self._write_orm(objs)
        created = len(objs) - len(existing)
        self.result.created += created
        self.result.updated += len(objs) - created
        for row in existing.values():
            self._touch(row.get, old=True)
        self._days_add(self._days_of(objs))
        if plan.contact_attname:
            self._contacts_add(obj.__dict__[plan.contact_attname] for obj in objs)
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

    def _days_of(self, objs: Iterable[djm.Model]) -> dict[str, set[dt.date]]:
        """The days the day fields of new model rows name, per field."""
        rows = [obj.__dict__ for obj in objs]
        days = {name: {row[name] for row in rows} for name in self.plan.day_fields}
        for field_days in days.values():
            field_days.discard(None)
        return days

    def _days_add(self, days: dict[str, set[dt.date]]) -> None:
        for name, field_days in days.items():
            self.days[name] |= field_days

    def _touch(self, get: Callable[[str], Any], *, old: bool = False) -> None:
        for name in self.plan.day_fields:
            day = get(name)
            if day is not None:
                self.days[name].add(day)
        contact = self.plan.contact_attname
        if contact:
            self._contacts_add((get("pk" if old and contact == "id" else contact),))
        referrer = self.plan.referrer_attname
        if old and referrer and get(referrer) is not None:
            self._contacts_add((get(referrer),))

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
                self.error(number, column, _unknown(resource, ref))
            else:
                waiting.append((number, own, ref))
        if updates:
            resource.model.objects.bulk_update(updates, [resource.field_name(column)], batch_size=1000)
        self.pending_self = waiting

    def finish(self, missing: set[Any] | None = None) -> None:
        """`missing`: the self references no row of the input has, when a forked reader saw the input."""
        if self.pending_self and not self.result.errors:
            self._patch_self_refs(final=True)
        elif self.pending_self:
            # Still report references to records that appear nowhere.
            if missing is None:
                missing = self.missing_self_refs()
            for number, _, ref in self.pending_self:
                if ref in missing:
                    self.error(number, self.self_refs[0], _unknown(self.resource, ref))

    def notify(self) -> None:
        records_changed.send(
            sender=self.resource.model,
            resource=self.resource.name,
            days=sorted(set().union(*self.days.values())),
            days_by_field={name: sorted(days) for name, days in self.days.items() if days},
            contact_ids=None if self.contact_ids is None else sorted(self.contact_ids),
        )


def records_upsert(
    *,
    resource: str,
    rows: Iterable[Any],
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    position: Callable[[], int] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    notify: bool = True,
) -> UpsertResult:
    """Validate and upsert `rows` of one resource by key: all of them or, on any error, none.

    `rows` may be a stream (a CSV reader): it is consumed in chunks of `chunk_rows`, so
    memory stays bounded; each chunk costs one query per reference column, one for the
    stored keys and the batched upsert. `dry_run` does everything, then rolls back.
    `notify=False` leaves the signal to a caller that decides later (a dry-run of a folder).
    `progress(rows, position)` is called after each chunk, with `position()` (how far the
    input was read, e.g. bytes of a file) as it was when the chunk was read.
    A deadlock is retried (rows given as a list) or raised as `WriteConflict` (a stream).
    """
    # A list can be read again after a deadlock; a stream (a CSV reader) only by its caller.
    again = isinstance(rows, list | tuple)
    return retrying(_records_upsert, rewind=lambda: again)(
        resource=resource, rows=rows, dry_run=dry_run, progress=progress, position=position,
        chunk_rows=chunk_rows, notify=notify)


def _records_upsert(
    *,
    resource: str,
    rows: Iterable[Any],
    dry_run: bool,
    progress: Callable[[int, int], None] | None,
    position: Callable[[], int] | None,
    chunk_rows: int,
    notify: bool,
) -> UpsertResult:
    spec = resource_get(resource)
    state = _Upsert(spec)
    with transaction.atomic(), _gc_paused():
        resource_lock(spec)
        parsed = _parsed_chunks(state, rows, chunk_rows, position)
        if connection.vendor == "postgresql" and not state.plan.partial_key:
            reading, accept = _reader((state.staged(chunk) for chunk in parsed), state), state.accept_staged
        else:
            reading, accept = nullcontext((parsed, {})), state.accept
        with reading as (chunks, ended):
            for chunk in chunks:
                accept(chunk)
                if progress:
                    progress(state.result.rows, chunk.position)
                if state.full:
                    break
        state.finish(ended.get("missing"))
        state.result.errors.sort(key=lambda e: e["row"])
        if state.result.errors or dry_run:
            transaction.set_rollback(True)
        else:
            # Before the notice: the recompute it queues on commit plans with fresh statistics.
            transaction.on_commit(partial(tables_analyze, [spec.model], vacuum=True,
                                          written=state.result.created + state.result.updated))
            if notify:
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
def _reader(chunks: Iterator[_Staged], state: _Upsert) -> Iterator[tuple[Iterator[_Staged], dict[str, Any]]]:
    """Staged chunks; after the first full one, read and validated by a forked process.

    Validating is most of an import's Python work and writing is mostly the database's:
    in a child process the two run side by side on two cores instead of one after the
    other (threads would share one interpreter lock). The child inherits the input and the
    state at the fork, sends each chunk as bytes through a pipe (its size bounds the memory:
    the child waits while the writer is behind), and at the end the self references no row
    named. The parent's database connection is never touched by the child. `ended` gets
    "missing" once the child finished. A small input never forks.
    """
    ended: dict[str, Any] = {}
    first = next(chunks, None)
    if first is None or not first.full_chunk:
        yield iter(() if first is None else (first,)), ended
        return
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: read, validate, send; never return into the caller's code
        status = 0
        try:
            os.close(read_end)
            with os.fdopen(write_end, "wb", buffering=1 << 20) as out:
                try:
                    for chunk in chunks:
                        pickle.dump(("chunk", chunk), out, protocol=pickle.HIGHEST_PROTOCOL)
                        # Now, not when the next chunk fills the buffer: the writer is waiting.
                        out.flush()
                    pickle.dump(("end", state.missing_self_refs()), out, protocol=pickle.HIGHEST_PROTOCOL)
                except BrokenPipeError:
                    status = 1  # the writer stopped early (too many errors, or it failed)
                except BaseException:
                    pickle.dump(("error", traceback.format_exc()), out, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    source = os.fdopen(read_end, "rb", buffering=1 << 20)

    def received() -> Iterator[_Staged]:
        yield first
        while True:
            try:
                kind, item = pickle.load(source)
            except EOFError:
                raise RuntimeError("the import's reader process stopped without finishing") from None
            if kind == "chunk":
                yield item
            elif kind == "end":
                ended["missing"] = item
                return
            else:
                raise RuntimeError(f"the import's reader process failed:\n{item}")

    try:
        yield received(), ended
    finally:
        source.close()
        if "missing" not in ended:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _parsed_chunks(
    state: _Upsert, rows: Iterable[Any], chunk_rows: int, position: Callable[[], int] | None
) -> Iterator[_Parsed]:
    for chunk in _batched(enumerate(rows, start=1), chunk_rows):
        parsed = state.parse(chunk)
        parsed.full_chunk = len(chunk) == chunk_rows
        parsed.position = position() if position else 0
        yield parsed


def records_delete(*, resource: str, keys: list[dict[str, str]]) -> int:
    """Delete records by contract key; tells `kpis` the days they covered. Returns how many."""
    spec = resource_get(resource)
    condition = Q(pk__in=[])
    for key in keys:
        condition |= records_filter_by_key(resource=spec, key=key)
    return records_delete_matching(resource=spec.name, condition=condition)


@retrying
def records_delete_matching(*, resource: str, condition: Q) -> int:
    """Delete the records matching `condition` (the admin's bulk delete, the API's by-key delete)."""
    spec = resource_get(resource)
    plan = plan_get(spec)
    state = _Upsert(spec)
    with transaction.atomic():
        resource_lock(spec)
        rows = list(spec.model.objects.filter(condition).values(*plan.old_fields))
        for row in rows:
            state._touch(row.get, old=True)
        spec.model.objects.filter(pk__in=[r["pk"] for r in rows]).delete()
        if rows:
            state.notify()
    return len(rows)


@retrying
def record_save(*, instance: djm.Model) -> None:
    """Save one record changed by hand (the admin) and tell `kpis` its old and new days."""
    spec = _resource_of(instance)
    plan = plan_get(spec)
    state = _Upsert(spec)
    with transaction.atomic():
        resource_lock(spec)
        if instance.pk is not None:
            for row in spec.model.objects.filter(pk=instance.pk).values(*plan.old_fields):
                state._touch(row.get, old=True)
        instance.save()
        state._touch(lambda name: instance.pk if name == "pk" else getattr(instance, name))
        state.notify()


@retrying
def record_delete(*, instance: djm.Model) -> None:
    spec = _resource_of(instance)
    state = _Upsert(spec)
    with transaction.atomic():
        resource_lock(spec)
        state._touch(lambda name: instance.pk if name == "pk" else getattr(instance, name), old=True)
        instance.delete()
        state.notify()


def resource_lock(*specs: Resource) -> None:
    """The write locks of these resources, in contract order (see `db.resources_lock`)."""
    order = list(RESOURCES)
    resources_lock(order.index(spec.name) for spec in specs)


def _resource_of(instance: djm.Model) -> Resource:
    for spec in RESOURCES.values():
        if isinstance(instance, spec.model):
            return spec
    raise LookupError(f"{type(instance).__name__} is not a funnel resource")
