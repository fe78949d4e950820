"""Reads of funnel records in contract terms: keys in URLs, filters, rows as the contract names them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from smarketing.funnel import models as m
from smarketing.funnel.schemas import RESOURCES, Resource, parse_date


class FilterError(ValueError):
    pass


def is_data_manager(user) -> bool:
    """Whether `user` holds the data-manager permission (edits every team's boards, rules, notes)."""
    return bool(user.is_authenticated and user.has_perm(settings.DATA_MANAGER_PERMISSION))


def user_team(user) -> str:
    """The team (`TeamMember.team`) of the user's team-member record, "" without one."""
    member = getattr(user, "team_member", None)
    return member.team if member is not None else ""


def _key_lookup(resource: Resource) -> str:
    """The unique column other resources name a record of `resource` by."""
    return resource.key[0]


def key_parse(resource: Resource, raw: str) -> dict[str, str]:
    """A URL key segment → {key column: value}.

    Composite keys are the key columns in contract order joined by `,`; a literal `,` or
    `\\` inside a value is written `\\,` / `\\\\` (a team-wide target ends in an empty owner).
    """
    if len(resource.key) == 1:
        return {resource.key[0]: raw}
    parts, current, escaped = [], [], False
    for char in raw:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    missing = resource.key[len(parts):]
    if missing and not any(resource.col(column).required for column in missing):
        # Keys that grew optional trailing columns (a target's channel and campaign) still
        # accept the shorter form: the missing columns are empty.
        parts += [""] * len(missing)
    if len(parts) != len(resource.key):
        raise ValueError(_("a {resource} key has {count} parts ({columns}) joined by ','").format(
            resource=resource.name, count=len(resource.key), columns=", ".join(resource.key)))
    return dict(zip(resource.key, parts, strict=True))


def key_format(resource: Resource, values: dict[str, Any]) -> str:
    """The URL key segment of a record (the inverse of `key_parse`)."""

    def one(value: Any) -> str:
        text = "" if value is None else (value.isoformat() if hasattr(value, "isoformat") else str(value))
        return text.replace("\\", "\\\\").replace(",", "\\,")

    if len(resource.key) == 1:
        return str(values[resource.key[0]])
    return ",".join(one(values[c]) for c in resource.key)


def records_filter_by_key(*, resource: Resource, key: dict[str, str]) -> Q:
    """The Q naming one record by its contract key (references followed to their keys)."""
    condition = Q()
    for column, raw in key.items():
        col = resource.col(column)
        if col.ref:
            target = RESOURCES[col.ref]
            lookup = f"{resource.field_name(column)}__{_key_lookup(target)}"
            condition &= Q(**{f"{resource.field_name(column)}__isnull": True}) if raw == "" else Q(**{lookup: raw})
        elif col.kind == "date":
            condition &= Q(**{column: dt.date.fromisoformat(raw)})
        elif raw == "" and resource.model._meta.get_field(column).null:
            condition &= Q(**{f"{column}__isnull": True})
        elif resource.model is m.TargetAccount:
            condition &= Q(**{column: raw.lower()})
        else:
            condition &= Q(**{column: raw})
    return condition




def ref_alias(column: str) -> str:
    return f"ref_{column}"


# Query parameters that would clash with the list's own (`?page=2` is pagination), by column.
FILTER_PARAMS = {"page": "page_path"}
FILTER_COLUMNS = {param: column for column, param in FILTER_PARAMS.items()}


def filter_params(resource: Resource) -> list[tuple[str, str, str]]:
    """(parameter, kind, description) for the list filters: key columns and date ranges."""
    params = []
    for column in resource.key:
        kind = resource.col(column).kind
        param = FILTER_PARAMS.get(column, column)
        text = f"exact {column}" if param == column else f"exact {column} (the `{column}` column)"
        params.append((param, "date" if kind == "date" else "string", text))
    for column in resource.date_columns:
        params.append((f"{column}_from", "date", f"{column} on or after this day (company time zone)"))
        params.append((f"{column}_to", "date", f"{column} on or before this day (company time zone)"))
    return params


def records_query(*, resource: Resource, filters: dict[str, str] | None = None) -> QuerySet:
    """Rows of a resource as dicts of contract columns (references as the referenced keys)."""
    model = resource.model
    plain = [c for c in resource.columns if not resource.col(c).ref]
    refs = {
        ref_alias(c): F(f"{resource.field_name(c)}__{_key_lookup(RESOURCES[resource.col(c).ref])}")
        for c in resource.refs
    }
    queryset = model.objects.all()
    for name, raw in (filters or {}).items():
        if raw in (None, ""):
            continue
        queryset = queryset.filter(_filter(resource, name, raw))
    ordering = [*model._meta.ordering, "pk"]
    return queryset.order_by(*ordering).values(*plain, **refs)


def _filter(resource: Resource, param: str, raw: str) -> Q:
    name = FILTER_COLUMNS.get(param, "" if param in FILTER_PARAMS else param)
    if name in resource.key:
        try:
            return records_filter_by_key(resource=resource, key={name: raw})
        except ValueError:
            raise FilterError(_not_a_date(name, raw)) from None
    for suffix, lookup in (("_from", "gte"), ("_to", "lte")):
        if name.endswith(suffix) and name[: -len(suffix)] in resource.date_columns:
            column = name[: -len(suffix)]
            try:
                day = parse_date(raw)
            except Exception:
                raise FilterError(_not_a_date(name, raw)) from None
            if resource.col(column).kind == "timestamp":
                local = f"{column.removesuffix('_at')}_on"
                field = local if _has_field(resource, local) else f"{column}__date"
            else:
                field = column
            return Q(**{f"{field}__{lookup}": day})
    raise FilterError(_("unknown filter {name}").format(name=repr(param)))


def _not_a_date(name: str, raw: str) -> str:
    return _("{field}: {value} is not a date (YYYY-MM-DD)").format(field=name, value=repr(raw))


def _has_field(resource: Resource, name: str) -> bool:
    return any(f.name == name for f in resource.model._meta.concrete_fields)


def record_values(*, resource: Resource, key: dict[str, str]) -> dict[str, Any] | None:
    return records_query(resource=resource).filter(records_filter_by_key(resource=resource, key=key)).first()

