"""The one row schema per data-contract resource: the only place a row is validated.

Each resource is a pydantic model (fast: validation runs in pydantic-core, the column
parsers are small functions) plus the row rules the contract lists (count sanity,
lifecycle order, deal status). The REST serializer, the CSV importer and the admin all
call `row_validate`; cross-row rules (references, duplicate keys) are checked per batch
by `funnel.services`.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.signals import setting_changed
from django.db import models as djm
from django.dispatch import receiver
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError
from pydantic_core import PydanticCustomError

from smarketing.funnel import models as m
from smarketing.kpis.windows import is_period_start, period_bounds

METRIC_KEY_RE = re.compile(r"^[a-z0-9_]+$")


def _metric_key_shape(key: str) -> bool:
    return bool(METRIC_KEY_RE.match(key))


# `funnel` must not import `kpis.registry`; kpis swaps in the registry's check from its
# AppConfig.ready (`metric_key_validator_set(lambda key: key in METRICS)`).
metric_key_validator: Callable[[str], bool] = _metric_key_shape


def metric_key_validator_set(check: Callable[[str], bool] | None) -> None:
    """Install the check `targets.metric` must pass (None restores the shape-only default)."""
    global metric_key_validator
    metric_key_validator = check or _metric_key_shape


# --- columns ------------------------------------------------------------------------


@dataclass(frozen=True)
class Col:
    """What a column holds, for the API schema, templates and examples."""

    kind: str  # text | email | url | enum | date | timestamp | count | money | decimal | bool | ref
    required: bool = False
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    # References: the target resource and the model's foreign key.
    ref: str | None = None
    field: str | None = None
    # Money / decimals.
    decimal_places: int = 2
    max_digits: int = 14
    signed: bool = False
    default: Any = None


def _fail(kind: str, message: str) -> PydanticCustomError:
    """A cell error; `message` is made (translated) by the caller in the language active now:
    the reader's on the upload page and in the API, English in management commands."""
    return PydanticCustomError(kind, message)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise _fail("text", _("must be text"))
    return str(value)


def _required() -> PydanticCustomError:
    return _fail("required", _("is required"))


# A lone UTF-16 surrogate is no character: JSON can spell one ("\ud800"), and a CSV byte that
# is not UTF-8 is read as one (surrogateescape), so the row and column can be named.
SURROGATE_RE = re.compile("[\ud800-\udfff]")


def not_unicode() -> str:
    return _("is not UTF-8 text (holds a byte or a lone surrogate such as \\ud800 that is no character)")


def printable(text: str) -> str:
    """Text safe to store and show: lone surrogates written as escapes (\\udc80)."""
    return text if text.isascii() else text.encode("utf-8", "backslashreplace").decode("utf-8")


def _cell_text(value: Any, *, required: bool) -> str | None:
    """A cell as stripped text; blank is None, or a required-column error."""
    # A plain str (every CSV cell) takes the short path: same checks, one strip.
    if type(value) is str:
        text = value.strip()
        if text:
            if "\x00" in text:
                # PostgreSQL text cannot hold it: a row error, not a failed import.
                raise _fail("nul", _("contains a NUL character (\\x00)"))
            if not text.isascii() and SURROGATE_RE.search(text):
                raise _fail("encoding", not_unicode())
            return text
    elif not _blank(value):
        return _as_text(value)
    if required:
        raise _required()
    return None


def _text(col: Col) -> Callable[[Any], str | None]:
    required = col.required
    max_length = col.max_length

    def parse(value: Any) -> str | None:
        text = _cell_text(value, required=required)
        if text is None:
            return None
        if max_length and len(text) > max_length:
            raise _fail("too_long", _("is longer than {limit} characters").format(limit=max_length))
        return text

    return parse


