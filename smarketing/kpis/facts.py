"""Set-based rebuild of the daily facts, one `WITH … INSERT … SELECT` per family of measures.

A family is one row-level SELECT over funnel tables (one row per record, or per record
and bucket) that yields the fact `day`, a `bucket`, one `k_<dimension>` column per
dimension and one `m_<measure>` column per measure (NULL when the record does not count
for that measure, so a breakdown lists only keys with records). Its `{where}` keeps the
records whose day column is in the days rebuilt; an arm whose day is another indexed
column says `{where:<column>}`. The rebuild groups it by
day × bucket × key for the total and for each dimension and unpivots the sums into
`kpis_fact`, all inside the database: nothing loops over funnel records in Python.

Stocks are stored as dated deltas (a deal adds its amount on its creation day and removes
it on the day it closes; an audience reading adds its change since the previous
reading), so the level at any end is the sum of every fact up to that day. Cohort
measures are keyed by the day the cohort entered.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from smarketing.funnel import models as funnel
from smarketing.kpis.models import EMPTY, Fact, FactLagDay, FactLagMonth, FactLevel, FactMonth

from .registry import METRICS, NONE_KEY
from .windows import period_bounds

EPOCH = dt.date(1900, 1, 1)  # day of the undated stocks (the number of target accounts)
MAX_BUCKET = 100  # attempts histogram cap: SLA_MIN_ATTEMPTS above it reads as 100
MAX_RANGES = 24
MAX_LISTED_DAYS = 1000  # a rebuild's days named one by one up to this many (`_days_in`)
REBUILD_WORK_MEM = "64MB"  # sort and hash memory of a day rebuild's statements (PostgreSQL)
REBUILD_RANDOM_PAGE_COST = 1.1  # the planner's cost of an index probe in a day rebuild (PostgreSQL)


@dataclass(frozen=True)
class Family:
    name: str
    base: str  # SELECT with {where} (and {table} names); see module docstring
    # The indexed column the day ranges filter ({where}), in `base`'s aliases; None when every
    # arm names its own ({where:<column>}).
    day_column: str | None
    measures: tuple[str, ...]
    dims: tuple[str, ...]
    total: bool = True
    full_only: bool = False  # small tables whose deltas span readings: always rebuilt whole
    # Conversion counts whose zero adds nothing: the same records' entry measure already
    # marks the key as present, so zero rows are not stored (a third fewer rows).
    sparse: tuple[str, ...] = ()
    # Reads one row per MQL (`_mql_attempts`) where `base` says {mqls}; True: with `nth_on`.
    mqls: bool | None = None

    @property
    def written_dims(self) -> tuple[str, ...]:
        return (("",) if self.total else ()) + self.dims


# --- vendor differences, kept to these few helpers --------------------------------------


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _days_between(a: str, b: str) -> str:
    if _pg():
        return f"(EXTRACT(EPOCH FROM ({b} - {a})) / 86400.0)"
    return f"(julianday({b}) - julianday({a}))"


def _day_diff(a: str, b: str) -> str:
    """Whole days from date `a` to date `b` (b − a)."""
    if _pg():
        return f"({b} - {a})"
    return f"CAST(julianday({b}) - julianday({a}) AS INTEGER)"


def _hours_between(a: str, b: str) -> str:
    return f"({_days_between(a, b)} * 24.0)"


def _at_most_hours_after(a: str, b: str, hours: float) -> str:
    """`b` is at most `hours` after `a`, exactly at the boundary on both databases."""
    if _pg():
        return f"(EXTRACT(EPOCH FROM ({b} - {a})) <= {float(hours) * 3600.0})"
    # julianday carries ~50 µs of float noise: compare whole milliseconds, so exactly
    # `hours` later is on time and a millisecond more is not.
    return f"(ROUND((julianday({b}) - julianday({a})) * 86400000.0) <= {round(float(hours) * 3600000.0)})"


def _greatest(a: str, b: str) -> str:
    return f"GREATEST({a}, {b})" if _pg() else f"MAX({a}, {b})"


def _least(a: str, b: str) -> str:
    return f"LEAST({a}, {b})" if _pg() else f"MIN({a}, {b})"


def date_literal(day: dt.date) -> str:
    # Dates come from date objects only, so inlining them cannot inject anything.
    return f"DATE '{day.isoformat()}'" if _pg() else f"'{day.isoformat()}'"


def measure_literal(measure: str) -> str:
    """A measure's name as SQL text: only a measure some family writes passes (the names come
    from the registry, never from a request; this keeps it so)."""
    if measure not in _written_measures():
        raise ValueError(f"not a measure name: {measure!r}")
    return f"'{measure}'"


# The funnel records the families read, by the name their SQL gives them.
RECORD_MODELS = {
    "contact": funnel.Contact, "deal": funnel.Deal, "activity": funnel.Activity,
    "touch": funnel.Touch, "campaign": funnel.Campaign, "member": funnel.TeamMember,
    "content": funnel.Content, "web": funnel.WebTraffic, "cta": funnel.CtaStat,
    "landing": funnel.LandingPage, "email": funnel.EmailSend, "audience": funnel.Audience,
    "social": funnel.SocialStat, "spend": funnel.Spend, "webinar": funnel.Webinar,
    "mail": funnel.DirectMail, "feature": funnel.FeatureUsage, "account": funnel.TargetAccount,
}


def _tables() -> dict[str, str]:
    names = {name: model._meta.db_table for name, model in {**RECORD_MODELS, **FACT_TABLES}.items()}
    suffix = _fact_tables_suffix.get()
    return {name: f"{table}{suffix}" if name in FACT_TABLES else table for name, table in names.items()}


# The facts and their sums; a rebuild of everything writes them into fresh copies (`NEXT`).
FACT_TABLES = {"fact": Fact, "fact_month": FactMonth, "lag_month": FactLagMonth, "lag_day": FactLagDay,
               "level": FactLevel}
NEXT = "_next"
_fact_tables_suffix: ContextVar[str] = ContextVar("facts_tables_suffix", default="")


# --- the families -------------------------------------------------------------------------

CONTACT_DIMS = ("channel", "campaign", "owner", "industry", "offer")
DISQUALIFIED_DIMS = (*CONTACT_DIMS, "disqualification_reason")
DEAL_DIMS = ("owner", "channel", "campaign")
SOCIAL = "', '".join(funnel.SOCIAL_AUDIENCE_CHANNELS)
# Click rate reads only the spend rows that carry both paid-media counts.
PAID_BOTH = "s.impressions IS NOT NULL AND s.clicks IS NOT NULL"


def _text_key(column: str) -> str:
    """A free-text or optional enumeration column as a key: trimmed, empty = `(none)` (reading 10)."""
    return f"CASE WHEN TRIM({column}) = '' THEN '{NONE_KEY}' ELSE TRIM({column}) END"


def _contact_keys(alias: str = "c") -> str:
    return (f"{alias}.source_channel AS k_channel, COALESCE({alias}_cp.external_id, '{NONE_KEY}') AS k_campaign, "
            f"COALESCE({alias}_tm.email, '{NONE_KEY}') AS k_owner, {_text_key(f'{alias}.industry')} AS k_industry, "
            f"{_text_key(f'{alias}.offer')} AS k_offer")


def _contact_joins(alias: str = "c") -> str:
    return (f"LEFT JOIN {{campaign}} {alias}_cp ON {alias}_cp.id = {alias}.campaign_id "
            f"LEFT JOIN {{member}} {alias}_tm ON {alias}_tm.id = {alias}.owner_id")


def _deal_keys() -> str:
    return (f"COALESCE(d_tm.email, '{NONE_KEY}') AS k_owner, COALESCE(c.source_channel, '{NONE_KEY}') AS k_channel, "
            f"COALESCE(c_cp.external_id, '{NONE_KEY}') AS k_campaign")


def _deal_joins() -> str:
    return ("LEFT JOIN {contact} c ON c.id = d.contact_id LEFT JOIN {campaign} c_cp ON c_cp.id = c.campaign_id "
            "LEFT JOIN {member} d_tm ON d_tm.id = d.owner_id")


def _flag(condition: str, value: str = "1") -> str:
    """`value` for the records that satisfy `condition`, NULL (= not a record) otherwise."""
    return f"CASE WHEN {condition} THEN {value} END"


def _eq(column: str, value: str) -> str:
    return f"{column} = '{value}'"


def _social(column: str) -> str:
    return f"{column} IN ('{SOCIAL}')"


def _one_if(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


COHORTS = (("lead", "mql"), ("mql", "sql"), ("mql", "opportunity"), ("opportunity", "customer"),
           ("lead", "customer"), ("lead", "opportunity"), ("mql", "demo"), ("nurture", "mql"),
           ("mql", "customer"))
STAGE_DAYS = (("lead", "mql"), ("mql", "sql"), ("sql", "opportunity"), ("opportunity", "customer"),
              ("lead", "customer"))
STAGES = ("lead", "nurture", "mql", "demo", "sql", "opportunity", "customer", "churned", "disqualified")
# An MQL sales rejected: ruled out (at any time) without ever becoming an SQL.
REJECTED = "c.disqualified_at IS NOT NULL AND c.sql_at IS NULL"


def _stage_family(stage: str) -> Family:
    columns = [f"1 AS m_entered_{stage}"]
    measures = [f"entered_{stage}"]
    for a, b in COHORTS:
        if a == stage:
            columns.append(f"{_one_if(f'c.{b}_at IS NOT NULL')} AS m_coh_{a}_{b}")
            measures.append(f"coh_{a}_{b}")
    for a, b in STAGE_DAYS:
        if b == stage:
            columns.append(f"{_flag(f'c.{a}_at IS NOT NULL', _days_between(f'c.{a}_at', f'c.{b}_at'))} "
                           f"AS m_days_{a}_{b}_total")
            columns.append(f"{_flag(f'c.{a}_at IS NOT NULL')} AS m_days_{a}_{b}_count")
            measures += [f"days_{a}_{b}_total", f"days_{a}_{b}_count"]
    if stage == "churned":
        columns.append(f"{_flag('c.customer_at IS NOT NULL')} AS m_churned_customers")
        measures.append("churned_customers")
    if stage == "mql":
        columns.append(f"{_one_if(REJECTED)} AS m_coh_mql_rejected")
        measures.append("coh_mql_rejected")
    if stage == "customer":
        columns.append(
            f"{_one_if('EXISTS (SELECT 1 FROM {touch} t WHERE t.contact_id = c.id AND t.content_id IS NOT NULL AND t.occurred_at <= c.customer_at)')}"
            " AS m_content_assisted")
        measures.append("content_assisted")
    dims = CONTACT_DIMS
    keys = _contact_keys()
    if stage == "disqualified":
        dims = DISQUALIFIED_DIMS
        keys += f", {_text_key('c.disqualification_reason')} AS k_disqualification_reason"
    base = (f"SELECT c.{stage}_on AS day, 0 AS bucket, {keys}, {', '.join(columns)} "
            f"FROM {{contact}} c {_contact_joins()} WHERE {{where}}")
    sparse = tuple(name for name in measures if name.startswith("coh_") or name == "content_assisted")
    return Family(f"contacts_{stage}", base, f"c.{stage}_on", tuple(measures), dims, sparse=sparse)


# Same-age measures: a conversion fact is keyed by the cohort's entry day and carries, in
# its bucket, the lag in whole days to the conversion (× LAG_SCALE, plus an attempt number
# for the SLA compliance events), so "converted on or before day E" is the range condition
# `day + bucket / LAG_SCALE <= E` over the facts (no raw record is read at query time).
LAG_SCALE = 128
NULL_INT = "CAST(NULL AS INTEGER)"  # a typed NULL: PostgreSQL takes an untyped one in a UNION as text


def lag_bucket(lag_days: str, number: str = "0") -> str:
    return f"({_greatest(lag_days, '0')} * {LAG_SCALE} + {number})"


def _lag_family(stage: str) -> Family | None:
    pairs = [(a, b) for a, b in COHORTS if a == stage]
    if not pairs:
        return None
    arms = []
    for a, b in pairs:
        measures = ", ".join(f"{'1' if (x, y) == (a, b) else NULL_INT} AS m_lag_{x}_{y}" for x, y in pairs)
        arms.append(f"SELECT c.{a}_on AS day, {lag_bucket(_day_diff(f'c.{a}_on', f'c.{b}_on'))} AS bucket, "
                    f"{_contact_keys()}, {measures} FROM {{contact}} c {_contact_joins()} "
                    f"WHERE c.{b}_at IS NOT NULL AND {{where}}")
    return Family(f"lags_{stage}", " UNION ALL ".join(arms), f"c.{stage}_on",
                  tuple(f"lag_{a}_{b}" for a, b in pairs), CONTACT_DIMS)


def sla_min_attempts_setting() -> int:
    """The attempt count the same-age compliance facts are built for (SLA_MIN_ATTEMPTS, 1..100)."""
    return min(max(int(settings.SLA_MIN_ATTEMPTS), 1), MAX_BUCKET)


def _nth_attempt_day(number: int) -> str:
    """In `_mql_attempts`: the day of the MQL's `number`-th attempt (NULL with fewer). PostgreSQL
    orders each MQL's attempt days inside its group; SQLite probes the attempts' index."""
    if _pg():
        return f"(ARRAY_AGG(a.occurred_on ORDER BY a.occurred_at, a.id))[{number}]"
    return (f"CASE WHEN COUNT(a.id) >= {number} THEN (SELECT n.occurred_on FROM {{activity}} n "
            "WHERE n.contact_id = c.id AND n.occurred_at >= c.mql_at "
            f"ORDER BY n.occurred_at, n.id LIMIT 1 OFFSET {number - 1}) END")


def _mql_attempts(*, nth: bool) -> str:
    """One row per MQL of the days rebuilt: its contact columns and its attempts (activities of
    any owner at or after the MQL instant, also after any window: the cohort is keyed by its
    MQL day and counted again when activities arrive), with its keys (k_channel, ...).
    `first_on` is the first attempt's day (local days follow the instants); `nth`: also
    `nth_on`, the day of the SLA_MIN_ATTEMPTS-th attempt. One group per MQL, where ranking
    every attempt of every MQL sorted them all."""
    nth_on = f", {_nth_attempt_day(sla_min_attempts_setting())} AS nth_on" if nth else ""
    contact = "c.id, c.mql_on, c.mql_at, c.source_channel, c.campaign_id, c.owner_id, c.industry, c.offer"
    attempts = (f"COUNT(a.id) AS attempts, COALESCE(MAX({_one_if('a.connected')}), 0) AS conn, "
                "MIN(a.occurred_at) AS first_at, MIN(a.occurred_on) AS first_on, "
                f"MIN(CASE WHEN a.connected THEN a.occurred_on END) AS conn_on{nth_on}")
    if _pg():
        # Each MQL's attempts aggregated apart, in the order its index returns them: one
        # GROUP BY over all of them sorted some 200,000 attempts of a day's 28,000 MQLs first.
        per_mql = (f"SELECT {contact}, a.* FROM {{contact}} c CROSS JOIN LATERAL (SELECT {attempts} "
                   "FROM {activity} a WHERE a.contact_id = c.id AND a.occurred_at >= c.mql_at) a WHERE {where}")
    else:
        per_mql = (f"SELECT {contact}, {attempts} FROM {{contact}} c LEFT JOIN {{activity}} a "
                   f"ON a.contact_id = c.id AND a.occurred_at >= c.mql_at WHERE {{where}} GROUP BY {contact}")
    # The keys once per MQL, not once per fact row.
    return f"SELECT m.*, {_contact_keys('m')} FROM ({per_mql}) m {_contact_joins('m')}"


# One recompute's per-MQL rows, computed once for both SLA families (`mqls_staged`): of these
# MQL days, or of every MQL (None).
STAGED_MQLS = "kpis_staged_mqls"
_staged_mql_days: ContextVar[frozenset[dt.date] | None] = ContextVar("staged_mql_days", default=frozenset())


def _mqls_source(nth: bool, ranges: list[tuple[dt.date, dt.date]] | None) -> str:
    """The per-MQL rows of `ranges` for a family's {mqls}: from the staged table when it holds
    every day of them, else computed in place (its `{where}` on `c.mql_on`)."""
    staged = _staged_mql_days.get()
    if staged is None or (ranges is not None and staged and _listed_days(ranges) <= staged):
        return f"SELECT * FROM {STAGED_MQLS} WHERE {_days_in('mql_on', ranges)}"
    return _mql_attempts(nth=nth)


def _key_columns(alias: str) -> str:
    """The contact key columns `_mql_attempts` gives its rows, read from `alias`."""
    return ", ".join(f"{alias}.k_{dim}" for dim in CONTACT_DIMS)


def _sla_lag_family() -> Family:
    """Per MQL: the day of its first attempt and of its first connected attempt, and the day
    it reaches SLA_MIN_ATTEMPTS attempts without a connection (`sla_nth_start`) and, once
    connected, the day that ends (`sla_nth_stop`). The bucket's low bits carry that attempt
    count, so a query for another minimum (a `sla_min_attempts` target) can tell it has none.

    Only the n-th attempt is stored: one event per MQL, not one per attempt (the query reads
    these facts over a whole previous year). `sla_on_time_lag` is the first attempt again, only
    when it came within SLA_FIRST_ATTEMPT_HOURS of the MQL."""
    number = str(sla_min_attempts_setting())
    first, nth, conn = (_day_diff("x.mql_on", f"x.{day}") for day in ("first_on", "nth_on", "conn_on"))
    keys = _key_columns("x")
    on_time = _at_most_hours_after("x.mql_at", "x.first_at", settings.SLA_FIRST_ATTEMPT_HOURS)
    null = NULL_INT
    base = (
        "WITH x AS ({mqls}) "
        f"SELECT x.mql_on AS day, {lag_bucket(first)} AS bucket, {keys}, 1 AS m_sla_worked_lag, "
        f"{null} AS m_sla_connected_lag, {null} AS m_sla_nth_start, {null} AS m_sla_nth_stop, "
        f"{_flag(on_time)} AS m_sla_on_time_lag FROM x WHERE x.attempts > 0 "
        f"UNION ALL SELECT x.mql_on, {lag_bucket(conn)}, {keys}, {null}, 1, {null}, {null}, {null} "
        f"FROM x WHERE x.conn_on IS NOT NULL "
        f"UNION ALL SELECT x.mql_on, {lag_bucket(nth, number)}, {keys}, {null}, {null}, 1, {null}, {null} "
        f"FROM x WHERE x.nth_on IS NOT NULL "
        f"UNION ALL SELECT x.mql_on, {lag_bucket(_greatest(nth, conn), number)}, {keys}, {null}, {null}, {null}, "
        f"1, {null} FROM x WHERE x.nth_on IS NOT NULL AND x.conn_on IS NOT NULL"
    )
    return Family("sla_lags", base, "c.mql_on",
                  ("sla_worked_lag", "sla_connected_lag", "sla_nth_start", "sla_nth_stop", "sla_on_time_lag"),
                  CONTACT_DIMS, mqls=True)


def _rejection_lag_family() -> Family:
    """Per MQL ever disqualified: +1 at the lag of its disqualification and, when it became an
    SQL on a later day, −1 at the lag of that SQL, so summing the facts up to a day E counts
    the MQLs rejected as the data stood at E (disqualified by E and no SQL by E; an SQL on or
    before the disqualification day never counts, so it writes nothing)."""
    keys = f"{_contact_keys()}, {_text_key('c.disqualification_reason')} AS k_disqualification_reason"
    rejected = _day_diff("c.mql_on", "c.disqualified_on")
    undone = _day_diff("c.mql_on", "c.sql_on")
    later_sql = "c.sql_on > c.disqualified_on"
    base = (f"SELECT c.mql_on AS day, {lag_bucket(rejected)} AS bucket, {keys}, 1 AS m_lag_mql_rejected "
            f"FROM {{contact}} c {_contact_joins()} WHERE c.disqualified_at IS NOT NULL "
            f"AND (c.sql_at IS NULL OR {later_sql}) AND {{where}} "
            f"UNION ALL SELECT c.mql_on, {lag_bucket(undone)}, {keys}, -1 FROM {{contact}} c {_contact_joins()} "
            f"WHERE c.disqualified_at IS NOT NULL AND c.sql_at IS NOT NULL AND {later_sql} AND {{where}}")
    return Family("mql_rejection_lags", base, "c.mql_on", ("lag_mql_rejected",), DISQUALIFIED_DIMS)


LAG_FAMILIES = (*(f"lags_{stage}" for stage in dict.fromkeys(a for a, _ in COHORTS)), "sla_lags",
                "mql_rejection_lags")


def _families() -> tuple[Family, ...]:
    sla_bucket = _least("s.attempts", str(MAX_BUCKET))
    sla_keys = _key_columns("s")
    # Read at recompute: changing the setting takes a full recompute (README).
    on_time = _at_most_hours_after("s.mql_at", "s.first_at", settings.SLA_FIRST_ATTEMPT_HOURS)
    return (
        *(_stage_family(stage) for stage in STAGES),
        *(family for family in (_lag_family(stage) for stage in STAGES) if family is not None),
        _sla_lag_family(),
        _rejection_lag_family(),
        Family(
            "mql_rejections",
            # By reason every row keeps the whole MQL cohort as denominator (the query reads it
            # from the total), so only the rejected MQLs are written here, by their MQL day.
            f"SELECT c.mql_on AS day, 0 AS bucket, {_text_key('c.disqualification_reason')} "
            f"AS k_disqualification_reason, 1 AS m_coh_mql_rejected FROM {{contact}} c WHERE {REJECTED} AND {{where}}",
            "c.mql_on", ("coh_mql_rejected",), ("disqualification_reason",), total=False,
        ),
        Family(
            "content_assist",
            "SELECT c.customer_on AS day, 0 AS bucket, ct.external_id AS k_content, 1 AS m_content_assisted "
            "FROM {contact} c JOIN {touch} t ON t.contact_id = c.id AND t.content_id IS NOT NULL "
            "AND t.occurred_at <= c.customer_at JOIN {content} ct ON ct.id = t.content_id "
            "WHERE {where} GROUP BY c.id, c.customer_on, ct.external_id",
            "c.customer_on", ("content_assisted",), ("content",), total=False,
        ),
        Family(
            "sla",
            # Only the MQLs worked without a connection are kept by attempt count (the bucket:
            # compliance counts those with at least SLA_MIN_ATTEMPTS); the other measures sit
            # in bucket 0, so a new attempt changes one count of its MQL, not all five.
            "WITH s AS ({mqls}) "
            f"SELECT s.mql_on AS day, 0 AS bucket, {sla_keys}, {_one_if('s.attempts > 0')} AS m_sla_worked, "
            f"s.conn AS m_sla_connected, {NULL_INT} AS m_sla_worked_not_connected, "
            f"{_flag('s.attempts > 0', _hours_between('s.mql_at', 's.first_at'))} AS m_sla_speed_hours_total, "
            f"{_one_if(f's.attempts > 0 AND {on_time}')} AS m_sla_on_time FROM s "
            f"UNION ALL SELECT s.mql_on, {sla_bucket}, {sla_keys}, {NULL_INT}, {NULL_INT}, 1, NULL, {NULL_INT} "
            "FROM s WHERE s.attempts > 0 AND s.conn = 0",
            "c.mql_on", ("sla_worked", "sla_connected", "sla_worked_not_connected", "sla_speed_hours_total",
                         "sla_on_time"), CONTACT_DIMS,
            sparse=("sla_worked", "sla_connected", "sla_worked_not_connected", "sla_on_time"), mqls=False,
        ),
        Family(
            "activities",
            f"SELECT a.occurred_on AS day, 0 AS bucket, COALESCE(tm.email, '{NONE_KEY}') AS k_owner, "
            "a.activity_type AS k_activity_type, "
            f"{_flag(_eq('a.activity_type', 'call'))} AS m_activity_call, "
            f"{_flag(_eq('a.activity_type', 'email'))} AS m_activity_email, "
            f"{_flag(_eq('a.activity_type', 'meeting'))} AS m_activity_meeting "
            "FROM {activity} a LEFT JOIN {member} tm ON tm.id = a.owner_id WHERE {where}",
            "a.occurred_on", ("activity_call", "activity_email", "activity_meeting"),
            ("owner", "activity_type"),
        ),
        Family(
            "deals_closed",
            f"SELECT d.closed_on AS day, 0 AS bucket, {_deal_keys()}, "
            f"{_flag(_eq('d.status', 'won'), 'd.amount')} AS m_revenue, "
            f"{_flag(_eq('d.status', 'won'))} AS m_deals_won, "
            f"{_flag(_eq('d.status', 'won'), 'd.mrr')} AS m_new_mrr, "
            f"{_flag(_eq('d.status', 'won'), _days_between('d.created_at', 'd.closed_at'))} AS m_cycle_days_total, "
            f"{_flag(_eq('d.status', 'lost'))} AS m_deals_lost "
            f"FROM {{deal}} d {_deal_joins()} WHERE d.status IN ('won', 'lost') AND {{where}}",
            "d.closed_on", ("revenue", "deals_won", "new_mrr", "cycle_days_total", "deals_lost"), DEAL_DIMS,
        ),
        Family(
            "deals_opened",
            f"SELECT d.created_on AS day, 0 AS bucket, {_deal_keys()}, d.amount AS m_open_amount_in, "
            f"1 AS m_open_count_in FROM {{deal}} d {_deal_joins()} WHERE {{where}}",
            "d.created_on", ("open_amount_in", "open_count_in"), DEAL_DIMS,
        ),
        Family(
            "deals_left_open",
            # Open at the end of day E means closed after E: a deal stops counting on its close day.
            f"SELECT d.closed_on AS day, 0 AS bucket, {_deal_keys()}, "
            f"d.amount AS m_open_amount_out, 1 AS m_open_count_out FROM {{deal}} d {_deal_joins()} "
            "WHERE d.status IN ('won', 'lost') AND {where}",
            "d.closed_on", ("open_amount_out", "open_count_out"), DEAL_DIMS,
        ),
        Family(
            "lifetime_value",
            # A customer's own won revenue and that of the contacts it referred count from the
            # day both the deal is closed and the customer exists: the later of the two, each
            # arm filtered on the indexed day it takes (a filter on GREATEST scanned every
            # won deal and customer for a day's rebuild).
            " UNION ALL ".join(
                f"SELECT {day} AS day, 0 AS bucket, {_contact_keys('cu')}, d.amount AS m_clv_revenue {source} "
                f"AND {later} AND {{where:{day}}}"
                for source in (f"FROM {{deal}} d JOIN {{contact}} cu ON cu.id = d.contact_id {_contact_joins('cu')} "
                               "WHERE d.status = 'won' AND cu.customer_at IS NOT NULL",
                               f"FROM {{deal}} d JOIN {{contact}} r ON r.id = d.contact_id "
                               f"JOIN {{contact}} cu ON cu.id = r.referred_by_id {_contact_joins('cu')} "
                               "WHERE d.status = 'won' AND cu.customer_at IS NOT NULL")
                for day, later in (("d.closed_on", "cu.customer_on <= d.closed_on"),
                                   ("cu.customer_on", "cu.customer_on > d.closed_on"))),
            None, ("clv_revenue",), CONTACT_DIMS,
        ),
        Family(
            "attribution",
            "SELECT e.closed_on AS day, 0 AS bucket, e.channel AS k_channel, "
            f"COALESCE(cp.external_id, '{NONE_KEY}') AS k_campaign, COALESCE(ct.external_id, '{NONE_KEY}') AS k_content, "
            "CASE WHEN e.rn_first = 1 THEN e.amount END AS m_attr_first, "
            "CASE WHEN e.rn_last = 1 THEN e.amount END AS m_attr_last, "
            "e.amount * 1.0 / e.n AS m_attr_linear FROM ("
            "SELECT d.closed_on, d.amount, t.channel, t.campaign_id, t.content_id, "
            "ROW_NUMBER() OVER (PARTITION BY d.id ORDER BY t.occurred_at, t.external_id) AS rn_first, "
            "ROW_NUMBER() OVER (PARTITION BY d.id ORDER BY t.occurred_at DESC, t.external_id DESC) AS rn_last, "
            "COUNT(*) OVER (PARTITION BY d.id) AS n "
            "FROM {deal} d JOIN {touch} t ON t.contact_id = d.contact_id AND t.occurred_at <= d.closed_at "
            "WHERE d.status = 'won' AND {where} "
            f"UNION ALL SELECT d.closed_on, d.amount, COALESCE(c.source_channel, '{NONE_KEY}'), c.campaign_id, "
            "NULL, 1, 1, 1 FROM {deal} d LEFT JOIN {contact} c ON c.id = d.contact_id "
            "WHERE d.status = 'won' AND {where} AND NOT EXISTS (SELECT 1 FROM {touch} t "
            "WHERE t.contact_id = d.contact_id AND t.occurred_at <= d.closed_at)"
            ") e LEFT JOIN {campaign} cp ON cp.id = e.campaign_id LEFT JOIN {content} ct ON ct.id = e.content_id",
            "d.closed_on", ("attr_first", "attr_last", "attr_linear"), ("channel", "campaign", "content"),
        ),
        Family(
            "web_traffic",
            "SELECT w.date AS day, 0 AS bucket, w.source AS k_source, w.section AS k_section, w.page AS k_page, "
            f"w.visits AS m_visits, {_flag(_eq('w.source', 'organic_search'), 'w.visits')} AS m_organic_visits, "
            f"{_flag(_eq('w.section', 'blog'), 'w.visits')} AS m_blog_visits, "
            "w.entrances AS m_entrances, w.bounces AS m_bounces FROM {web} w WHERE {where}",
            "w.date", ("visits", "organic_visits", "blog_visits", "entrances", "bounces"),
            ("source", "section", "page"),
        ),
        Family(
            "cta_stats",
            "SELECT s.date AS day, 0 AS bucket, s.placement AS k_placement, s.views AS m_cta_views, "
            "s.clicks AS m_cta_clicks FROM {cta} s WHERE {where}",
            "s.date", ("cta_views", "cta_clicks"), ("placement",),
        ),
        Family(
            "landing_pages",
            "SELECT l.date AS day, 0 AS bucket, l.source AS k_source, l.page AS k_page, "
            f"COALESCE(cp.external_id, '{NONE_KEY}') AS k_campaign, l.views AS m_landing_views, "
            "l.submissions AS m_landing_submissions FROM {landing} l "
            "LEFT JOIN {campaign} cp ON cp.id = l.campaign_id WHERE {where}",
            "l.date", ("landing_views", "landing_submissions"), ("source", "page", "campaign"),
        ),
        Family(
            "email_sends",
            f"SELECT e.sent_on AS day, 0 AS bucket, CASE WHEN e.email_type = '' THEN '{NONE_KEY}' "
            f"ELSE e.email_type END AS k_email_type, COALESCE(cp.external_id, '{NONE_KEY}') AS k_campaign, "
            "e.sent AS m_email_sent, e.delivered AS m_email_delivered, e.unique_opens AS m_email_opens, "
            "e.unique_clicks AS m_email_clicks, e.unsubscribes AS m_email_unsubscribes FROM {email} e "
            "LEFT JOIN {campaign} cp ON cp.id = e.campaign_id WHERE {where}",
            "e.sent_on", ("email_sent", "email_delivered", "email_opens", "email_clicks", "email_unsubscribes"),
            ("email_type", "campaign"),
        ),
        Family(
            "social_stats",
            "SELECT s.date AS day, 0 AS bucket, s.network AS k_network, s.impressions AS m_social_impressions, "
            "s.engagements AS m_social_engagements FROM {social} s WHERE {where}",
            "s.date", ("social_impressions", "social_engagements"), ("network",),
        ),
        Family(
            "spend",
            f"SELECT s.date AS day, 0 AS bucket, s.channel AS k_channel, COALESCE(cp.external_id, '{NONE_KEY}') "
            f"AS k_campaign, {_flag(_eq('s.category', 'marketing'), 's.amount')} AS m_marketing_spend, "
            f"{_flag(_eq('s.category', 'sales'), 's.amount')} AS m_sales_spend, "
            "s.impressions AS m_paid_impressions, s.clicks AS m_paid_clicks, "
            f"{_flag(PAID_BOTH, 's.impressions')} AS m_paid_rate_impressions, "
            f"{_flag(PAID_BOTH, 's.clicks')} AS m_paid_rate_clicks, "
            f"{_flag('s.clicks IS NOT NULL', 's.amount')} AS m_paid_click_cost FROM {{spend}} s "
            "LEFT JOIN {campaign} cp ON cp.id = s.campaign_id WHERE {where}",
            "s.date", ("marketing_spend", "sales_spend", "paid_impressions", "paid_clicks", "paid_rate_impressions",
                       "paid_rate_clicks", "paid_click_cost"), ("channel", "campaign"),
        ),
        Family(
            "webinars",
            f"SELECT w.held_on AS day, 0 AS bucket, COALESCE(cp.external_id, '{NONE_KEY}') AS k_campaign, "
            "w.registrants AS m_webinar_registrants, w.attendees AS m_webinar_attendees FROM {webinar} w "
            "LEFT JOIN {campaign} cp ON cp.id = w.campaign_id WHERE {where}",
            "w.held_on", ("webinar_registrants", "webinar_attendees"), ("campaign",),
        ),
        Family(
            "direct_mail",
            f"SELECT m.sent_on AS day, 0 AS bucket, COALESCE(cp.external_id, '{NONE_KEY}') AS k_campaign, "
            "m.sent AS m_mail_sent, m.claimed AS m_mail_claimed, m.meetings_booked AS m_mail_meetings "
            "FROM {mail} m LEFT JOIN {campaign} cp ON cp.id = m.campaign_id WHERE {where}",
            "m.sent_on", ("mail_sent", "mail_claimed", "mail_meetings"), ("campaign",),
        ),
        Family(
            "content",
            f"SELECT ct.published_on AS day, 0 AS bucket, COALESCE(cp.external_id, '{NONE_KEY}') AS k_campaign, "
            "ct.external_id AS k_content, 1 AS m_content_published FROM {content} ct "
            "LEFT JOIN {campaign} cp ON cp.id = ct.campaign_id WHERE {where}",
            "ct.published_on", ("content_published",), ("campaign", "content"),
        ),
        Family(
            "feature_flows",
            "SELECT f.date AS day, 0 AS bucket, f.feature AS k_feature, f.content_readers AS m_feature_content_readers, "
            "f.readers_activated AS m_feature_readers_activated, f.upgrade_revenue AS m_feature_upgrade_revenue "
            "FROM {feature} f WHERE {where}",
            "f.date", ("feature_content_readers", "feature_readers_activated", "feature_upgrade_revenue"),
            ("feature",),
        ),
        Family(
            "audience",
            f"SELECT x.day, 0 AS bucket, CASE WHEN x.channel IN ('{SOCIAL}') THEN x.channel ELSE '{NONE_KEY}' END "
            "AS k_network, x.delta AS m_reach_delta, "
            f"{_flag(_social('x.channel'), 'x.delta')} AS m_social_reach_delta, "
            f"{_flag(_eq('x.channel', 'blog_subscribers'), 'x.delta')} AS m_blog_subscribers_delta, "
            f"{_flag(_eq('x.channel', 'blog_subscribers'))} AS m_blog_subscriber_readings FROM ("
            "SELECT a.date AS day, a.channel, a.size - COALESCE(LAG(a.size) OVER "
            "(PARTITION BY a.channel ORDER BY a.date), 0) AS delta FROM {audience} a WHERE {where}) x",
            "a.date", ("reach_delta", "social_reach_delta", "blog_subscribers_delta", "blog_subscriber_readings"),
            ("network",), full_only=True,
        ),
        Family(
            "feature_stock",
            "SELECT x.day, 0 AS bucket, x.feature AS k_feature, x.total AS m_feature_total_delta, "
            "x.activated AS m_feature_activated_delta FROM ("
            "SELECT f.date AS day, f.feature, f.customers_total - COALESCE(LAG(f.customers_total) OVER "
            "(PARTITION BY f.feature ORDER BY f.date), 0) AS total, f.customers_activated - "
            "COALESCE(LAG(f.customers_activated) OVER (PARTITION BY f.feature ORDER BY f.date), 0) AS activated "
            "FROM {feature} f WHERE {where}) x",
            "f.date", ("feature_total_delta", "feature_activated_delta"), ("feature",), full_only=True,
        ),
        Family(
            "accounts",
            # An account counts from the first lead day of any contact on its domain.
            "SELECT x.day, 0 AS bucket, 1 AS m_accounts_penetrated, NULL AS m_target_accounts FROM ("
            "SELECT MIN(c.lead_on) AS day FROM {account} ta JOIN {contact} c ON c.email_domain = LOWER(ta.domain) "
            "WHERE {where} GROUP BY ta.id) x "
            f"UNION ALL SELECT {date_literal(EPOCH)} AS day, 0 AS bucket, NULL AS m_accounts_penetrated, "
            "1 AS m_target_accounts FROM {account} ta",
            "c.lead_on", ("accounts_penetrated", "target_accounts"), (), full_only=True,
        ),
    )


def families() -> dict[str, Family]:
    # Built per call: the SQL depends on the connection's vendor.
    return {family.name: family for family in _families()}


def measure_dimensions() -> dict[str, set[str]]:
    """Every measure and the dimensions its facts carry ("" = the total)."""
    out: dict[str, set[str]] = {}
    for family in families().values():
        for measure in family.measures:
            out.setdefault(measure, set()).update(family.written_dims)
    return out


# --- day ranges -------------------------------------------------------------------------


def day_ranges(days: Iterable[dt.date], *, limit: int = MAX_RANGES) -> list[tuple[dt.date, dt.date]]:
    """Contiguous runs of the days, merging the closest runs until at most `limit` remain.

    Rebuilding a few clean days inside a merged gap is harmless; it keeps the SQL short.
    """
    ordered = sorted(set(days))
    runs: list[list[dt.date]] = []
    for day in ordered:
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    while len(runs) > limit:
        gaps = [((runs[i + 1][0] - runs[i][1]).days, i) for i in range(len(runs) - 1)]
        _, i = min(gaps)
        runs[i][1] = runs[i + 1][1]
        del runs[i + 1]
    return [(lo, hi) for lo, hi in runs]


def _listed_days(ranges: list[tuple[dt.date, dt.date]]) -> set[dt.date]:
    """Every day of the ranges."""
    return {lo + dt.timedelta(days=n) for lo, hi in ranges for n in range((hi - lo).days + 1)}


def _days_in(column: str, ranges: list[tuple[dt.date, dt.date]] | None) -> str:
    """The records whose day `column` is in `ranges` (None: every dated record), as a list of
    days while it is short: one index scan of those keys on both databases, where ORs of ranges
    made PostgreSQL filter a whole partial index (260,000 MQLs read for 32,000)."""
    days = None if ranges is None else _listed_days(ranges)
    if days is None or len(days) > MAX_LISTED_DAYS:
        return _where(column, ranges)
    return f"{column} IN ({', '.join(date_literal(day) for day in sorted(days))})"


def _where(column: str, ranges: list[tuple[dt.date, dt.date]] | None) -> str:
    if ranges is None:
        return f"{column} IS NOT NULL"
    parts = [f"{column} BETWEEN {date_literal(lo)} AND {date_literal(hi)}" for lo, hi in ranges]
    return "(" + " OR ".join(parts) + ")"


def _fact_rows(family: Family, ranges: list[tuple[dt.date, dt.date]] | None) -> tuple[list[str], str]:
    """(the CTEs, a SELECT of FACT_COLUMNS reading them): the family's facts over `ranges` as
    the records make them now."""
    tables = _tables()
    base = family.base
    if family.mqls is not None:
        base = base.replace("{mqls}", _mqls_source(family.mqls, ranges))
    base = re.sub(r"\{where:([\w.]+)\}", lambda found: _days_in(found.group(1), ranges), base)
    if family.day_column is not None:
        base = base.replace("{where}", _days_in(family.day_column, ranges))
    base = base.format(**tables)
    sums = ", ".join(f"SUM(m_{measure}) AS m_{measure}" for measure in family.measures)
    ctes = [f"base AS {'MATERIALIZED ' if len(family.written_dims) > 1 else ''}({base})"]
    arms = []
    for index, dim in enumerate(family.written_dims):
        key = f"k_{dim}" if dim else "''"
        group = f"day, bucket, {key}" if dim else "day, bucket"
        ctes.append(f"a{index} AS (SELECT day, bucket, {key} AS k, {sums} FROM base "
                    f"WHERE day IS NOT NULL GROUP BY {group})")
        for measure in family.measures:
            keep = f"m_{measure} <> 0" if measure in family.sparse else f"m_{measure} IS NOT NULL"
            arms.append(f"SELECT '{measure}', day, '{dim}', k, bucket, m_{measure} FROM a{index} WHERE {keep}")
    return ctes, " UNION ALL ".join(arms)


def _insert_parts(family: Family, ranges: list[tuple[dt.date, dt.date]] | None) -> tuple[list[str], str]:
    """(the CTEs, the INSERT INTO the facts reading them) of the family's rebuild over `ranges`."""
    ctes, rows = _fact_rows(family, ranges)
    return ctes, f"INSERT INTO {_tables()['fact']} ({FACT_COLUMNS}) {rows}"


