"""Time to compose and send the digests of 500 subscribers to a loopback SMTP server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_digests \\
        .venv/bin/python benchmarks/digest_bench.py [--subscribers 500] [--runs 5] [--contacts 3000]

Migrates the database, loads the demo data once (seed_demo, then the KPI recompute) if it
holds no funnel records, subscribes N users spread over every dashboard and eight time
zones with send times that make all of them due at one instant, then runs the real
`digests_send_due` against an aiosmtpd server on 127.0.0.1 several times (deleting the
deliveries in between) and prints each run and the median. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import statistics
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarketing.settings")

import django

django.setup()

from aiosmtpd.controller import Controller  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from smarketing.dashboards.layouts import DASHBOARDS  # noqa: E402
from smarketing.digests.models import Delivery, Subscription  # noqa: E402
from smarketing.digests.services import digests_send_due  # noqa: E402

ZONES = ("America/Los_Angeles", "America/New_York", "America/Sao_Paulo", "Europe/London",
         "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney")
BENCH_PREFIX = "bench-digest-"


class CountingInbox:
    def __init__(self) -> None:
        self.count = 0
        self.bytes = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.count += 1
        self.bytes += len(envelope.content)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ensure_data(contacts: int) -> None:
    from smarketing.funnel import demo
    from smarketing.kpis.windows import company_today

    if demo.demo_has_data():
        return
    started = time.perf_counter()
    call_command("seed_demo", contacts=contacts, no_progress=True, today=company_today())
    call_command("recompute_kpis", full=True)
    print(f"seeded {contacts} contacts and recomputed KPIs in {time.perf_counter() - started:.1f} s")


def subscribers_make(count: int, now: dt.datetime) -> None:
    """`count` users, each due at `now`: their send time is a few minutes before their local now."""
    User = get_user_model()
    Subscription.objects.filter(user__username__startswith=BENCH_PREFIX).delete()
    User.objects.filter(username__startswith=BENCH_PREFIX).delete()
    users = User.objects.bulk_create([
        User(username=f"{BENCH_PREFIX}{i:04d}", email=f"{BENCH_PREFIX}{i:04d}@example.com", first_name=f"Reader{i}")
        for i in range(count)
    ])
    keys = list(DASHBOARDS)
    rows = []
    for i, user in enumerate(users):
        zone = ZONES[i % len(ZONES)]
        local = (now - dt.timedelta(minutes=3)).astimezone(ZoneInfo(zone))
        # Most people get their role's dashboard; every fifth one adds the shared view.
        dashboards = [keys[i % len(keys)]]
        if i % 5 == 0 and dashboards[0] != "shared":
            dashboards.append("shared")
        rows.append(Subscription(user=user, dashboards=dashboards, time_zone=zone, cadence="daily",
                                 send_time=local.time().replace(second=0, microsecond=0)))
    Subscription.objects.bulk_create(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--contacts", type=int, default=3000)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    ensure_data(args.contacts)
    now = timezone.now().replace(second=0, microsecond=0)
    subscribers_make(args.subscribers, now)

    inbox = CountingInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    timings = []
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                               EMAIL_HOST="127.0.0.1", EMAIL_PORT=port, EMAIL_USE_TLS=False,
                               EMAIL_USE_SSL=False, EMAIL_HOST_USER="", EMAIL_HOST_PASSWORD=""):
            for run in range(1, args.runs + 1):
                Delivery.objects.filter(subscription__user__username__startswith=BENCH_PREFIX).delete()
                before = inbox.count
                started = time.perf_counter()
                report = digests_send_due(now=now)
                elapsed = time.perf_counter() - started
                received = inbox.count - before
                sent = Delivery.objects.filter(subscription__user__username__startswith=BENCH_PREFIX,
                                               status="sent").count()
                if sent != args.subscribers or received < args.subscribers:
                    raise SystemExit(f"run {run}: sent {sent}, server received {received}, "
                                     f"expected {args.subscribers} ({report.summary()})")
                timings.append(elapsed)
                print(f"run {run}: {args.subscribers} digests composed and sent in {elapsed:.2f} s "
                      f"({args.subscribers / elapsed:.0f}/s); {report.sections_composed} dashboard "
                      "sections composed, the rest reused")
            Delivery.objects.filter(subscription__user__username__startswith=BENCH_PREFIX).delete()
            started = time.perf_counter()
            dry = digests_send_due(now=now, dry_run=True)
            print(f"composing alone (dry run, no claims, no SMTP): {len(dry.dry_run)} digests in "
                  f"{time.perf_counter() - started:.2f} s")
    finally:
        controller.stop()
    print(f"database {connection.vendor}; {len(DASHBOARDS)} dashboards, {len(ZONES)} time zones; "
          f"average message {inbox.bytes / max(1, inbox.count) / 1024:.0f} KiB")
    print(f"median of {args.runs} runs: {statistics.median(timings):.2f} s for {args.subscribers} subscribers")


if __name__ == "__main__":
    main()
