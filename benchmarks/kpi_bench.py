"""KPI engine benchmark on PostgreSQL (not part of the test suite).

    python benchmarks/kpi_bench.py [--url postgres://postgres@127.0.0.1:5432/bench_engine]
        [--contacts 1000000] [--seed] [--runs 3] [--requests 200] [--today 2026-11-23]
        [--never-analysed]

With --seed the database is (re)seeded with `seed_demo --contacts N` first; otherwise it
must already hold the seed. Then, each timed several times and reported as the median:

1. full recompute of the facts (two years of data);
2. recompute after one new day of data (~1,500 new leads, ~10,000 activities, 300 MQL
   conversions of older leads, 60 new and 30 closed deals), marked dirty as ingest does:
   in all, and until its commit (when readers see the new facts; the VACUUM after it is
   the rest);
3. GET /api/v1/kpis/ for the 14 `shared` metrics, YTD, with previous period and targets:
   p50 / p95 over many requests, against the same numbers computed by direct SQL over
   the raw tables in the same run (and the two answers compared); then by channel, by
   campaign, by owner and over a custom window of 332 days. Each computed afresh (the
   answer cache emptied before every request) and served from the cache, as every reader
   of the same question after the first is.

With --never-analysed the seeded database is first copied (pg_dump's COPY) into a new
database `<name>_fresh` that PostgreSQL never analysed, autovacuum off on its tables, and
only step 2 runs there: it shows how many days the recompute rebuilt without statistics.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ["reach", "leads", "revenue_pipeline", "revenue", "visit_to_lead_rate", "lead_to_mql_rate",
          "leads_worked_rate", "worked_to_connected_rate", "mql_to_opportunity_rate",
          "opportunity_to_customer_rate", "lead_to_customer_rate", "average_deal_size", "leads_delivered",
          "sla_attempt_compliance"]


def setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarketing.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    # The benchmark is one user asking many breakdowns and custom windows on purpose.
    os.environ["KPI_HEAVY_QUERY_RATE"] = "0/minute"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from smarketing.collector import collector_tune

    collector_tune()  # as the WSGI entry point does: the API as it is served


def seed(url: str, contacts: int, today: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "manage.py", "seed_demo", "--contacts", str(contacts), "--today", today,
                    "--force"], cwd=ROOT, env=env, check=True)


def fresh_copy(url: str) -> str:
    """A new database `<name>_fresh` holding the same funnel records and facts, never analysed.

    Created and migrated empty, autovacuum off on every table (a server where it lags or is
    off), then the rows copied in with pg_dump's COPY: PostgreSQL has no statistics of them.
    """
    import psycopg

    source = url.rsplit("/", 1)
    fresh_url = f"{source[0]}/{source[1]}_fresh"
    with psycopg.connect(f"{source[0]}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{source[1]}_fresh" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{source[1]}_fresh"')
    env = {**os.environ, "DATABASE_URL": fresh_url}
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
    with psycopg.connect(fresh_url, autocommit=True) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename ~ '^(funnel|kpis)_'")]
        for table in tables:
            conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
    dump = subprocess.Popen(["pg_dump", "--data-only", "--dbname", url, "-t", "funnel_*", "-t", "kpis_*",
                             "-T", "funnel_importjob"], stdout=subprocess.PIPE)
    subprocess.run(["psql", "--quiet", "--set", "ON_ERROR_STOP=1", "--dbname", fresh_url], stdin=dump.stdout,
                   stdout=subprocess.DEVNULL, check=True)
    if dump.wait() != 0:
        raise SystemExit("pg_dump failed")
    return fresh_url


def load() -> str:
    """The machine's load averages (1, 5, 15 min): the figures are only as good as the quiet."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def api_timing(client, query: dict, requests: int, *, cached: bool = False) -> tuple[float, float, dict]:
    """p50 and p95 of `requests` GETs of /api/v1/kpis/ (after one warm-up), and the last body.

    Each answer computed afresh (the cache emptied before each, outside the timing), or with
    `cached` served from the answer cache as every reader after the first is."""
    from django.core.cache import cache

    body = client.get("/api/v1/kpis/", query)
    assert body.status_code == 200, body.content[:300]
    samples = []
    for _ in range(requests):
        if not cached:
            cache.clear()
        started = time.perf_counter()
        response = client.get("/api/v1/kpis/", query)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content[:300]
    p50, p95 = percentiles(samples)
    return p50, p95, response.json()


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