def _with(ctes: list[str], statements: list[str]) -> str:
    """One statement: the CTEs, every statement but the last as a CTE of its own (PostgreSQL
    runs each data-modifying CTE once), then the last."""
    steps = [*ctes, *(f"s{index} AS ({sql})" for index, sql in enumerate(statements[:-1]))]
    return f"WITH {', '.join(steps)} {statements[-1]}"


def _insert_sql(family: Family, ranges: list[tuple[dt.date, dt.date]] | None) -> str:
    ctes, insert = _insert_parts(family, ranges)
    return _with(ctes, [insert])


def _family_scope(family: Family) -> str:
    """The condition selecting the facts (or sums) of the family's measures and dimensions."""
    measures = ", ".join(measure_literal(m) for m in family.measures)
    dims = ", ".join(f"'{d}'" for d in family.written_dims)
    return f"measure IN ({measures}) AND dimension IN ({dims})"


def _stored(family: Family, ranges: list[tuple[dt.date, dt.date]] | None) -> str:
    """The condition selecting the family's stored facts over `ranges` (None: every day)."""
    scope = _family_scope(family)
    return scope if ranges is None else f"{scope} AND {_days_in('day', ranges)}"


def _delete_sql(family: Family, ranges: list[tuple[dt.date, dt.date]] | None) -> str:
    return f"DELETE FROM {_tables()['fact']} WHERE {_stored(family, ranges)}"


