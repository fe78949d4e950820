"""Column mappings: how a file that is not in the data contract's shape becomes contract rows.

A mapping is JSON, per contract column of one resource (see README, "Column mappings"):

    {"fields": {
        "external_id": "Record ID",
        "lead_at": {"from": ["Became a Lead Date", "Create Date"], "format": "YYYY-MM-DD HH:MM"},
        "source_channel": {"from": "Original Source", "values": {"Organic Search": "organic_search"}},
        "status": {"from": "Stage", "values": {"Closed Won": "won"}, "otherwise": "open"},
        "closed_at": {"from": "Close Date", "format": "MM/DD/YYYY", "when": {"status": ["won", "lost"]}},
        "owner_email": {"from": "Owner", "owner": true},
        "category": {"default": "marketing"},
        "external_id": {"from": ["Date", "Campaign"], "join": "|"}
    }}

`from` lists file columns: the first non-empty cell wins (or, with `join`, all cells joined).
A mapping only transforms each raw row into a contract row BEFORE the one row schema
(`schemas.row_validate`) validates it; what it cannot transform (a value the value map does
not cover, a date not in its format, an owner no team member has) is a row error naming the
contract field and the raw value.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from django.utils.translation import gettext as _

from smarketing.funnel.schemas import Col, Resource, company_zone, unknown_column

FORMATS = {
    "YYYY-MM-DD": "2026-01-31",
    "YYYYMMDD": "20260131",
    "MM/DD/YYYY": "01/31/2026",
    "MM/DD/YYYY HH:MM": "01/31/2026 14:05",
    "DD.MM.YYYY": "31.01.2026",
    "DD.MM.YYYY HH:MM": "31.01.2026 14:05",
    "YYYY-MM-DD HH:MM": "2026-01-31 14:05",
    "epoch_ms": "1769868300000",
}
FIELD_KEYS = frozenset({"from", "values", "otherwise", "format", "default", "owner", "when", "join"})


class MappingError(ValueError):
    """A mapping that cannot apply to a resource or a file: each problem as (field, message)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" if f else m for f, m in problems))
        self.problems = problems


class _CellError(Exception):
    pass


def normalized(name: str) -> str:
    """A header or value compared loosely: case, spaces, underscores and hyphens ignored."""
    return re.sub(r"[\s_\-]+", "", name).casefold()


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


# --- dates -----------------------------------------------------------------------------


def _ymd(year: str, month: str, day: str) -> dt.date:
    return dt.date(int(year), int(month), int(day))


def _with_time(day: dt.date, clock: str | None) -> dt.datetime:
    if clock is None:
        return dt.datetime(day.year, day.month, day.day)
    hour, _, rest = clock.partition(":")
    minute, _, second = rest.partition(":")
    return dt.datetime(day.year, day.month, day.day, int(hour), int(minute), int(second or 0))


def _day_first(sep: str, order: tuple[int, int, int], timed: bool) -> Callable[[str], dt.date | dt.datetime]:
    """Parser of `d<sep>m<sep>y`-like dates; `order` gives the (year, month, day) positions."""
    y, mo, d = order

    def parse(text: str) -> dt.date | dt.datetime:
        date_part, _, clock = text.partition(" ")
        parts = date_part.split(sep)
        if len(parts) != 3 or len(parts[y]) != 4 or (timed and not clock) or (clock and not timed):
            raise ValueError(text)
        day = _ymd(parts[y], parts[mo], parts[d])
        return _with_time(day, clock.strip()) if timed else day

    return parse


def _compact(text: str) -> dt.date:
    if len(text) != 8 or not text.isdigit():
        raise ValueError(text)
    return _ymd(text[:4], text[4:6], text[6:])


def _iso_minutes(text: str) -> dt.datetime:
    if len(text) < 16 or text[10] != " ":
        raise ValueError(text)
    return dt.datetime.fromisoformat(text)


def _epoch_ms(text: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(text) / 1000, tz=dt.UTC)


DATE_PARSERS: dict[str, Callable[[str], dt.date | dt.datetime]] = {
    "YYYY-MM-DD": dt.date.fromisoformat,
    "YYYYMMDD": _compact,
    "MM/DD/YYYY": _day_first("/", (2, 0, 1), False),
    "MM/DD/YYYY HH:MM": _day_first("/", (2, 0, 1), True),
    "DD.MM.YYYY": _day_first(".", (2, 1, 0), False),
    "DD.MM.YYYY HH:MM": _day_first(".", (2, 1, 0), True),
    "YYYY-MM-DD HH:MM": _iso_minutes,
    "epoch_ms": _epoch_ms,
}


