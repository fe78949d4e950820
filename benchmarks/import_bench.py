"""CSV import speed on PostgreSQL: contacts and activities, against a bare `COPY` of the same file.

Generates seed_demo-like `contacts.csv` (default 1,000,000 rows) and `activities.csv`
(3,000,000 rows), then per run: empties the funnel tables, imports team members and
campaigns, times `manage.py import_csv contacts` and `import_csv activities` (each in its
own process, so its peak memory is measured alone, its forked reader included), and times `COPY` of
the same files into bare text tables. Prints each run and the medians.

The imports run as in production with PostgreSQL: in services mode, so the KPI recompute
an import asks for is queued for a Celery worker (a scratch Redis database no worker
reads) instead of running inside the import. After each import the bench runs that
recompute itself (`recompute_kpis`, the dirty days) and reports its time apart.

    .venv/bin/python benchmarks/import_bench.py [--contacts N] [--activities N] [--runs R]
    .venv/bin/python benchmarks/import_bench.py --mapped [--contacts N] [--runs R]

Goal (issue 3): >= 25,000 contact rows/s, peak memory < 1 GB, within 4x of COPY.

`--mapped` (issue 17) times, per run, `import_csv contacts` of the contract-shaped file and of
the same contacts as a HubSpot-shaped export (`--mapping`: the hubspot_contacts preset plus the
columns HubSpot's export lacks): owners by name, Original Source by value map, lifecycle dates
in HubSpot's format, the lead date as the first non-empty of two columns. Goal: mapping adds
under 15 %.
Uses the database `bench_ingest` (created when missing); not part of the test suite.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DB = os.environ.get("BENCH_DB", "bench_ingest")
SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DATABASE_URL = f"{SERVER}/{DB}"
# Where the import's recompute task is queued; flushed before each import.
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/14")
OUT = ROOT / "var" / "bench"

CHANNELS = ["organic_search", "paid_search", "email", "social", "paid_social", "blog",
            "content_syndication", "webinar", "direct_mail", "referral", "direct", "events", "other"]
REPS = [f"rep{i}@example.com" for i in range(1, 13)]
CAMPAIGNS = [f"CMP-{i:03d}" for i in range(1, 61)]
START = dt.datetime(2024, 1, 1, 8, 0, 0)


def generate(contacts: int, activities: int, seed: int = 7) -> None:
    """Deterministic files shaped like seed_demo's: lifecycle stages, owners, referrals."""
    OUT.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    with (OUT / "team_members.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["email", "name", "team", "role"])
        for i, email in enumerate(REPS, 1):
            w.writerow([email, f"Rep {i}", "sales", "sales_manager" if i == 1 else ""])
    with (OUT / "campaigns.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["external_id", "name", "channel", "start_date", "end_date", "budget"])
        for i, ext in enumerate(CAMPAIGNS):
            w.writerow([ext, f"Campaign {i}", CHANNELS[i % len(CHANNELS)], "2024-01-01", "2025-12-31", "5000.00"])
    span = 730 * 86400
    mql_times: list[float] = []
    with (OUT / "contacts.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["external_id", "email", "company", "source_channel", "campaign_id", "owner_email",
                    "referred_by", "lead_at", "nurture_at", "mql_at", "demo_at", "sql_at",
                    "opportunity_at", "customer_at", "churned_at"])
        for i in range(1, contacts + 1):
            lead = rng.random() * span
            stamps = [""] * 7  # nurture, mql, demo, sql, opportunity, customer, churned
            mql = None
            if rng.random() < 0.25:
                stamps[0] = _ts(lead + rng.random() * 5 * 86400)
            if rng.random() < 0.3:
                mql = lead + rng.random() * 20 * 86400
                stamps[1] = _ts(mql)
                if rng.random() < 0.4:
                    stamps[2] = _ts(mql + rng.random() * 86400)
                    sql = mql + rng.random() * 10 * 86400
                    stamps[3] = _ts(sql)
                    if rng.random() < 0.5:
                        opp = sql + rng.random() * 10 * 86400
                        stamps[4] = _ts(opp)
                        if rng.random() < 0.3:
                            cust = opp + rng.random() * 30 * 86400
                            stamps[5] = _ts(cust)
                            if rng.random() < 0.1:
                                stamps[6] = _ts(cust + rng.random() * 200 * 86400)
            mql_times.append(mql if mql is not None else lead)
            referred = f"C{rng.randrange(1, i):07d}" if i > 1 and rng.random() < 0.02 else ""
            w.writerow([
                f"C{i:07d}", f"lead{i}@company{i % 5000}.com", f"Company {i % 5000}",
                rng.choice(CHANNELS), rng.choice(CAMPAIGNS) if rng.random() < 0.6 else "",
                rng.choice(REPS) if stamps[1] else "", referred, _ts(lead), *stamps,
            ])
    with (OUT / "activities.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["external_id", "contact_id", "owner_email", "activity_type", "occurred_at", "connected"])
        for i in range(1, activities + 1):
            contact = rng.randrange(1, contacts + 1)
            at = mql_times[contact - 1] + rng.random() * 15 * 86400
            w.writerow([f"A{i:08d}", f"C{contact:07d}", rng.choice(REPS), rng.choice(("call", "email", "meeting")),
                        _ts(at), "true" if rng.random() < 0.3 else "false"])


# Contract channel → HubSpot Original Source (the preset's map read backwards); the channels
# HubSpot has no source for stay as they are (a contract value needs no map entry).
HUBSPOT_SOURCE = {"organic_search": "Organic Search", "paid_search": "Paid Search", "email": "Email Marketing",
                  "social": "Social Media", "paid_social": "Paid Social", "referral": "Referrals",
                  "direct": "Direct Traffic", "other": "Other Campaigns"}
HUBSPOT_EXTRA = ["Campaign ID", "Referred By", "Nurture Date", "Demo Date", "Churn Date"]


def generate_hubspot() -> None:
    """contacts.csv as a HubSpot export."""
    names = {email: f"Rep {i}" for i, email in enumerate(REPS, 1)}
    with (OUT / "contacts.csv").open(newline="") as source, (OUT / "hubspot_contacts.csv").open("w", newline="") as f:
        rows = csv.reader(source)
        next(rows)
        w = csv.writer(f)
        w.writerow(["Record ID", "Email", "Company Name", "Original Source", "Contact owner", "Create Date",
                    "Became a Lead Date", "Became a Marketing Qualified Lead Date",
                    "Became a Sales Qualified Lead Date", "Became an Opportunity Date", "Became a Customer Date",
                    *HUBSPOT_EXTRA])
        for i, (ext, email, company, channel, campaign, owner, referred, lead, nurture, mql, demo, sql, opp,
                cust, churn) in enumerate(rows):
            # Half the rows have no lead date: the preset takes the Create Date then.
            w.writerow([ext, email, company, HUBSPOT_SOURCE.get(channel, channel), names.get(owner, ""),
                        _hubspot(lead), "" if i % 2 else _hubspot(lead), _hubspot(mql), _hubspot(sql),
                        _hubspot(opp), _hubspot(cust), campaign, referred, _hubspot(nurture), _hubspot(demo),
                        _hubspot(churn)])


def write_hubspot_mapping() -> None:
    """The hubspot_contacts preset plus the columns HubSpot's export lacks, limited to the contract's
    columns (the contract file's header): a preset may name columns a newer contract adds."""
    sys.path.insert(0, str(ROOT))
    from smarketing.funnel.presets import PRESETS

    with (OUT / "contacts.csv").open(newline="") as source:
        columns = set(next(csv.reader(source)))
    fields = {k: v for k, v in PRESETS["hubspot_contacts"].spec["fields"].items() if k in columns}
    fields.update({"campaign_id": "Campaign ID", "referred_by": "Referred By"})
    for column, name in (("nurture_at", "Nurture Date"), ("demo_at", "Demo Date"), ("churned_at", "Churn Date")):
        fields[column] = {"from": name, "format": "YYYY-MM-DD HH:MM"}
    (OUT / "hubspot_mapping.json").write_text(json.dumps({"fields": fields}))


def _hubspot(stamp: str) -> str:
    # HubSpot exports to the minute; cutting the seconds keeps every stage order.
    return stamp[:16].replace("T", " ")


def mapped_runs(runs: int) -> None:
    contract = OUT / "contacts.csv"
    hubspot = OUT / "hubspot_contacts.csv"
    rows = sum(1 for _ in contract.open()) - 1
    ensure_database()
    results: dict[str, list[float]] = {"contract": [], "mapped": []}
    for run in range(1, runs + 1):
        for kind, args in (("contract", [str(contract)]),
                           ("mapped", [str(hubspot), "--mapping", str(OUT / "hubspot_mapping.json")])):
            reset()
            manage("import_csv", "team_members", str(OUT / "team_members.csv"))
            manage("import_csv", "campaigns", str(OUT / "campaigns.csv"))
            seconds, peak = manage("import_csv", "contacts", *args)
            results[kind].append(seconds)
            print(f"run {run} {kind}: {rows:,} contacts in {seconds:.1f} s = {rows / seconds:,.0f} rows/s, "
                  f"peak {peak / 2**20:,.0f} MiB; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
                  flush=True)
    contract_s, mapped_s = statistics.median(results["contract"]), statistics.median(results["mapped"])
    print(f"\nmedians of {runs} run(s): contract-shaped {contract_s:.1f} s, HubSpot-shaped with the mapping "
          f"{mapped_s:.1f} s: mapping adds {(mapped_s / contract_s - 1) * 100:+.1f} %")


def _ts(seconds: float) -> str:
    return (START + dt.timedelta(seconds=int(seconds))).isoformat()


def ensure_database() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB]).fetchone():
            conn.execute(f'CREATE DATABASE "{DB}"')
    manage("migrate", "--no-input", "-v", "0")