# --- month sums ----------------------------------------------------------------------------


def _month_of(column: str) -> str:
    if _pg():
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"date({column}, 'start of month')"


def month_ranges(ranges: list[tuple[dt.date, dt.date]]) -> list[tuple[dt.date, dt.date]]:
    """The whole months the day ranges touch, as day ranges, overlapping ones merged."""
    out: list[list[dt.date]] = []
    for lo, hi in sorted((period_bounds("month", lo)[0], period_bounds("month", hi)[1]) for lo, hi in ranges):
        if out and lo <= out[-1][1] + dt.timedelta(days=1):
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [(lo, hi) for lo, hi in out]


def rolls_up(family: Family) -> bool:
    """Same-age lag facts are read by cohort day and lag only: no month sums for them."""
    return family.name not in LAG_FAMILIES


@functools.cache
def _written_measures() -> frozenset[str]:
    return frozenset(measure for family in _families() for measure in family.measures)


@functools.cache
def lag_measures() -> frozenset[str]:
    """The same-age lag measures: summed by cohort and conversion month instead."""
    return frozenset(measure for family in _families() if not rolls_up(family) for measure in family.measures)


@functools.cache
def level_measures() -> frozenset[str]:
    """The measures some metric reads up to a window's end (`Metric.cum`, `Metric.before`): the
    stocks, kept as running levels (`FactLevel`). A measure newly read so needs its levels
    filled once (a migration, as 0010 did), or a rebuild of its family."""
    return frozenset(m for metric in METRICS.values() for m in (*metric.cum, *metric.before)) - lag_measures()