# --- compiled mappings -------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One contract column's rule, as given in the mapping JSON (normalised)."""

    target: str
    sources: tuple[str, ...] = ()
    values: tuple[tuple[str, str], ...] = ()
    otherwise: str | None = None
    format: str | None = None
    default: str | None = None
    owner: bool = False
    when: tuple[tuple[str, tuple[str, ...]], ...] = ()
    join: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.sources:
            out["from"] = list(self.sources)
        if self.values:
            out["values"] = dict(self.values)
        for name in ("otherwise", "format", "default", "join"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.owner:
            out["owner"] = True
        if self.when:
            out["when"] = {k: list(v) for k, v in self.when}
        return out


def _field_parse(target: str, spec: Any) -> Field:
    if isinstance(spec, str | list):
        spec = {"from": spec}
    if not isinstance(spec, Mapping):
        raise MappingError([(target, _("must be a file column name or an object of options"))])
    unknown = set(spec) - FIELD_KEYS
    if unknown:
        raise MappingError([(target, _("unknown option(s): {options}").format(options=", ".join(sorted(unknown))))])
    values = spec.get("values") or {}
    when = spec.get("when") or {}
    if not isinstance(values, Mapping) or not isinstance(when, Mapping):
        raise MappingError([(target, _("values and when must be objects"))])
    return Field(
        target=target,
        sources=tuple(str(s) for s in _as_list(spec.get("from"))),
        values=tuple((str(k), str(v)) for k, v in values.items()),
        otherwise=None if spec.get("otherwise") is None else str(spec["otherwise"]),
        format=spec.get("format"),
        default=None if spec.get("default") is None else str(spec["default"]),
        owner=bool(spec.get("owner")),
        when=tuple((str(k), tuple(_as_list(v))) for k, v in when.items()),
        join=spec.get("join"),
    )


@dataclass(frozen=True)
class ColumnMapping:
    """A mapping checked against one resource's columns."""

    resource: Resource
    fields: tuple[Field, ...]
    # Lines at the top of the file starting with this are notes, not data (GA4 exports).
    comment: str | None = None
    # The preset or saved mapping it came from, for the import history.
    name: str = ""

    @classmethod
    def of(cls, resource: Resource, spec: Mapping[str, Any], *, lenient: bool = False) -> ColumnMapping:
        """`lenient`: drop fields naming columns this resource does not have (a preset written for
        columns a newer schema adds) instead of refusing them."""
        if not isinstance(spec, Mapping) or not isinstance(spec.get("fields"), Mapping):
            raise MappingError([("", _('a mapping is a JSON object with "fields": {example}').format(
                example="{" + _("contract column: rule") + "}"))])
        problems: list[tuple[str, str]] = []
        fields = []
        columns = set(resource.columns)
        for target, rule in spec["fields"].items():
            if target not in columns:
                if not lenient:
                    problems.append((target, unknown_column(resource)))
                continue
            try:
                field = _field_parse(target, rule)
            except MappingError as exc:
                problems.extend(exc.problems)
                continue
            problems.extend(_field_problems(resource, field))
            fields.append(field)
        if problems:
            raise MappingError(problems)
        comment = spec.get("comment")
        return cls(resource=resource, fields=tuple(fields), comment=str(comment) if comment else None,
                   name=str(spec.get("name") or ""))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fields": {f.target: f.to_json() for f in self.fields}}
        if self.comment:
            out["comment"] = self.comment
        if self.name:
            out["name"] = self.name
        return out

    def bind(self, header: list[str], owners: Callable[[], dict[str, str | None]] | None = None) -> BoundMapping:
        """The mapping applied to a file with this header; MappingError lists what cannot be mapped."""
        return BoundMapping.of(self, header, owners or team_member_lookup)


def _field_problems(resource: Resource, field: Field) -> list[tuple[str, str]]:
    col = resource.col(field.target)
    problems = []
    if not field.sources and field.default is None:
        problems.append((field.target, _("give the file column(s) it comes from, or a default")))
    if field.format is not None:
        if field.format not in DATE_PARSERS:
            problems.append((field.target, _("unknown format {format} (use one of: {formats})").format(
                format=repr(field.format), formats=", ".join(FORMATS))))
        elif col.kind not in ("date", "timestamp"):
            problems.append((field.target, _("a format applies to date and timestamp columns only")))
    if field.values or field.otherwise is not None:
        if col.kind != "enum":
            problems.append((field.target, _("a value map applies to columns with a fixed list of values only")))
        else:
            for raw, value in [*field.values, ("otherwise", field.otherwise)]:
                if value is not None and value not in col.choices:
                    problems.append((field.target, _("value map: {raw} → {value} is not one of: {choices}").format(
                        raw=repr(raw), value=repr(value), choices=", ".join(col.choices))))
    if field.owner and col.kind != "member":
        problems.append((field.target, _("owner matching applies to team-member columns only")))
    for other, _values in field.when:
        if other not in resource.columns:
            problems.append((field.target, _("when: unknown column {column}").format(column=repr(other))))
    return problems


def team_member_lookup() -> dict[str, str | None]:
    """{lower-case e-mail or exact name: e-mail} of every team member; None for a name two share."""
    from smarketing.funnel.models import TeamMember

    by_name: dict[str, str | None] = {}
    by_email: dict[str, str | None] = {}
    for email, name in TeamMember.objects.values_list("email", "name"):
        by_email[email.lower()] = email
        by_name[name] = None if name in by_name else email
    return {**by_name, **by_email}


Getter = Callable[[dict[str, str]], Any]


class BoundMapping:
    """A mapping with its file's header: turns each raw row into a contract row."""

    def __init__(self, mapping: ColumnMapping, renames: list[tuple[str, str]], ops: list[tuple[str, Getter]],
                 conditions: list[tuple[str, tuple[tuple[str, frozenset[str]], ...]]]) -> None:
        self.mapping = mapping
        # Columns only renamed, read in one C call per row (most of a typical mapping).
        self.rename_targets = tuple(target for target, _ in renames)
        sources = [source for _, source in renames]
        if len(sources) == 1:
            only = sources[0]
            self.rename_cells: Callable[[dict[str, str]], tuple] = lambda raw: (raw[only],)
        else:
            self.rename_cells = itemgetter(*sources) if sources else (lambda raw: ())
        self.ops = ops
        self.conditions = conditions

    @classmethod
    def of(cls, mapping: ColumnMapping, header: list[str],
           owners: Callable[[], dict[str, str | None]]) -> BoundMapping:
        resource = mapping.resource
        present = set(header)
        problems = []
        ops: list[tuple[str, Getter]] = []
        renames: list[tuple[str, str]] = []
        conditions = []
        members: dict[str, str | None] | None = None
        by_target = {f.target: f for f in mapping.fields}
        for target in resource.columns:
            field = by_target.get(target)
            sources = tuple(s for s in field.sources if s in present) if field else ()
            if field is None or (not sources and field.default is None):
                if resource.col(target).required:
                    if field:
                        problems.append((target, _("required column is not mapped (the mapping expects one of: "
                                                   "{columns})").format(columns=", ".join(map(repr, field.sources)))))
                    else:
                        problems.append((target, _("required column is not mapped")))
                continue
            if field.owner and members is None:
                members = owners()
            col = resource.col(target)
            if len(sources) == 1 and field.default is None and field.join is None and (
                    _converter(field, col, members) is None):
                # The schema strips and checks the cell as in a contract-shaped file.
                renames.append((target, sources[0]))
            else:
                ops.append((target, _getter(field, col, sources, members)))
            if field.when:
                conditions.append((target, tuple((k, frozenset(v)) for k, v in field.when)))
        if problems:
            raise MappingError(problems)
        return cls(mapping, renames, ops, conditions)

    def apply(self, raw: dict[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        """(the contract row, None) or (a partial row, its problems as (field, message))."""
        out = dict(zip(self.rename_targets, self.rename_cells(raw), strict=True))
        problems = None
        for target, get in self.ops:
            try:
                out[target] = get(raw)
            except _CellError as exc:
                if problems is None:
                    problems = []
                problems.append((target, str(exc)))
        for target, rules in self.conditions:
            if any(out.get(other) not in allowed for other, allowed in rules):
                out[target] = None
        return out, problems

    def rows(self, rows: Iterable[Any], bad: Callable[[list[tuple[str, str]]], Any]) -> Iterable[Any]:
        """Each dict row mapped; a row with problems becomes `bad(problems)`; other items pass through."""
        apply = self.apply
        for raw in rows:
            if type(raw) is dict:
                out, problems = apply(raw)
                yield bad(problems) if problems else out
            else:
                yield raw


def _getter(field: Field, col: Col, sources: tuple[str, ...], members: dict[str, str | None] | None) -> Getter:
    """The function from a raw row to the contract cell, built once per file (no per-row branching
    on options that are not set)."""
    default = field.default
    if not sources:
        return lambda raw: default
    if field.join is not None:
        sep = field.join

        def pick(raw: dict[str, str]) -> tuple[str, str] | None:
            cells = [raw[s].strip() for s in sources]
            return (sources[0], sep.join(cells)) if any(cells) else None
    elif len(sources) == 1:
        only = sources[0]

        def pick(raw: dict[str, str]) -> tuple[str, str] | None:
            cell = raw[only].strip()
            return (only, cell) if cell else None
    else:
        def pick(raw: dict[str, str]) -> tuple[str, str] | None:
            for source in sources:
                cell = raw[source].strip()
                if cell:
                    return source, cell
            return None

    convert = _converter(field, col, members)
    if convert is None:
        def plain(raw: dict[str, str]) -> Any:
            found = pick(raw)
            return default if found is None else found[1]

        return plain

    if len(sources) == 1 and field.join is None:
        only = sources[0]

        # One call less per cell than going through `pick`: most converted columns have one source.
        def converted_one(raw: dict[str, str]) -> Any:
            cell = raw[only].strip()
            return convert(only, cell) if cell else default

        return converted_one

    def converted(raw: dict[str, str]) -> Any:
        found = pick(raw)
        if found is None:
            return default
        return convert(found[0], found[1])

    return converted


def _converter(field: Field, col: Col, members: dict[str, str | None] | None) -> Callable[[str, str], Any] | None:
    target = field.target
    if field.values or field.otherwise is not None:
        exact = dict(field.values)
        loose = {normalized(k): v for k, v in field.values}
        otherwise = field.otherwise
        # A cell that already holds a contract value needs no map entry.
        choices = frozenset(col.choices)

        def value(source: str, cell: str) -> str:
            found = exact.get(cell)
            if found is None:
                found = loose.get(normalized(cell))
            if found is None:
                found = cell if cell in choices else otherwise
            if found is None:
                raise _CellError(_("{value} (column {column}) is not in the value map of {field}").format(
                    value=repr(cell), column=repr(source), field=target))
            return found

        return value
    if field.format is not None:
        parse = DATE_PARSERS[field.format]
        fmt = field.format
        day_only = col.kind == "date"

        def date(source: str, cell: str) -> Any:
            try:
                value = parse(cell)
            except (ValueError, OverflowError, OSError):
                raise _CellError(_("{value} (column {column}) is not a date in the format {format}").format(
                    value=repr(cell), column=repr(source), format=fmt)) from None
            if type(value) is dt.date:
                # A day for a timestamp column: its midnight, company time.
                return value if day_only else dt.datetime(value.year, value.month, value.day)
            if day_only:
                return value.astimezone(company_zone()).date() if value.tzinfo else value.date()
            return value

        return date
    if field.owner:
        table = members or {}

        def owner(source: str, cell: str) -> str:
            email = table.get(cell.lower()) if "@" in cell else None
            if email is None:
                email = table.get(cell)
            if email is None:
                if cell in table:
                    why = _("owner {value} (column {column}) matches two team members")
                else:
                    why = _("owner {value} (column {column}) matches no team member by e-mail or name")
                raise _CellError(why.format(value=repr(cell), column=repr(source)))
            return email

        return owner
    return None


# --- named mappings and proposals ----------------------------------------------------------

# Other names a contract column often has in exports (compared loosely, see `normalized`).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "external_id": ("id", "record id", "key"),
    "email": ("email address", "e-mail", "e-mail address"),
    "company": ("company name", "account name", "organization"),
    "owner_email": ("owner", "owner email", "contact owner", "deal owner", "lead owner"),
    "source_channel": ("original source", "lead source", "source", "channel"),
    "lead_at": ("create date", "created date", "created at"),
    "created_at": ("create date", "created date"),
    "closed_at": ("close date", "closed date"),
    "status": ("stage", "deal stage"),
    "name": ("deal name", "opportunity name", "campaign name"),
    "amount": ("cost", "spend", "amount spent"),
    "visits": ("sessions",),
    "date": ("day",),
    "campaign_id": ("campaign id",),
    "contact_id": ("contact id",),
}


def header_signature(header: Iterable[str]) -> str:
    """The same set of columns (compared loosely, in any order) gives the same signature."""
    return hashlib.sha256("\n".join(sorted({normalized(h) for h in header})).encode()).hexdigest()


def mapping_named(resource: Resource, name: str) -> ColumnMapping:
    """A shipped preset or a saved mapping of `resource`, by name."""
    from smarketing.funnel.models import SavedMapping
    from smarketing.funnel.presets import PRESETS

    preset = PRESETS.get(name)
    if preset is not None:
        if preset.resource != resource.name:
            raise MappingError([("", _("preset {name} is for {preset_resource}, not {resource}").format(
                name=repr(name), preset_resource=preset.resource, resource=resource.name))])
        return ColumnMapping.of(resource, {**preset.spec, "name": name}, lenient=True)
    saved = SavedMapping.objects.filter(resource=resource.name, name=name).first()
    if saved is None:
        names = [p.name for p in PRESETS.values() if p.resource == resource.name]
        names += SavedMapping.objects.filter(resource=resource.name).values_list("name", flat=True)
        raise MappingError([("", _("no mapping named {name} for {resource} (known: {names})").format(
            name=repr(name), resource=resource.name, names=", ".join(names) or _("none")))])
    return ColumnMapping.of(resource, {**saved.spec, "name": name})


def mapping_save(*, resource: Resource, name: str, header: list[str], mapping: ColumnMapping, user=None) -> None:
    """Save (or replace) a named mapping of `resource`, proposed again for files with this header."""
    from smarketing.funnel.models import SavedMapping
    from smarketing.funnel.presets import PRESETS

    if name in PRESETS:
        raise MappingError([("", _("{name} is the name of a shipped preset: choose another name").format(
            name=repr(name)))])
    SavedMapping.objects.update_or_create(
        resource=resource.name, name=name,
        defaults={"signature": header_signature(header), "headers": header,
                  "spec": {**mapping.to_json(), "name": name},
                  "created_by": user},
    )


def _auto_fields(resource: Resource, header: list[str], taken: set[str]) -> dict[str, str]:
    """Contract column → file column by exact name, then loose name, then a known synonym."""
    loose: dict[str, str] = {}
    for name in header:
        loose.setdefault(normalized(name), name)
    out: dict[str, str] = {}
    for target in resource.columns:
        if target in taken:
            continue
        candidates = [target, *SYNONYMS.get(target, ())]
        for candidate in candidates:
            found = candidate if candidate in header else loose.get(normalized(candidate))
            if found is not None and found not in out.values():
                out[target] = found
                break
    return out


def _binds(mapping: ColumnMapping, header: list[str]) -> bool:
    try:
        mapping.bind(header, owners=dict)
    except MappingError:
        return False
    return True


def mapping_propose(resource: Resource, header: list[str]) -> dict[str, Any]:
    """The mapping to offer for a file: a saved one made for the same headers, else the preset that
    fits the header best, completed by name and synonym matches. {"mapping", "origin", "name"}."""
    from smarketing.funnel.models import SavedMapping
    from smarketing.funnel.presets import PRESETS

    saved = SavedMapping.objects.filter(resource=resource.name, signature=header_signature(header)).first()
    if saved is not None:
        return {"mapping": {**saved.spec, "name": saved.name}, "origin": "saved", "name": saved.name}
    present = set(header)
    best: tuple[int, str, ColumnMapping] | None = None
    for preset in PRESETS.values():
        if preset.resource != resource.name:
            continue
        mapping = ColumnMapping.of(resource, {**preset.spec, "name": preset.name}, lenient=True)
        used = len({s for f in mapping.fields for s in f.sources} & present)
        if used and _binds(mapping, header) and (best is None or used > best[0]):
            best = (used, preset.name, mapping)
    spec = best[2].to_json() if best else {"fields": {}}
    used = {s for rule in spec["fields"].values() for s in rule.get("from", [])}
    auto = _auto_fields(resource, [h for h in header if h not in used], set(spec["fields"]))
    spec["fields"].update({target: {"from": [source]} for target, source in auto.items()})
    if best:
        return {"mapping": spec, "origin": "preset", "name": best[1]}
    return {"mapping": spec, "origin": "names", "name": ""}


def values_uncovered(bound: BoundMapping, rows: Iterable[dict[str, str]]) -> dict[str, list[str]]:
    """Per enumeration column, the distinct cells (first seen first) that its value map does not
    turn into one of the column's values: what a data manager must still map."""
    resource = bound.mapping.resource
    out: dict[str, list[str]] = {}
    rows = list(rows)
    for field in bound.mapping.fields:
        col = resource.col(field.target)
        if col.kind != "enum" or field.otherwise is not None:
            continue
        convert = _converter(field, col, None)
        seen: dict[str, None] = {}
        for raw in rows:
            cell = next((raw[s].strip() for s in field.sources if raw.get(s, "").strip()), None)
            if cell is None or cell in seen:
                continue
            try:
                value = convert(field.sources[0], cell) if convert else cell
            except _CellError:
                value = None
            if value not in col.choices:
                seen[cell] = None
        if seen:
            out[field.target] = list(seen)
    return out
