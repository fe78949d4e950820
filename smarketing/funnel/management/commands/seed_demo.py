"""`manage.py seed_demo`: two years of realistic, deterministic demo data for every resource."""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from tqdm import tqdm

from smarketing.funnel import demo
from smarketing.kpis.windows import company_today


def parse_day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--today: {value!r} is not a date in YYYY-MM-DD form") from None


class Command(BaseCommand):
    help = (
        "Load realistic demo data for every funnel resource over the two years before today. "
        "The same --seed and --today give the same rows. Refuses a database that already "
        "holds funnel records unless --force (which deletes every funnel record first)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contacts", type=int, default=demo.DEFAULT_CONTACTS,
                            help=f"number of contacts (leads) to create (default {demo.DEFAULT_CONTACTS})")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument("--today", type=parse_day, default=None,
                            help="the day the history ends before, YYYY-MM-DD (default: today in "
                                 "the company time zone)")
        parser.add_argument("--force", action="store_true",
                            help="delete every funnel record first instead of refusing")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, contacts: int, seed: int, today: dt.date | str | None, force: bool,
               no_progress: bool, **options) -> None:
        if contacts < 100:
            raise CommandError("--contacts must be at least 100")
        # call_command() passes keyword options through unparsed.
        today = parse_day(today) if isinstance(today, str) else today or company_today()
        if demo.demo_has_data() and not force:
            raise CommandError(
                "the database already holds funnel records; run with --force to delete them "
                "and load the demo data instead"
            )
        started = time.monotonic()
        # One bar: a step per contact plus one per other resource.
        bar = tqdm(total=contacts + len(demo.RESOURCES) - 1, unit="step", disable=no_progress,
                   desc="seed_demo", dynamic_ncols=True)

        def progress(resource: str, amount: int) -> None:
            bar.set_description(resource, refresh=False)
            bar.update(amount)

        try:
            # Deleting and loading commit together: a failed load leaves the old data in place.
            with transaction.atomic():
                deleted = demo.demo_clear() if force else {}
                counts = demo.demo_seed(contacts=contacts, seed=seed, today=today, progress=progress,
                                        extra_days=deleted)
        finally:
            bar.close()
        elapsed = time.monotonic() - started
        width = max(len(name) for name in counts)
        for resource, count in counts.items():
            self.stdout.write(f"  {resource:<{width}}  {count:>10,}")
        self.stdout.write(self.style.SUCCESS(
            f"Demo data loaded: {sum(counts.values()):,} rows, history "
            f"{today - dt.timedelta(days=demo.HISTORY_DAYS)} to {today - dt.timedelta(days=1)}, "
            f"seed {seed}, in {elapsed:.1f} s."
        ))