def _level_scope(family: Family) -> str | None:
    """The condition selecting the family's levels, None when it has no stock measure."""
    measures = sorted(set(family.measures) & level_measures())
    if not measures:
        return None
    dims = ", ".join(f"'{d}'" for d in family.written_dims)
    return f"measure IN ({', '.join(measure_literal(m) for m in measures)}) AND dimension IN ({dims})"


def _level_inserts(family: Family, *, source: str, add: bool, seen: str = "day") -> list[str]:
    """The INSERT of the levels of the family's stock facts in `source` (FACT_COLUMNS; `seen`:
    the day of a fact that exists, NULL for one gone), `add`ing them to the levels stored
    (PostgreSQL) or into levels emptied first."""
    scope = _level_scope(family)
    if scope is None:
        return []
    table = _tables()["level"]
    sql = (f"INSERT INTO {table} (measure, dimension, key, bucket, value, since) "
           f"SELECT measure, dimension, key, bucket, SUM(value), MIN({seen}) FROM {source} WHERE {scope} "
           "GROUP BY measure, dimension, key, bucket")
    if add:
        # A level whose facts all went keeps its old `since` here; `_level_sinces` mends it.
        sql += (" ON CONFLICT (measure, dimension, key, bucket) DO UPDATE SET value = "
                f"{table}.value + EXCLUDED.value, since = LEAST({table}.since, EXCLUDED.since)")
    return [sql]