# An address as mail systems hand them out: letters, digits and . _ % + - ' before the @,
# host labels and a top-level domain of letters after it. Markup (<img …>) and formula
# characters (= | ! /) are refused, though RFC 5322 allows some of them.
EMAIL_RE = re.compile(
    r"^[\w.%+'-]+@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[\w-]{1,59})$"
)


def _email(col: Col, *, lower: bool) -> Callable[[Any], str | None]:
    base = _text(col)

    def parse(value: Any) -> str | None:
        text = base(value)
        if text is None:
            return None
        if not EMAIL_RE.match(text):
            raise _fail("email", _("{value} is not an email address").format(value=repr(text)))
        return text.lower() if lower else text

    return parse


def _url(col: Col) -> Callable[[Any], str | None]:
    base = _text(col)

    def parse(value: Any) -> str | None:
        text = base(value)
        if text is not None and not re.match(r"^https?://\S+$", text):
            raise _fail("url", _("{value} is not an http(s) URL").format(value=repr(text)))
        return text

    return parse


def _enum(col: Col) -> Callable[[Any], str | None]:
    allowed = frozenset(col.choices)
    listing = ", ".join(col.choices)

    required = col.required

    def parse(value: Any) -> str | None:
        text = _cell_text(value, required=required)
        if text is None:
            return None
        if text not in allowed:
            raise _fail("enum", _("{value} is not one of: {choices}").format(value=repr(text), choices=listing))
        return text

    return parse


DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Dates and timestamps (as company-zone days) outside these years are row errors: nothing a
# funnel holds is older or later, and near year 1 or 9999 date arithmetic overflows.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    text = _as_text(value)
    if not DATE_RE.match(text):
        raise _fail("date", _("{value} is not a date (YYYY-MM-DD)").format(value=repr(text)))
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise _fail("date", _("{value} is not a calendar date").format(value=repr(text))) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise _fail("date_range", _("{value} is outside {first}–{last}").format(
            value=repr(text), first=FIRST_DAY.year, last=LAST_DAY.year))
    return day


