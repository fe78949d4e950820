"""What alert evaluation adds to a recompute, on PostgreSQL (not part of the test suite).

    python benchmarks/alerts_bench.py [--url postgres://postgres@127.0.0.1:5432/alerts_bench]
        [--contacts 1000000] [--seed] [--rules 200] [--runs 3] [--today 2026-11-23]

With --seed the database is (re)seeded with `seed_demo --contacts N` and the facts rebuilt;
otherwise it must hold a seed already. Then `--rules` rules are made over the catalogue's
metrics, windows, slices and condition types, and each run:

1. writes one new day of data the way ingest does (kpi_bench's `add_day`: ~1,500 leads per
   million contacts, activities, conversions, deals) and marks it dirty;
2. times the recompute of the dirty days alone (the alerts listener detached);
3. times the evaluation that follows a recompute (`rules_evaluate` with the families and
   days the recompute announced), events and outbox rows included.

Prints each run, the medians and evaluation / recompute in percent, with the load average
(the machine is shared: wall time depends on it, the ratio much less).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kpi_bench import add_day, seed, setup  # the sibling benchmark's helpers

CONDITIONS = ({"type": "below", "value": 100}, {"type": "above", "value": 50},
              {"type": "change", "percent": 10, "direction": "any"},
              {"type": "change", "percent": 25, "direction": "down"})
WINDOWS = ("mtd", "qtd", "ytd", "last_7", "last_30", "last_90")


def make_rules(count: int) -> None:
    from django.contrib.auth import get_user_model

    from smarketing.alerts.models import Rule
    from smarketing.alerts.services import rule_save
    from smarketing.funnel.models import Channel
    from smarketing.kpis.registry import METRICS

    Rule.objects.all().delete()
    owner, _ = get_user_model().objects.get_or_create(username="alerts-bench")
    metrics = sorted(METRICS)
    channels = [value for value in Channel.values]
    for index in range(count):
        metric = METRICS[metrics[index % len(metrics)]]
        sliced = index % 3 == 0 and "channel" in metric.dimensions
        rule_save(owner=owner, name=f"bench {index}", metric=metric.key,
                  dimension="channel" if sliced else "", key=channels[index % len(channels)] if sliced else "",
                  window=WINDOWS[index % len(WINDOWS)], condition=CONDITIONS[index % len(CONDITIONS)],
                  destinations=[])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="postgres://postgres@127.0.0.1:5432/alerts_bench")
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--seed", action="store_true", help="(re)seed the database first")
    parser.add_argument("--today", default="2026-11-23")
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.seed:
        seed(args.url, args.contacts, args.today)
    setup(args.url)

    from django.db.models import Max

    from smarketing.alerts.services import rules_evaluate
    from smarketing.funnel import models as m
    from smarketing.kpis.models import Fact
    from smarketing.kpis.services import facts_rebuild, facts_recompute_dirty
    from smarketing.kpis.signals import facts_recomputed

    # Detached: the recompute is timed alone, the evaluation it triggers separately.
    facts_recomputed.disconnect(dispatch_uid="alerts.facts_recomputed")
    if args.seed or not Fact.objects.exists():
        facts_rebuild()
    make_rules(args.rules)
    print(f"contacts {m.Contact.objects.count():,}, fact rows {Fact.objects.count():,}, rules {args.rules}")

    announced: list[dict] = []

    def remember(sender, **kwargs) -> None:
        announced.append(kwargs)

    facts_recomputed.connect(remember, dispatch_uid="alerts_bench")
    rng = random.Random(11)
    first_new = max(dt.date.fromisoformat(args.today),
                    m.Contact.objects.aggregate(last=Max("lead_on"))["last"] + dt.timedelta(days=1))
    recomputes, evaluations = [], []
    for run in range(args.runs):
        day = first_new + dt.timedelta(days=run)
        add_day(day, rng)
        announced.clear()
        started = time.perf_counter()
        facts_recompute_dirty()
        recomputes.append(time.perf_counter() - started)
        (change,) = announced
        started = time.perf_counter()
        report = rules_evaluate(families_changed=change["families"], days=change["days"], as_of=day)
        evaluations.append(time.perf_counter() - started)
        print(f"run {run + 1}: recompute {recomputes[-1]:.2f} s, evaluation {evaluations[-1]:.3f} s "
              f"({report.evaluated} rules evaluated, {report.fired} fired, {report.resolved} resolved), "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
    recompute, evaluation = statistics.median(recomputes), statistics.median(evaluations)
    print(f"median of {args.runs}: recompute {recompute:.2f} s, evaluation {evaluation:.3f} s "
          f"= {evaluation / recompute * 100:.1f} % of the recompute; load {os.getloadavg()}")


if __name__ == "__main__":
    main()