def _level_sinces(family: Family) -> list[str]:
    """PostgreSQL, after a day rebuild added its changes to the levels: a level whose first fact
    went gets the day of its first fact left, and one with no fact left goes. One probe of
    the facts' grain index per level of the family (168 for lifetime value at 1M contacts: 3 ms)."""
    scope = _level_scope(family)
    if scope is None:
        return []
    table, fact = _tables()["level"], _tables()["fact"]
    grain = " AND ".join(f"f.{column} = l.{column}" for column in ("measure", "dimension", "key", "bucket"))
    return [f"UPDATE {table} l SET since = (SELECT MIN(f.day) FROM {fact} f WHERE {grain}) "
            f"WHERE {scope} "
            f"AND NOT EXISTS (SELECT 1 FROM {fact} f WHERE {grain} AND f.day = l.since)",
            f"DELETE FROM {table} WHERE {scope} AND since IS NULL"]


def _level_deletes(family: Family) -> list[str]:
    scope = _level_scope(family)
    return [] if scope is None else [f"DELETE FROM {_tables()['level']} WHERE {scope}"]


def _level_resum_sqls(family: Family) -> list[str]:
    """The family's levels summed again from all its facts (SQLite: an embedded database is small)."""
    return [*_level_deletes(family), *_level_inserts(family, source=_tables()["fact"], add=False)]