# --- 2. one new day ---------------------------------------------------------------------------


def add_day(day: dt.date, rng: random.Random) -> dict:
    """Write one day of data the way ingest does and mark it dirty; returns what was written."""
    from django.db import connection, transaction

    from smarketing.funnel import models as m
    from smarketing.funnel.models import company_tz
    from smarketing.kpis.services import dirty_mark

    tz = company_tz()

    def at(hour: float) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), tzinfo=tz) + dt.timedelta(hours=hour)

    reps = list(m.TeamMember.objects.filter(team="sales").values_list("pk", flat=True))
    campaigns = list(m.Campaign.objects.values_list("pk", flat=True))
    channels = [c for c, _ in m.Channel.choices]
    with transaction.atomic():
        leads = []
        for i in range(1500):
            contact = m.Contact(external_id=f"bench-{day}-{i}", email=f"lead{i}@bench{i % 300}.example",
                                source_channel=rng.choice(channels), campaign_id=rng.choice([None, *campaigns]),
                                owner_id=rng.choice(reps), lead_at=at(rng.uniform(0, 24)))
            contact.fill_local_dates()
            leads.append(contact)
        m.Contact.objects.bulk_create(leads, batch_size=1000)
        new_ids = list(m.Contact.objects.filter(external_id__startswith=f"bench-{day}-").values_list("pk", flat=True))
        # 300 older leads become MQLs today: their lead-day cohorts change.
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM funnel_contact WHERE mql_at IS NULL AND lead_on BETWEEN %s AND %s "
                           "ORDER BY id DESC LIMIT 300", [day - dt.timedelta(days=90), day - dt.timedelta(days=1)])
            converting = [row[0] for row in cursor.fetchall()]
            old_days = set(m.Contact.objects.filter(pk__in=converting).values_list("lead_on", flat=True))
            m.Contact.objects.filter(pk__in=converting).update(mql_at=at(12), mql_on=day)
            cursor.execute("SELECT id FROM funnel_contact WHERE mql_on >= %s ORDER BY random() LIMIT 4000",
                           [day - dt.timedelta(days=60)])
            worked = [row[0] for row in cursor.fetchall()] + converting
        activities = []
        for i in range(10000):
            activity = m.Activity(external_id=f"bench-{day}-a{i}", contact_id=rng.choice(worked),
                                  owner_id=rng.choice(reps), activity_type=rng.choice(["call", "email", "meeting"]),
                                  occurred_at=at(rng.uniform(12, 24)), connected=rng.random() < 0.2)
            activity.fill_local_dates()
            activities.append(activity)
        m.Activity.objects.bulk_create(activities, batch_size=2000)
        deals = []
        for i in range(60):
            deal = m.Deal(external_id=f"bench-{day}-d{i}", contact_id=rng.choice(converting), owner_id=rng.choice(reps),
                          amount=rng.randrange(1000, 50000), status="open", created_at=at(13))
            deal.fill_local_dates()
            deals.append(deal)
        m.Deal.objects.bulk_create(deals)
        closing = list(m.Deal.objects.filter(status="open", created_on__lt=day).order_by("-created_on")[:30])
        for deal in closing:
            deal.status, deal.closed_at = rng.choice(["won", "lost"]), at(15)
            deal.fill_local_dates()
        m.Deal.objects.bulk_update(closing, ["status", "closed_at", "closed_on"])
        touched = set(new_ids) | set(converting) | {a.contact_id for a in activities} | \
            {d.contact_id for d in closing if d.contact_id}
        started = time.perf_counter()
        # As ingest sends them: every day field's old and new days (the new leads' lead day; the
        # converting leads' unchanged lead days and their new MQL day).
        dirty_mark(resource="contacts", days={day} | old_days, contact_ids=set(new_ids) | set(converting),
                   days_by_field={"lead_on": {day} | old_days, "mql_on": {day}})
        dirty_mark(resource="activities", days={day}, contact_ids={a.contact_id for a in activities})
        dirty_mark(resource="deals", days={day} | {d.created_on for d in closing},
                   contact_ids={d.contact_id for d in (*deals, *closing) if d.contact_id})
        mark_seconds = time.perf_counter() - started
    return {"contacts": len(touched), "mark_seconds": mark_seconds}


