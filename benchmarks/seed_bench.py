"""Time `manage.py seed_demo` on SQLite (default size) and on PostgreSQL (100,000 contacts).

    python benchmarks/seed_bench.py [--runs 3] [--sqlite-contacts 20000]
        [--pg-contacts 100000] [--pg-url postgres://postgres@127.0.0.1:5432/bench_foundation]
        [--skip-sqlite] [--skip-pg]

Each run starts from an empty, migrated database (a fresh SQLite file; the PostgreSQL
database dropped and created again), pins --today so every run writes the same rows, and
times the seed_demo command alone: wall clock and the CPU time of its process (wall time
on a shared machine depends on the load, printed beside it). Prints one line per run and
the medians.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2026-11-23"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def manage(*args: str, env: dict[str, str]) -> tuple[float, float, str]:
    """Run a manage.py command: (wall seconds, CPU seconds of the process, stdout)."""
    started, cpu = time.monotonic(), children_cpu()
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True)
    return time.monotonic() - started, children_cpu() - cpu, done.stdout


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "EMAIL_URL")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def seed_once(env: dict[str, str], contacts: int) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, rows) of one seed_demo into a migrated, empty database."""
    manage("migrate", "--no-input", "-v0", env=env)
    wall, cpu, out = manage("seed_demo", "--contacts", str(contacts), "--today", TODAY, "--no-progress",
                       env=env)
    match = re.search(r"Demo data loaded: ([\d,]+) rows.* in ([\d.]+) s", out)
    if not match:
        raise RuntimeError(f"unexpected seed_demo output:\n{out}")
    return wall, cpu, int(match.group(1).replace(",", ""))


def report(label: str, contacts: int, run: int, wall: float, cpu: float, rows: int) -> None:
    print(f"{label:<11} contacts={contacts:>9,} run {run}: {wall:6.1f} s wall, {cpu:6.1f} s CPU, "
          f"{rows:,} rows, load {os.getloadavg()[0]:.1f}", flush=True)


def bench_sqlite(runs: int, contacts: int) -> list[tuple[float, float]]:
    results = []
    for run in range(1, runs + 1):
        with tempfile.TemporaryDirectory(prefix="seed-bench-") as var:
            env = {**base_env(), "SMARKETING_VAR_DIR": var}
            wall, cpu, rows = seed_once(env, contacts)
        results.append((wall, cpu))
        report("sqlite", contacts, run, wall, cpu, rows)
    return results


def recreate_database(url: str) -> None:
    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def bench_postgres(runs: int, contacts: int, url: str) -> list[tuple[float, float]]:
    results = []
    for run in range(1, runs + 1):
        recreate_database(url)
        env = {**base_env(), "DATABASE_URL": url}
        wall, cpu, rows = seed_once(env, contacts)
        results.append((wall, cpu))
        report("postgresql", contacts, run, wall, cpu, rows)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sqlite-contacts", type=int, default=20000)
    parser.add_argument("--pg-contacts", type=int, default=100000)
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/bench_foundation")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    results = {}
    if not args.skip_sqlite:
        results[f"sqlite {args.sqlite_contacts:,}"] = bench_sqlite(args.runs, args.sqlite_contacts)
    if not args.skip_pg:
        results[f"postgresql {args.pg_contacts:,}"] = bench_postgres(args.runs, args.pg_contacts, args.pg_url)
    # Wall time depends on what else the machine runs; CPU time is the seed's own work
    # (the database server's share is not in it).
    for label, runs in results.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(f"median {label} contacts: {statistics.median(walls):.1f} s wall "
              f"(min {min(walls):.1f}, max {max(walls):.1f}), {statistics.median(cpus):.1f} s CPU, "
              f"{len(runs)} runs")


if __name__ == "__main__":
    main()