def _sums_scope(family: Family, ranges: list[tuple[dt.date, dt.date]] | None) -> tuple[str, str, str]:
    """(the family's facts, `month` in the months `ranges` touch, `day` in them) as SQL
    conditions; the last two empty for every day."""
    scope = _family_scope(family)
    if ranges is None:
        return scope, "", ""
    spans = month_ranges(ranges)
    return scope, f" AND {_where('month', spans)}", f" AND {_where('day', spans)}"


def converted_on(day: str = "day", bucket: str = "bucket") -> str:
    """The conversion day of a lag fact: its cohort day plus the lag in its bucket."""
    if _pg():
        return f"({day} + {bucket} / {LAG_SCALE})"
    return f"date({day}, '+' || ({bucket} / {LAG_SCALE}) || ' days')"


# Sums of the fact rows `source` into the sums tables: (table, its unique grain, columns after
# `measure`, dimension, key, and what they are for a fact row). Lag facts go to the two
# lag tables by cohort month and conversion month or day, the rest to the month sums.
FACT_COLUMNS = "measure, day, dimension, key, bucket, value"


def _sum_targets(lags: bool) -> list[tuple[str, str, list[tuple[str, str]]]]:
    month = _month_of("day")
    if not lags:
        return [("fact_month", "measure, dimension, month, key, bucket", [("month", month), ("bucket", "bucket")])]
    converted, number = converted_on(), f"bucket % {LAG_SCALE}"
    return [(table, grain, [("number", number), ("month", month), ("converted", when)])
            for table, grain, when in (("lag_month", "measure, dimension, month, converted, key, number",
                                        _month_of(converted)),
                                       ("lag_day", "measure, dimension, converted, month, key, number", converted))]


