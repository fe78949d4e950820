"""How soon an import shows on the dashboards, with a real Celery worker (not a test).

    .venv/bin/python benchmarks/import_visible_bench.py [--url postgres://postgres@127.0.0.1:5432/bench1m]
        [--redis redis://127.0.0.1:6379/6] [--rows 1000] [--runs 5]

Starts `celery -A smarketing worker` on the database and Redis given (services mode), then
per run imports `--rows` new contacts, all leads of one fresh day (the day after the
newest lead, so each run is a day nobody has read yet), through the same `csv_import` the
upload page and `import_csv` use. The import queues the KPI recompute on commit; the
worker rebuilds the dirty days. The bench polls the `leads` number of that day the way a
dashboard reads it (`kpi_values` over the facts, every 20 ms) until it counts the new
leads, and reports the import time, the lag from the import's commit to the number being
visible, and the total. The database must hold the seed already (seed_demo).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup(url: str, redis: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["REDIS_URL"] = redis
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarketing.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["KPI_HEAVY_QUERY_RATE"] = "0/minute"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def contacts_csv(day: dt.date, rows: int, tag: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["external_id", "email", "source_channel", "lead_at"])
    for i in range(rows):
        writer.writerow([f"visible-{tag}-{i}", f"visible{i}@{tag}.example", "organic_search",
                         f"{day.isoformat()}T{8 + i % 10:02d}:{i % 60:02d}:00"])
    return out.getvalue().encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="postgres://postgres@127.0.0.1:5432/bench1m")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    setup(args.url, args.redis)

    from django.db.models import Max

    from smarketing.funnel import models as m
    from smarketing.funnel.importing import CsvSource, csv_import
    from smarketing.kpis.selectors import kpi_values
    from smarketing.kpis.windows import Window

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen([str(Path(sys.executable).parent / "celery"), "-A", "smarketing", "worker",
                               "--loglevel=WARNING", "--concurrency", "1", "--without-heartbeat",
                               "--without-gossip", "--without-mingle"], cwd=ROOT, env=env, start_new_session=True)
    try:
        from smarketing.celery import app

        for _ in range(300):
            if worker.poll() is not None:
                raise SystemExit(f"the worker exited ({worker.returncode})")
            if app.control.ping(timeout=0.5):
                break
        else:
            raise SystemExit("the worker did not answer a ping within the time allowed")
        imports, lags, totals = [], [], []
        for run in range(args.runs):
            day = m.Contact.objects.aggregate(last=Max("lead_on"))["last"] + dt.timedelta(days=1)
            window = Window("custom", day, day, day)
            before = kpi_values(metrics=["leads"], window=window)[0]["value"] or 0
            body = contacts_csv(day, args.rows, f"{day.isoformat()}-{run}-{time.time_ns()}")
            started = time.perf_counter()
            report = csv_import(sources=[CsvSource("contacts", io.BytesIO(body), len(body), "contacts.csv", None)],
                                dry_run=False, progress=None)
            committed = time.perf_counter()
            if not report.ok:
                raise SystemExit(f"the import failed: {report.errors[:3]}")
            while True:
                value = kpi_values(metrics=["leads"], window=window)[0]["value"] or 0
                if value >= before + args.rows:
                    break
                if time.perf_counter() - started > args.timeout:
                    raise SystemExit(f"not visible after {args.timeout:.0f} s ({value} of {before + args.rows})")
                time.sleep(0.02)
            seen = time.perf_counter()
            imports.append(committed - started)
            lags.append(seen - committed)
            totals.append(seen - started)
            print(f"run {run + 1}: {args.rows} contacts on {day}: import {imports[-1]:.2f} s, visible "
                  f"{lags[-1]:.2f} s after its commit, {totals[-1]:.2f} s in all; load "
                  + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        print(f"median of {args.runs}: import {statistics.median(imports):.2f} s, commit → visible "
              f"{statistics.median(lags):.2f} s, import start → visible {statistics.median(totals):.2f} s")
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, 15)
            worker.wait(timeout=60)


if __name__ == "__main__":
    main()