def manage(*args: str) -> tuple[float, int]:
    """Run manage.py in its own process: (seconds, peak resident memory in bytes).

    The peak is of the process and its children together (an import's forked reader runs
    beside it), sampled every 50 ms, or the kernel's own peak of each alone, whichever is larger.
    """
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL}
    subprocess.run(["redis-cli", "-u", REDIS_URL, "flushdb"], check=True, capture_output=True)
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = bytearray()
    reader = threading.Thread(target=lambda: output.extend(process.stdout.read()), daemon=True)
    reader.start()
    sampled = 0
    while process.poll() is None:
        sampled = max(sampled, tree_rss(process.pid))
        time.sleep(0.05)
    reader.join()
    seconds = time.monotonic() - started
    if process.returncode != 0:
        sys.stdout.write(output.decode())
        raise SystemExit(f"manage.py {' '.join(args)} failed")
    return seconds, sampled


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and its children, now (0 once it is gone)."""
    total = 0
    try:
        with open(f"/proc/{pid}/status") as status:
            total += next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) * 1024
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += tree_rss(int(child))
    except (FileNotFoundError, ProcessLookupError, StopIteration):
        pass
    return total


def reset() -> None:
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute("TRUNCATE funnel_activity, funnel_touch, funnel_deal, funnel_contact, funnel_content, "
                     "funnel_campaign, funnel_teammember RESTART IDENTITY CASCADE")
        conn.execute("VACUUM ANALYZE")


def copy_seconds(name: str) -> float:
    """COPY the same CSV into a bare table of text columns (no keys, no indexes)."""
    path = OUT / f"{name}.csv"
    with path.open() as f:
        header = next(csv.reader(f))
    table = f"bench_copy_{name}"
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute(f"CREATE TABLE {table} ({', '.join(f'{c} text' for c in header)})")
        started = time.monotonic()
        with conn.cursor() as cur, path.open("rb") as f, \
                cur.copy(f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            while data := f.read(1 << 20):
                copy.write(data)
        seconds = time.monotonic() - started
        conn.execute(f"DROP TABLE {table}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--activities", type=int, default=3_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep-files", action="store_true", help="reuse files generated before")
    parser.add_argument("--mapped", action="store_true", help="contacts: contract-shaped file vs HubSpot export")
    args = parser.parse_args()

    if args.mapped:
        if not (args.keep_files and (OUT / "hubspot_contacts.csv").exists()):
            generate(args.contacts, 0)
            generate_hubspot()
        write_hubspot_mapping()
        mapped_runs(args.runs)
        return

    if not (args.keep_files and (OUT / "activities.csv").exists()):
        started = time.monotonic()
        generate(args.contacts, args.activities)
        print(f"generated files in {time.monotonic() - started:.0f} s under {OUT}")
    rows = {name: sum(1 for _ in (OUT / f"{name}.csv").open()) - 1 for name in ("contacts", "activities")}
    ensure_database()
    results: dict[str, list[tuple[float, int, float, float]]] = {"contacts": [], "activities": []}
    for run in range(1, args.runs + 1):
        reset()
        manage("import_csv", "team_members", str(OUT / "team_members.csv"))
        manage("import_csv", "campaigns", str(OUT / "campaigns.csv"))
        for name in ("contacts", "activities"):
            seconds, peak = manage("import_csv", name, str(OUT / f"{name}.csv"))
            recompute, _ = manage("recompute_kpis")
            copy = copy_seconds(name)
            results[name].append((seconds, peak, copy, recompute))
            print(f"run {run} {name}: {rows[name]:,} rows in {seconds:.1f} s = {rows[name] / seconds:,.0f} rows/s, "
                  f"peak {peak / 2**20:,.0f} MiB; COPY {copy:.1f} s = {rows[name] / copy:,.0f} rows/s; "
                  f"ratio {seconds / copy:.1f}x; then KPI recompute {recompute:.1f} s; "
                  f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    print("\nmedians")
    for name, runs in results.items():
        seconds = statistics.median(r[0] for r in runs)
        peak = statistics.median(r[1] for r in runs)
        copy = statistics.median(r[2] for r in runs)
        recompute = statistics.median(r[3] for r in runs)
        print(f"{name}: {rows[name] / seconds:,.0f} rows/s ({seconds:.1f} s), peak {peak / 2**20:,.0f} MiB, "
              f"COPY {rows[name] / copy:,.0f} rows/s, import / COPY = {seconds / copy:.1f}x, "
              f"KPI recompute after it {recompute:.1f} s")


if __name__ == "__main__":
    main()