def _sums_inserts(*, lags: bool, source: str, where: str = "", add: bool = False) -> list[str]:
    """INSERTs of the sums of the fact rows of `source` (a table or CTE with FACT_COLUMNS,
    `where` them): `add` adds them to sums already stored (PostgreSQL).

    Lag sums keep no zero totals: they are read as numbers only, never as a key's presence
    (and a rejection's +1 and its undoing −1 can meet in one sum)."""
    tables = _tables()
    out = []
    for table, grain, columns in _sum_targets(lags):
        names = ", ".join(name for name, _ in columns)
        exprs = ", ".join(expr for _, expr in columns)
        sql = (f"INSERT INTO {tables[table]} (measure, dimension, key, {names}, value) "
               f"SELECT measure, dimension, key, {exprs}, SUM(value) FROM {source}"
               f"{f' WHERE {where}' if where else ''} GROUP BY measure, dimension, key, {exprs}"
               f"{' HAVING SUM(value) <> 0' if lags else ''}")
        if add:
            sql += f" ON CONFLICT ({grain}) DO UPDATE SET value = {tables[table]}.value + EXCLUDED.value"
        out.append(sql)
    return out


def _sums_tables(family: Family) -> list[str]:
    return [_tables()[table] for table, _, _ in _sum_targets(not rolls_up(family))]


def _sums_deletes(family: Family, ranges: list[tuple[dt.date, dt.date]] | None, condition: str = "") -> list[str]:
    """DELETEs of the family's sums over the (cohort) months `ranges` touch (and `condition`)."""
    scope, months, _ = _sums_scope(family, ranges)
    return [f"DELETE FROM {table} WHERE {scope}{months}{condition}" for table in _sums_tables(family)]


def _resum_sqls(family: Family, ranges: list[tuple[dt.date, dt.date]] | None) -> list[str]:
    """DELETEs and INSERTs replacing the family's sums over the (cohort) months `ranges` touch
    with the sums of its daily facts there."""
    scope, _, days = _sums_scope(family, ranges)
    return [*_sums_deletes(family, ranges),
            *_sums_inserts(lags=not rolls_up(family), source=_tables()["fact"], where=scope + days)]


def _insert_adding_sums(family: Family, ranges: list[tuple[dt.date, dt.date]] | None, *, add: bool) -> str:
    """One statement: the family's facts over `ranges` inserted, and their sums from the rows
    the INSERT returns (`add`: onto the sums stored, else into empty sums tables)."""
    ctes, insert = _insert_parts(family, ranges)
    new = f"new AS ({insert} RETURNING {FACT_COLUMNS})"
    levels = _level_inserts(family, source="new", add=add) if ranges is None else []
    return _with([*ctes, new], [*levels, *_sums_inserts(lags=not rolls_up(family), source="new", add=add)])


def _delta_sqls(family: Family, ranges: list[tuple[dt.date, dt.date]] | None) -> list[str]:
    """PostgreSQL: the family's rebuild over `ranges` with its sums kept by difference, so the
    sums never re-read the facts of the months around them.

    Over days, the facts as the records make them now are compared with the stored ones, and
    only the differences are written: a fact gone is deleted, a changed one updated, a new one
    inserted, and each sum gets the difference. A day of late activities changes a few
    thousand of the ~200,000 same-age SLA facts of the MQL cohorts they touch; deleting and
    re-inserting every one of them was most of a new day's recompute. Over every day
    (`ranges` None) the family's facts and sums are emptied and filled again.

    Sums left at zero whose month has no fact any more are deleted last (a month sum with
    facts of value 0 stays: its row is a key's presence)."""
    lags = not rolls_up(family)
    if ranges is None:
        return [_delete_sql(family, None), *_sums_deletes(family, None), *_level_deletes(family),
                _insert_adding_sums(family, None, add=True)]
    fact = _tables()["fact"]
    ctes, rows = _fact_rows(family, ranges)
    grain = [column for column in FACT_COLUMNS.split(", ") if column != "value"]
    keys = ", ".join(grain)
    on = " AND ".join(f"n.{column} = o.{column}" for column in grain)
    both = ", ".join(f"COALESCE(n.{column}, o.{column}) AS {column}" for column in grain)
    at_grain = " AND ".join(f"f.{column} = d.{column}" for column in grain)
    ctes += [
        # The new facts in the stored types: a sum is compared as the float it is stored as, so
        # an unchanged fact is never rewritten.
        f"n AS (SELECT measure, day, dimension, key, CAST(bucket AS integer) AS bucket, "
        f"CAST(value AS double precision) AS value FROM ({rows}) AS r ({FACT_COLUMNS}))",
        # The stored facts from the grain index alone (it carries the value): reading their rows
        # visited a table page per fact (15,000 pages for an SLA family's 116,000 facts).
        f"o AS (SELECT {FACT_COLUMNS} FROM {fact} WHERE {_stored(family, ranges)})",
        f"d AS MATERIALIZED (SELECT {both}, n.value AS now, o.value AS was "
        f"FROM n FULL JOIN o ON {on} WHERE n.value IS DISTINCT FROM o.value)",
        # A stored fact that changes is found by its grain, one probe of the unique index each,
        # and changed by its address (ctid: the same row version within one statement) as a
        # list: a join on the grain or on the ctid made PostgreSQL hash the whole facts table
        # for twenty thousand rows.
        f"t AS MATERIALIZED (SELECT (SELECT f.ctid FROM {fact} f WHERE {at_grain}) AS tid, d.now "
        "FROM d WHERE d.was IS NOT NULL)",
        f"change AS (SELECT {keys}, COALESCE(now, 0) - COALESCE(was, 0) AS value, "
        "CASE WHEN now IS NOT NULL THEN day END AS seen FROM d)",
    ]
    sqls = [_with(ctes, [
        f"DELETE FROM {fact} WHERE ctid = ANY(ARRAY(SELECT tid FROM t WHERE now IS NULL))",
        f"UPDATE {fact} f SET value = t.now FROM t WHERE f.ctid = ANY(ARRAY(SELECT tid FROM t WHERE now IS NOT NULL)) "
        "AND f.ctid = t.tid AND t.now IS NOT NULL",
        f"INSERT INTO {fact} ({FACT_COLUMNS}) SELECT {keys}, now FROM d WHERE d.was IS NULL",
        *_level_inserts(family, source="change", add=True, seen="seen"),
        *_sums_inserts(lags=lags, source="change", add=True),
    ])]
    # The condition of the lag sums' partial index (models.EMPTIED), in its terms.
    emptied = f" AND value > {-EMPTY} AND value < {EMPTY}"
    if lags:
        return [*sqls, *_sums_deletes(family, ranges, emptied)]
    month = _tables()["fact_month"]
    facts_left = (f"SELECT 1 FROM {fact} f WHERE f.measure = {month}.measure AND f.dimension = {month}.dimension "
                  f"AND f.key = {month}.key AND f.bucket = {month}.bucket AND f.day >= {month}.month "
                  f"AND f.day < CAST({month}.month + INTERVAL '1 month' AS date)")
    return [*sqls, *_sums_deletes(family, ranges, f"{emptied} AND NOT EXISTS ({facts_left})"),
            *_level_sinces(family)]


def _lag_list() -> str:
    return ", ".join(measure_literal(m) for m in sorted(lag_measures()))


