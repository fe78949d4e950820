"""Where one new day's recompute spends its time, family by family (not part of the test suite).

    python benchmarks/new_day_parts.py [--url postgres://postgres@127.0.0.1:5432/bench_engine]
        [--runs 5] [--day 2026-11-23]

On a seeded database (`kpi_bench.py --seed`), each run writes the day `kpi_bench.py` writes
(1,500 leads, 10,000 activities, 300 MQL conversions, 60 new and 30 closed deals), marks it
dirty as ingest does, recomputes the marked days and rolls everything back, so every run
measures the same day on the same facts. It prints the median of the whole recompute and of
each family's rebuild statement(s), and of the staging of the MQLs' attempts that the two SLA
families share. Roll-backs leave dead rows: `VACUUM ANALYZE` the fact tables before other
benchmarks on the same database (its autovacuum may be off).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
from collections import defaultdict
from contextlib import contextmanager

from kpi_bench import add_day, load, setup


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="postgres://postgres@127.0.0.1:5432/bench_engine")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--day", default="2026-11-23", help="the new day (after the seed's last)")
    args = parser.parse_args()
    setup(args.url)

    from django.db import transaction

    from smarketing.kpis import facts
    from smarketing.kpis.services import facts_recompute_dirty

    parts: dict[str, list[float]] = defaultdict(list)
    rebuild, stage = facts._family_rebuild, facts.mqls_staged

    def family_timed(*, family, days):
        started = time.perf_counter()
        rebuild(family=family, days=days)
        parts[family.name].append(time.perf_counter() - started)

    @contextmanager
    def staging_timed(days):
        started = time.perf_counter()
        with stage(days):
            if days is None or days:
                parts["(MQL attempts staged for both SLA families)"].append(time.perf_counter() - started)
            yield

    facts._family_rebuild, facts.mqls_staged = family_timed, staging_timed
    day = dt.date.fromisoformat(args.day)
    totals = []
    for run in range(args.runs):
        with transaction.atomic():
            add_day(day, random.Random(run))
            started = time.perf_counter()
            facts_recompute_dirty()
            totals.append(time.perf_counter() - started)
            transaction.set_rollback(True)
    print(f"one new day ({day}), recompute inside the day's transaction: runs {[round(x, 2) for x in totals]} s, "
          f"median {statistics.median(totals):.2f} s; load {load()}")
    for name, seconds in sorted(parts.items(), key=lambda item: -statistics.median(item[1])):
        print(f"  {statistics.median(seconds) * 1000:8.1f} ms  {name}")


if __name__ == "__main__":
    main()