# --- 3. the same numbers by direct SQL over the raw tables ---------------------------------


def direct_sql(window, previous, min_attempts: int) -> dict[str, tuple]:
    """The 14 shared metrics for the window and its previous period, straight from the records.

    The previous period's cohort rates are same-age (rule 2): a conversion counts when it
    happened on or before the previous window's end, as the API answers them."""
    from django.db import connection

    out: dict[str, tuple] = {}
    with connection.cursor() as cursor:
        for name, w in (("current", window), ("previous", previous)):
            s, e, y = w.start, w.end, w.end - dt.timedelta(days=364)
            by = "2999-12-31" if name == "current" else e.isoformat()  # conversions counted up to
            # revenue_pipeline's close rate: leads old enough to have closed (365 days ending 120 before the end).
            fs, fe = w.end - dt.timedelta(days=484), w.end - dt.timedelta(days=120)
            cursor.execute(
                "SELECT COUNT(*) FILTER (WHERE lead_on BETWEEN %(s)s AND %(e)s),"
                " COUNT(*) FILTER (WHERE lead_on BETWEEN %(s)s AND %(e)s AND mql_on <= %(by)s),"
                " COUNT(*) FILTER (WHERE lead_on BETWEEN %(s)s AND %(e)s AND customer_on <= %(by)s),"
                " COUNT(*) FILTER (WHERE mql_on BETWEEN %(s)s AND %(e)s),"
                " COUNT(*) FILTER (WHERE mql_on BETWEEN %(s)s AND %(e)s AND opportunity_on <= %(by)s),"
                " COUNT(*) FILTER (WHERE opportunity_on BETWEEN %(s)s AND %(e)s),"
                " COUNT(*) FILTER (WHERE opportunity_on BETWEEN %(s)s AND %(e)s AND customer_on <= %(by)s),"
                " COUNT(*) FILTER (WHERE lead_on BETWEEN %(fs)s AND %(fe)s),"
                " COUNT(*) FILTER (WHERE lead_on BETWEEN %(fs)s AND %(fe)s AND customer_at IS NOT NULL)"
                " FROM funnel_contact", {"s": s, "e": e, "fs": fs, "fe": fe, "by": by})
            leads, l_mql, l_cust, mqls, m_opp, opps, o_cust, f_leads, f_cust = cursor.fetchone()
            cursor.execute(
                "SELECT COALESCE(SUM(amount) FILTER (WHERE closed_on BETWEEN %(s)s AND %(e)s), 0),"
                " COUNT(*) FILTER (WHERE closed_on BETWEEN %(s)s AND %(e)s),"
                " COALESCE(SUM(amount), 0), COUNT(*) FROM funnel_deal"
                " WHERE status = 'won' AND closed_on BETWEEN %(y)s AND %(e)s", {"s": s, "e": e, "y": y})
            revenue, won, y_revenue, y_won = cursor.fetchone()
            cursor.execute("SELECT COALESCE(SUM(visits), 0) FROM funnel_webtraffic WHERE date BETWEEN %s AND %s",
                           [s, e])
            visits = cursor.fetchone()[0]
            cursor.execute("SELECT COALESCE(SUM(size), 0) FROM (SELECT DISTINCT ON (channel) size FROM funnel_audience"
                           " WHERE date <= %s ORDER BY channel, date DESC) x", [e])
            reach = cursor.fetchone()[0]
            cursor.execute(
                "SELECT COUNT(*) FILTER (WHERE n > 0), COUNT(*) FILTER (WHERE conn), "
                " COUNT(*) FILTER (WHERE n > 0 AND NOT conn), COUNT(*) FILTER (WHERE n >= %(k)s AND NOT conn)"
                " FROM (SELECT c.id, COUNT(a.id) AS n, COALESCE(BOOL_OR(a.connected), false) AS conn"
                " FROM funnel_contact c LEFT JOIN funnel_activity a ON a.contact_id = c.id AND a.occurred_at >= c.mql_at"
                " AND a.occurred_on <= %(by)s WHERE c.mql_on BETWEEN %(s)s AND %(e)s GROUP BY c.id) x",
                {"s": s, "e": e, "k": min_attempts, "by": by})
            worked, connected, wnc, compliant = cursor.fetchone()

            def pct(n, d):
                return None if not d else float(n) / float(d) * 100

            rate = None if not f_leads else f_cust / f_leads
            size = None if not y_won else float(y_revenue) / y_won
            out[name] = {
                "reach": reach, "leads": leads, "revenue": float(revenue),
                "revenue_pipeline": None if rate is None or size is None else leads * rate * size,
                "visit_to_lead_rate": pct(leads, visits), "lead_to_mql_rate": pct(l_mql, leads),
                "leads_worked_rate": pct(worked, mqls), "worked_to_connected_rate": pct(connected, worked),
                "mql_to_opportunity_rate": pct(m_opp, mqls), "opportunity_to_customer_rate": pct(o_cust, opps),
                "lead_to_customer_rate": pct(l_cust, leads),
                "average_deal_size": None if not won else float(revenue) / won,
                "leads_delivered": mqls, "sla_attempt_compliance": pct(compliant, wnc),
            }
        cursor.execute("SELECT metric, value FROM funnel_target WHERE owner_id IS NULL AND period = 'year'"
                       " AND period_start = %s AND metric = ANY(%s)", [window.start, SHARED])
        out["targets"] = dict(cursor.fetchall())
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="postgres://postgres@127.0.0.1:5432/bench_engine")
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--seed", action="store_true", help="(re)seed the database first")
    parser.add_argument("--today", default="2026-11-23")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--skip-full", action="store_true", help="no full recompute (the facts are current)")
    parser.add_argument("--full-runs", type=int, default=None, help="full recomputes to time (default --runs)")
    parser.add_argument("--skip-day", action="store_true", help="no new day (repeat the API figures only)")
    parser.add_argument("--never-analysed", action="store_true",
                        help="copy the database into a new one PostgreSQL never analysed, and time the "
                             "recompute of one new day there (no full recompute, no API)")
    args = parser.parse_args()
    if args.seed:
        seed(args.url, args.contacts, args.today)
    if args.never_analysed:
        started = time.perf_counter()
        args.url = fresh_copy(args.url)
        print(f"copied into {args.url.rsplit('/', 1)[1]} in {time.perf_counter() - started:.0f} s")
    setup(args.url)

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from smarketing.funnel import models as m
    from smarketing.kpis.models import Fact
    from smarketing.kpis.services import facts_rebuild, facts_recompute_dirty
    from smarketing.kpis.windows import window_for

    print(f"contacts {m.Contact.objects.count():,}  activities {m.Activity.objects.count():,}  "
          f"deals {m.Deal.objects.count():,}  touches {m.Touch.objects.count():,}")

    def reltuples() -> str:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT relname, reltuples FROM pg_class WHERE relname IN "
                           "('funnel_contact', 'funnel_activity', 'funnel_deal') ORDER BY relname")
            return ", ".join(f"{name} {int(rows):,}" for name, rows in cursor.fetchall())

    print(f"planner row estimates (-1: never analysed): {reltuples()}")
    full = [] if args.never_analysed or args.skip_full else [timed(facts_rebuild) for _ in range(args.full_runs or args.runs)]
    if full:
        print(f"full recompute: runs {[round(x, 1) for x in full]} s, median {statistics.median(full):.1f} s "
              f"({Fact.objects.count():,} fact rows); load {load()}")

    rng = random.Random(7)
    from django.db.models import Max

    # The day after the newest lead: repeated benchmark runs keep adding fresh days.
    first_new = max(dt.date.fromisoformat(args.today),
                    m.Contact.objects.aggregate(last=Max("lead_on"))["last"] + dt.timedelta(days=1))
    day_runs, visible, marks, rebuilt = [], [], [], []
    if args.skip_day:
        first_new -= dt.timedelta(days=args.runs)
    for i in range(0 if args.skip_day else args.runs):
        written = add_day(first_new + dt.timedelta(days=i), rng)
        marks.append(written["mark_seconds"])
        started = time.perf_counter()
        result = facts_recompute_dirty()
        day_runs.append(time.perf_counter() - started)
        visible.append(result.visible_seconds)
        rebuilt.append(result.days)
    if day_runs:
        print(f"one new day: recompute runs {[round(x, 2) for x in day_runs]} s, median "
              f"{statistics.median(day_runs):.2f} s; new facts visible (committed) after "
              f"{[round(x, 2) for x in visible]} s, median {statistics.median(visible):.2f} s, the rest is the "
              f"VACUUM after the commit (marking dirty days: median {statistics.median(marks):.2f} s; "
              f"days rebuilt per run {rebuilt}); load {load()}")
    print(f"planner row estimates after: {reltuples()}")
    if args.never_analysed:
        return

    as_of = first_new + dt.timedelta(days=args.runs - 1)
    window = window_for("ytd", as_of=as_of)
    user, _ = get_user_model().objects.get_or_create(username="kpi-bench")
    client = Client()
    client.force_login(user)
    query = {"metrics": ",".join(SHARED), "window": "ytd", "as_of": as_of.isoformat()}
    p50, p95, body = api_timing(client, query, args.requests)
    judged = sum(1 for result in body["results"] if (result.get("target") or {}).get("status") is not None)
    h50, h95, _ = api_timing(client, query, args.requests, cached=True)
    print(f"KPI API, 14 shared metrics, ytd + previous + targets, computed: p50 {p50 * 1000:.1f} ms, "
          f"p95 {p95 * 1000:.1f} ms ({args.requests} requests; {judged} of 14 carry a target status); "
          f"cached: p50 {h50 * 1000:.1f} ms, p95 {h95 * 1000:.1f} ms; load {load()}")
    custom = {"metrics": ",".join(SHARED), "window": "custom", "as_of": as_of.isoformat(),
              "start": (as_of - dt.timedelta(days=331)).isoformat(), "end": as_of.isoformat()}
    for name, asked in (("dimension=channel", {**query, "dimension": "channel"}),
                        ("dimension=campaign", {**query, "dimension": "campaign"}),
                        ("dimension=owner", {**query, "dimension": "owner"}), ("custom window of 332 days", custom)):
        d50, d95, _ = api_timing(client, asked, max(40, args.requests // 2))
        k50, k95, _ = api_timing(client, asked, max(40, args.requests // 2), cached=True)
        print(f"KPI API, {name}, computed: p50 {d50 * 1000:.1f} ms, p95 {d95 * 1000:.1f} ms; "
              f"cached: p50 {k50 * 1000:.1f} ms, p95 {k95 * 1000:.1f} ms; load {load()}")

    direct, answer = [], None
    for _ in range(args.runs):
        started = time.perf_counter()
        answer = direct_sql(window, window.previous(), settings.SLA_MIN_ATTEMPTS)
        direct.append(time.perf_counter() - started)
    direct_median = statistics.median(direct)
    print(f"direct SQL over the raw tables: runs {[round(x, 2) for x in direct]} s, median {direct_median:.2f} s "
          f"→ API is {direct_median / p95:.0f}× faster at p95 ({direct_median / p50:.0f}× at p50)")

    mismatches = []
    for result in body["results"]:
        for name, got in (("current", result["value"]), ("previous", result["previous"]["value"])):
            want = answer[name][result["metric"]]
            if (got is None) != (want is None) or (got is not None and abs(float(got) - float(want)) >
                                                   1e-6 * max(1.0, abs(float(want)))):
                mismatches.append((result["metric"], name, got, want))
    print("API numbers equal the direct SQL numbers" if not mismatches else f"MISMATCHES: {mismatches}")


if __name__ == "__main__":
    main()