def lag_rollup_all_sqls() -> list[str]:
    """The lag sums of every lag fact (tables emptied first, or a migration's fill)."""
    return _sums_inserts(lags=True, source=_tables()["fact"], where=f"measure IN ({_lag_list()})")


def level_fill_sqls() -> list[str]:
    """The levels of every stock fact (a table emptied first, or a migration's fill)."""
    return [sql for family in _families() for sql in _level_inserts(family, source=_tables()["fact"], add=False)]


def month_rollup_all_sql() -> str:
    """Month sums of every fact that rolls up (a table emptied first, or a migration's fill)."""
    return _sums_inserts(lags=False, source=_tables()["fact"], where=f"measure NOT IN ({_lag_list()})")[0]


def _rebuild_settings() -> list[str]:
    """PostgreSQL: the settings of a rebuild's statements (`families_rebuild`, not the fresh tables'
    rebuild of everything), until the caller's transaction ends.

    JIT compiling a day rebuild's statements took longer (0.2 s each) than it saved, and
    the default 4 MB of sort and hash memory sent the SLA families' per-MQL grouping and
    the old-and-new comparison to temporary files (~180 MB written and read for a day at
    1M contacts). A day's records and facts are in memory, where an index probe costs
    about what a sequential read does: at the default random_page_cost (4, for disks) the
    SLA families hashed every activity since the oldest MQL day touched (2 million rows)
    to group the attempts of 32,000 MQLs. One recompute runs at a time (its lock)."""
    return ["SET LOCAL jit = off", f"SET LOCAL work_mem = '{REBUILD_WORK_MEM}'",
            f"SET LOCAL random_page_cost = {REBUILD_RANDOM_PAGE_COST}"]


@contextmanager
def mqls_staged(days: set[dt.date] | None) -> Iterator[None]:
    """Inside the caller's transaction: the per-MQL rows of the MQL days `days` (None: of every
    MQL) in a temporary table, read by the SLA families' rebuilds instead of grouping every
    attempt again (nothing staged for no days)."""
    if days is not None and not days:
        yield
        return
    where = _days_in("c.mql_on", None if days is None else day_ranges(days, limit=len(days)))
    rows = _mql_attempts(nth=True).replace("{where}", where).format(**_tables())
    with connection.cursor() as cursor:
        # Not analysed: each family reads it whole, in one scan (an ANALYZE of 30,000 MQLs took
        # 0.25 s, half of what staging saves).
        cursor.execute(f"CREATE TEMPORARY TABLE {STAGED_MQLS} {'ON COMMIT DROP ' if _pg() else ''}AS {rows}")
    token = _staged_mql_days.set(None if days is None else frozenset(days))
    try:
        yield
    finally:
        _staged_mql_days.reset(token)
    # Reached only without an error: a rollback takes the table with it.
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {STAGED_MQLS}")


def _shared_mql_days(plans: list[set[dt.date] | None]) -> set[dt.date] | None:
    """The MQL days worth staging for the SLA families' rebuilds of these days (None: every
    MQL, when one rebuilds every day; an empty set: none, unless two share them)."""
    wanted = [days for days in plans if days is None or days]
    if len(wanted) < 2:
        return set()
    if None in wanted:
        return None
    days = set().union(*(_listed_days(day_ranges(days)) for days in wanted))
    return days if len(days) <= MAX_LISTED_DAYS else set()


def families_rebuild(plan: Iterable[tuple[Family, Iterable[dt.date] | None]]) -> None:
    """Each family's rebuild over its days (None: every day), in the caller's transaction.

    The SLA families' per-MQL rows are computed once for both when both rebuild days: a
    day's activities touch both over the same 60-odd MQL cohort days, and grouping the
    attempts of their 30,000 MQLs was a third of each family's time at 1M contacts (and of
    all 260,000 MQLs, 4.7 s of a full rebuild)."""
    steps = [(family, None if days is None else set(days)) for family, days in plan]
    if _pg():
        with connection.cursor() as cursor:
            for sql in _rebuild_settings():
                cursor.execute(sql)
    with mqls_staged(_shared_mql_days([days for family, days in steps if family.mqls is not None])):
        for family, days in steps:
            _family_rebuild(family=family, days=days)


def _family_rebuild(*, family: Family, days: Iterable[dt.date] | None) -> None:
    """Replace the family's facts on `days` (record dates; None = every day) from the records,
    and keep its month (or lag) sums equal to the sums of its facts.

    The caller holds the recompute lock inside one transaction, so readers never see the
    gap between the delete and the insert.
    """
    if days is None or family.full_only:
        ranges = None
    else:
        day_set = set(days)
        if not day_set:
            return
        ranges = day_ranges(day_set)
    if _pg():
        sqls = _delta_sqls(family, ranges)
    else:
        # SQLite has no data-modifying CTE: it re-sums the months (an embedded database is small).
        sqls = [_delete_sql(family, ranges), _insert_sql(family, ranges), *_resum_sqls(family, ranges),
                *_level_resum_sqls(family)]
    with connection.cursor() as cursor:
        for sql in sqls:
            cursor.execute(sql)


def rebuild_everything_fresh(chosen: Iterable[Family]) -> None:
    """PostgreSQL: every family over every day into fresh copies of the fact tables, indexed
    once they are full, then swapped in for the old ones.

    Inserting millions of rows one by one into a unique index is most of a rebuild's time
    (12 µs a row at a million contacts); building the index from the full table in one
    sorted pass is a fraction of it. Readers go on reading the old tables until the swap at
    the end of the caller's transaction; the indexes get their names back, so the schema is
    the one the migrations made. The families' facts and sums never overlap (each measure
    and dimension is one family's), so the copies take plain INSERTs; a double would fail
    the unique index and roll everything back.
    """
    with connection.cursor() as cursor:
        options = {}
        for model in FACT_TABLES.values():
            table = model._meta.db_table
            cursor.execute(f"DROP TABLE IF EXISTS {table}{NEXT}")
            cursor.execute(f"CREATE TABLE {table}{NEXT} (LIKE {table} INCLUDING DEFAULTS INCLUDING IDENTITY)")
            cursor.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [table])
            options[table] = cursor.fetchone()[0]
        chosen = list(chosen)
        token = _fact_tables_suffix.set(NEXT)
        try:
            with mqls_staged(_shared_mql_days([None for family in chosen if family.mqls is not None])):
                for family in chosen:
                    cursor.execute(_insert_adding_sums(family, None, add=False))
        finally:
            _fact_tables_suffix.reset(token)
        with connection.schema_editor() as editor:
            for model in FACT_TABLES.values():
                table = model._meta.db_table
                cursor.execute(f"ALTER TABLE {table}{NEXT} ADD CONSTRAINT {table}{NEXT}_pkey PRIMARY KEY (id)")
                for constraint in (*model._meta.constraints, *model._meta.indexes):
                    fresh = constraint.clone()
                    fresh.name = f"{constraint.name}{NEXT}"
                    statement = fresh.create_sql(model, editor)
                    statement.rename_table_references(table, f"{table}{NEXT}")
                    cursor.execute(str(statement))
                # The migrations' storage settings (parallel_workers = 0, for the reads) are the
                # table's, not LIKE's; set after the indexes, which build in parallel without
                # them (the facts' grain index at 1M contacts: 26-31 s alone, 16-20 s so).
                if options[table]:
                    cursor.execute(f"ALTER TABLE {table}{NEXT} SET ({', '.join(options[table])})")
        for model in FACT_TABLES.values():
            table = model._meta.db_table
            cursor.execute(f"DROP TABLE {table}")
            cursor.execute(f"ALTER TABLE {table}{NEXT} RENAME TO {table}")
            cursor.execute(f"ALTER INDEX {table}{NEXT}_pkey RENAME TO {table}_pkey")
            for constraint in (*model._meta.constraints, *model._meta.indexes):
                cursor.execute(f"ALTER INDEX {constraint.name}{NEXT} RENAME TO {constraint.name}")
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            cursor.execute(f"ALTER SEQUENCE {cursor.fetchone()[0]} RENAME TO {table}_id_seq")