def _blank_or(col: Col, parse_value: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """An empty cell is null (or a required-column error); anything else goes to `parse_value`."""

    required = col.required

    def parse(value: Any) -> Any:
        if type(value) is str:
            if not value.strip():
                if required:
                    raise _required()
                return None
        elif _blank(value):
            if required:
                raise _required()
            return None
        return parse_value(value)

    return parse


def _date(col: Col) -> Callable[[Any], dt.date | None]:
    return _blank_or(col, parse_date)


UTC = dt.UTC


def localize(naive: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """Attach the company zone: fold=0 for an ambiguous time, an error for one that never happened."""
    aware = naive.replace(tzinfo=tz, fold=0)
    if tz.key != "UTC" and aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise _fail(
            "nonexistent_time",
            _("{time} does not exist in {zone} (clocks jump past it); give an offset").format(
                time=naive.isoformat(), zone=tz.key),
        )
    return aware


_zone: list[ZoneInfo] = []


def company_zone() -> ZoneInfo:
    """The company time zone, read from settings once (reset when a test overrides it)."""
    if not _zone:
        _zone.append(ZoneInfo(settings.SMARKETING_TIMEZONE))
    return _zone[0]


@receiver(setting_changed)
def _forget_zone(setting: str, **kwargs: Any) -> None:
    if setting == "SMARKETING_TIMEZONE":
        _zone.clear()


def parse_timestamp(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        text = value.strip() if type(value) is str else _as_text(value)
        if len(text) < 13 or text[10] not in "T ":
            raise _fail("timestamp", _("{value} is not an ISO 8601 timestamp (YYYY-MM-DDTHH:MM[:SS][offset])").format(
                value=repr(text)))
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise _fail("timestamp", _("{value} is not an ISO 8601 timestamp").format(value=repr(text))) from None
    zone = company_zone()
    try:
        if parsed.tzinfo is None:
            parsed = localize(parsed, zone)
        day = parsed.astimezone(zone).date()
    except OverflowError:  # e.g. 9999-12-31T23:59:59-23:59 is in the year 10000 in UTC
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        raise _fail("timestamp_range", _("{value} is outside {first}–{last} ({zone})").format(
            value=repr(printable(str(value).strip())), first=FIRST_DAY.year, last=LAST_DAY.year, zone=zone.key))
    return parsed


def _timestamp(col: Col) -> Callable[[Any], dt.datetime | None]:
    return _blank_or(col, parse_timestamp)


def _count(col: Col) -> Callable[[Any], int | None]:
    def parse(value: Any) -> int | None:
        if _blank(value):
            if col.required:
                raise _required()
            return col.default
        if isinstance(value, bool):
            raise _fail("count", _("must be a whole number"))
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        else:
            text = _as_text(value)
            try:
                number = int(text)
            except ValueError:
                raise _fail("count", _("{value} is not a whole number").format(value=repr(text))) from None
        if number < 0:
            raise _fail("negative", _("must be 0 or more"))
        if number > 2_147_483_647:
            raise _fail("too_large", _("is too large"))
        return number

    return parse


DECIMAL_RE = re.compile(r"^-?\d+(\.\d+)?$")


def _decimal(col: Col) -> Callable[[Any], Decimal | None]:
    whole_digits = col.max_digits - col.decimal_places

    def parse(value: Any) -> Decimal | None:
        if _blank(value):
            if col.required:
                raise _required()
            return col.default
        if isinstance(value, bool):
            raise _fail("decimal", _("must be a number"))
        text = _as_text(value)
        if not DECIMAL_RE.match(text):
            raise _fail("decimal", _("{value} is not a number (digits, '.' as the decimal separator)").format(
                value=repr(text)))
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise _fail("decimal", _("{value} is not a number").format(value=repr(text))) from None
        if number < 0 and not col.signed:
            raise _fail("negative", _("must be 0 or more"))
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > col.decimal_places and number != number.quantize(
            Decimal(1).scaleb(-col.decimal_places)
        ):
            raise _fail("decimal_places", _("has more than {places} decimal places").format(
                places=col.decimal_places))
        if abs(number) >= Decimal(10) ** whole_digits:
            raise _fail("too_large", _("is too large"))
        return number

    return parse


TRUE_WORDS = frozenset({"true", "1", "yes"})
FALSE_WORDS = frozenset({"false", "0", "no"})


def _bool(col: Col) -> Callable[[Any], bool | None]:
    def parse(value: Any) -> bool | None:
        if _blank(value):
            if col.required:
                raise _required()
            return col.default
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        text = _as_text(value).lower()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise _fail("bool", _("{value} is not a boolean (true/false, 1/0, yes/no)").format(value=repr(text)))

    return parse


PARSERS: dict[str, Callable[[Col], Callable[[Any], Any]]] = {
    "text": _text,
    "ref": _text,
    "email": lambda col: _email(col, lower=False),
    "member": lambda col: _email(col, lower=True),
    "url": _url,
    "enum": _enum,
    "date": _date,
    "timestamp": _timestamp,
    "count": _count,
    "money": _decimal,
    "decimal": _decimal,
    "bool": _bool,
}


def column(kind: str, **options: Any) -> Any:
    """An annotated column type: the parser pydantic runs plus its `Col` description."""
    col = Col(kind=kind, **options)
    return Annotated[Any, PlainValidator(PARSERS[kind](col)), col]


def enum(choices: type[djm.TextChoices], *, required: bool = False) -> Any:
    return column("enum", choices=tuple(choices.values), required=required)


def ref(target: str, field: str, *, required: bool = False) -> Any:
    kind = "member" if target == "team_members" else "ref"
    return column(kind, ref=target, field=field, required=required, max_length=320 if kind == "member" else 100)


KEY = column("text", required=True, max_length=100)
TIMESTAMP = column("timestamp", required=True)
OPT_TIMESTAMP = column("timestamp")
DATE = column("date", required=True)
OPT_DATE = column("date")
COUNT = column("count", required=True)
OPT_COUNT = column("count", default=0)
MONEY = column("money", required=True)
OPT_MONEY = column("money", default=Decimal("0"))


def text(max_length: int, *, required: bool = False) -> Any:
    return column("text", required=required, max_length=max_length)


# --- row schemas --------------------------------------------------------------------


class RowSchema(BaseModel):
    """A row of one resource; unknown columns are an error."""

    model_config = ConfigDict(extra="forbid", frozen=False, hide_input_in_errors=True)

    # (smaller, larger): a row error on `smaller` when it exceeds `larger`.
    limits: ClassVar[tuple[tuple[str, str], ...]] = ()

    def row_errors(self) -> list[tuple[str, str]]:
        """(field, message) for each rule on the whole row that this row breaks."""
        values = self.__dict__
        errors = []
        for smaller, larger in self.limits:
            low, high = values.get(smaller), values.get(larger)
            if low is not None and high is not None and low > high:
                errors.append((smaller, _("{smaller} ({low}) is more than {larger} ({high})").format(
                    smaller=smaller, low=low, larger=larger, high=high)))
        return errors


class TeamMemberRow(RowSchema):
    email: column("member", required=True, max_length=254)
    name: text(200, required=True)
    team: enum(m.Team, required=True)
    role: enum(m.Role) = None


class CampaignRow(RowSchema):
    external_id: KEY
    name: text(300, required=True)
    channel: enum(m.Channel, required=True)
    start_date: OPT_DATE = None
    end_date: OPT_DATE = None
    budget: column("money") = None

    def row_errors(self) -> list[tuple[str, str]]:
        errors = super().row_errors()
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors.append(("end_date", _("end_date is before start_date")))
        return errors


class ContentRow(RowSchema):
    external_id: KEY
    title: text(500, required=True)
    content_type: enum(m.ContentType, required=True)
    url: column("url", max_length=1000) = None
    published_at: OPT_TIMESTAMP = None
    campaign_id: ref("campaigns", "campaign") = None


LIFECYCLE = tuple(f"{stage}_at" for stage in m.CONTACT_STAGES)


class ContactRow(RowSchema):
    external_id: KEY
    email: column("email", max_length=320) = None
    company: text(300) = None
    industry: text(100) = None
    offer: enum(m.Offer) = None
    source_channel: enum(m.Channel, required=True)
    campaign_id: ref("campaigns", "campaign") = None
    owner_email: ref("team_members", "owner") = None
    referred_by: ref("contacts", "referred_by") = None
    lead_at: TIMESTAMP
    nurture_at: OPT_TIMESTAMP = None
    mql_at: OPT_TIMESTAMP = None
    demo_at: OPT_TIMESTAMP = None
    sql_at: OPT_TIMESTAMP = None
    opportunity_at: OPT_TIMESTAMP = None
    customer_at: OPT_TIMESTAMP = None
    churned_at: OPT_TIMESTAMP = None
    disqualified_at: OPT_TIMESTAMP = None
    disqualification_reason: enum(m.DisqualificationReason) = None

    def row_errors(self) -> list[tuple[str, str]]:
        errors = super().row_errors()
        values = self.__dict__
        latest: tuple[str, dt.datetime] | None = None
        for name in LIFECYCLE:
            value = values[name]
            if value is None:
                continue
            if latest is not None and value < latest[1]:
                errors.append((name, _("{stage} is before {earlier} (stages must not go back in time)").format(
                    stage=name, earlier=latest[0])))
            else:
                latest = (name, value)
        for name in ("nurture_at", "demo_at", "disqualified_at"):
            if values[name] is not None and values[name] < self.lead_at:
                errors.append((name, _("{stage} is before lead_at").format(stage=name)))
        if self.disqualified_at is not None and self.disqualification_reason is None:
            errors.append(("disqualification_reason", _("is required when disqualified_at is set")))
        elif self.disqualified_at is None and self.disqualification_reason is not None:
            errors.append(("disqualification_reason", _("must be empty when disqualified_at is empty")))
        return errors


class DealRow(RowSchema):
    external_id: KEY
    contact_id: ref("contacts", "contact") = None
    owner_email: ref("team_members", "owner") = None
    name: text(300) = None
    amount: MONEY
    mrr: OPT_MONEY = Decimal("0")
    status: enum(m.DealStatus, required=True)
    created_at: TIMESTAMP
    closed_at: OPT_TIMESTAMP = None

    def row_errors(self) -> list[tuple[str, str]]:
        errors = super().row_errors()
        if self.status == "open" and self.closed_at is not None:
            errors.append(("closed_at", _("an open deal has no closed_at")))
        elif self.status in ("won", "lost"):
            if self.closed_at is None:
                errors.append(("closed_at", _("a {status} deal needs closed_at").format(status=self.status)))
            elif self.closed_at < self.created_at:
                errors.append(("closed_at", _("closed_at is before created_at")))
        return errors


class ActivityRow(RowSchema):
    external_id: KEY
    contact_id: ref("contacts", "contact", required=True)
    owner_email: ref("team_members", "owner") = None
    activity_type: enum(m.ActivityType, required=True)
    occurred_at: TIMESTAMP
    connected: column("bool", default=False) = False


class TouchRow(RowSchema):
    external_id: KEY
    contact_id: ref("contacts", "contact", required=True)
    occurred_at: TIMESTAMP
    channel: enum(m.Channel, required=True)
    campaign_id: ref("campaigns", "campaign") = None
    content_id: ref("content", "content") = None


class WebTrafficRow(RowSchema):
    date: DATE
    page: text(500, required=True)
    section: enum(m.Section, required=True)
    source: enum(m.WebSource, required=True)
    visits: COUNT
    entrances: OPT_COUNT = 0
    bounces: OPT_COUNT = 0
    limits = (("entrances", "visits"), ("bounces", "entrances"))


class CtaStatRow(RowSchema):
    date: DATE
    cta: text(300, required=True)
    placement: enum(m.Placement, required=True)
    views: COUNT
    clicks: COUNT
    limits = (("clicks", "views"),)


class LandingPageRow(RowSchema):
    date: DATE
    page: text(500, required=True)
    source: enum(m.WebSource, required=True)
    campaign_id: ref("campaigns", "campaign") = None
    views: COUNT
    submissions: COUNT
    limits = (("submissions", "views"),)


class EmailSendRow(RowSchema):
    external_id: KEY
    name: text(300) = None
    campaign_id: ref("campaigns", "campaign") = None
    email_type: enum(m.EmailType) = None
    sent_at: TIMESTAMP
    sent: COUNT
    delivered: COUNT
    unique_opens: COUNT
    unique_clicks: COUNT
    unsubscribes: COUNT
    # unique_clicks may exceed unique_opens: image blocking under-counts opens.
    limits = (
        ("delivered", "sent"),
        ("unique_opens", "delivered"),
        ("unique_clicks", "delivered"),
        ("unsubscribes", "delivered"),
    )


class AudienceRow(RowSchema):
    date: DATE
    channel: enum(m.AudienceChannel, required=True)
    size: COUNT


class SocialStatRow(RowSchema):
    date: DATE
    network: enum(m.Network, required=True)
    impressions: COUNT
    engagements: COUNT
    clicks: COUNT


class SpendRow(RowSchema):
    external_id: KEY
    date: DATE
    channel: enum(m.Channel, required=True)
    campaign_id: ref("campaigns", "campaign") = None
    category: enum(m.SpendCategory, required=True)
    amount: MONEY
    description: text(500) = None
    impressions: column("count") = None
    clicks: column("count") = None
    limits = (("clicks", "impressions"),)


class WebinarRow(RowSchema):
    external_id: KEY
    name: text(300, required=True)
    campaign_id: ref("campaigns", "campaign") = None
    held_at: TIMESTAMP
    registrants: COUNT
    attendees: COUNT
    limits = (("attendees", "registrants"),)


class DirectMailRow(RowSchema):
    external_id: KEY
    name: text(300) = None
    campaign_id: ref("campaigns", "campaign") = None
    sent_at: TIMESTAMP
    sent: COUNT
    claimed: COUNT
    meetings_booked: COUNT
    limits = (("claimed", "sent"), ("meetings_booked", "claimed"))


class FeatureUsageRow(RowSchema):
    date: DATE
    feature: text(200, required=True)
    customers_total: COUNT
    customers_activated: COUNT
    content_readers: OPT_COUNT = 0
    readers_activated: OPT_COUNT = 0
    upgrade_revenue: OPT_MONEY = Decimal("0")
    limits = (("customers_activated", "customers_total"), ("readers_activated", "content_readers"))


class TargetAccountRow(RowSchema):
    domain: text(255, required=True)
    name: text(300, required=True)

    def model_post_init(self, context: Any) -> None:
        # Account penetration compares domains case-insensitively.
        self.domain = self.domain.lower()


class TargetRow(RowSchema):
    metric: text(100, required=True)
    period: enum(m.Period, required=True)
    period_start: DATE
    value: column("decimal", required=True, max_digits=18, decimal_places=4, signed=True)
    owner_email: ref("team_members", "owner") = None
    channel: enum(m.Channel) = None
    campaign_id: ref("campaigns", "campaign") = None

    def row_errors(self) -> list[tuple[str, str]]:
        errors = super().row_errors()
        slices = [name for name in ("owner_email", "channel", "campaign_id") if getattr(self, name) is not None]
        if len(slices) > 1:
            errors.append((slices[1], _("a target is for one slice: {columns} are both set "
                                        "(leave all empty for a team-wide target)").format(
                columns=functools.reduce(lambda first, second: _("{first} and {second}").format(
                    first=first, second=second), slices))))
        if not metric_key_validator(self.metric):
            errors.append(("metric", _("{value} is not a metric key (see the KPI catalogue)").format(
                value=repr(self.metric))))
        if not is_period_start(self.period, self.period_start):
            first = period_bounds(self.period, self.period_start)[0]
            errors.append(("period_start", _("{day} is not the first day of a {period} (use {first})").format(
                day=self.period_start, period=self.period, first=first)))
        return errors


# --- resources ----------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    name: str
    model: type[djm.Model]
    schema: type[RowSchema]
    key: tuple[str, ...]
    label: str

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.schema.model_fields)

    def col(self, name: str) -> Col:
        for item in self.schema.model_fields[name].metadata:
            if isinstance(item, Col):
                return item
        raise KeyError(name)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(name for name in self.columns if self.col(name).required)

    @property
    def refs(self) -> tuple[str, ...]:
        return tuple(name for name in self.columns if self.col(name).ref)

    def field_name(self, column_name: str) -> str:
        """The model field a column fills (`campaign_id` fills the `campaign` foreign key)."""
        return self.col(column_name).field or column_name

    @property
    def date_columns(self) -> tuple[str, ...]:
        return tuple(name for name in self.columns if self.col(name).kind in ("date", "timestamp"))


def _resource(name: str, model: type[djm.Model], schema: type[RowSchema], key: tuple[str, ...]) -> Resource:
    return Resource(name=name, model=model, schema=schema, key=key, label=name.replace("_", " ").capitalize())


EXT = ("external_id",)

# In dependency order: a resource only references resources above it.
RESOURCES: dict[str, Resource] = {
    r.name: r
    for r in (
        _resource("team_members", m.TeamMember, TeamMemberRow, ("email",)),
        _resource("campaigns", m.Campaign, CampaignRow, EXT),
        _resource("content", m.Content, ContentRow, EXT),
        _resource("contacts", m.Contact, ContactRow, EXT),
        _resource("deals", m.Deal, DealRow, EXT),
        _resource("activities", m.Activity, ActivityRow, EXT),
        _resource("touches", m.Touch, TouchRow, EXT),
        _resource("web_traffic", m.WebTraffic, WebTrafficRow, ("date", "page", "source")),
        _resource("cta_stats", m.CtaStat, CtaStatRow, ("date", "cta", "placement")),
        _resource("landing_pages", m.LandingPage, LandingPageRow, ("date", "page", "source")),
        _resource("email_sends", m.EmailSend, EmailSendRow, EXT),
        _resource("audience", m.Audience, AudienceRow, ("date", "channel")),
        _resource("social_stats", m.SocialStat, SocialStatRow, ("date", "network")),
        _resource("spend", m.Spend, SpendRow, EXT),
        _resource("webinars", m.Webinar, WebinarRow, EXT),
        _resource("direct_mail", m.DirectMail, DirectMailRow, EXT),
        _resource("feature_usage", m.FeatureUsage, FeatureUsageRow, ("date", "feature")),
        _resource("target_accounts", m.TargetAccount, TargetAccountRow, ("domain",)),
        _resource("targets", m.Target, TargetRow,
                  ("metric", "period", "period_start", "owner_email", "channel", "campaign_id")),
    )
}
RESOURCE_BY_MODEL: dict[type[djm.Model], Resource] = {r.model: r for r in RESOURCES.values()}


class UnknownResource(KeyError):
    pass


def resource_get(name: str) -> Resource:
    try:
        return RESOURCES[name]
    except KeyError:
        raise UnknownResource(_("unknown resource {name}: use one of {resources}").format(
            name=repr(name), resources=", ".join(RESOURCES))) from None


# --- validation ---------------------------------------------------------------------

# Lazy: each is read (in the language active then) when a row has the error.
PYDANTIC_MESSAGES = {
    "extra_forbidden": gettext_lazy("unknown column"),
    # Empty cells are dropped before validation, so a missing required value lands here.
    "missing": gettext_lazy("is required"),
    "model_type": gettext_lazy("each row must be an object of column: value pairs"),
    # A column name (JSON key) holding a lone surrogate.
    "string_unicode": gettext_lazy(
        "a column name is not UTF-8 text (holds a byte or a lone surrogate such as \\ud800 that is no character)"),
}


def row_validate(resource: Resource, data: Mapping[str, Any]) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """Parse one row: (values by column, []) or (None, [(field, message), ...])."""
    try:
        # An empty cell is null: leaving it out lets the column's default apply without a call.
        row = resource.schema.model_validate({k: v for k, v in data.items() if v is not None and v != ""})
    except ValidationError as exc:
        errors = []
        for error in exc.errors(include_url=False, include_input=False):
            field = str(error["loc"][0]) if error["loc"] else ""
            errors.append((field, str(PYDANTIC_MESSAGES.get(error["type"], error["msg"]))))
        return None, errors
    problems = row.row_errors()
    if problems:
        return None, problems
    return row.__dict__, []


def unknown_column(resource: Resource) -> str:
    return _("unknown column (columns of {resource}: {columns})").format(
        resource=resource.name, columns=", ".join(resource.columns))


def header_errors(resource: Resource, header: list[str]) -> list[tuple[str, str]]:
    """A CSV header's problems: unknown, repeated and missing required columns."""
    errors = []
    known = set(resource.columns)
    seen: set[str] = set()
    for name in header:
        if name not in known:
            errors.append((name, unknown_column(resource)))
        elif name in seen:
            errors.append((name, _("column appears twice")))
        seen.add(name)
    for name in resource.required:
        if name not in seen:
            errors.append((name, _("required column is missing")))
    return errors
