"""`python manage.py recompute_kpis [--from DATE] [--to DATE] [--full]`: rebuild facts now."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from smarketing.kpis.services import facts_rebuild, facts_recompute_dirty
from smarketing.kpis.windows import WindowError, company_today, parse_date


class Command(BaseCommand):
    help = ("Rebuild the KPI facts: every day with --full, the days from --from to --to "
            "(default today), or, with neither, the days marked dirty.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from", dest="start", help="first day (YYYY-MM-DD)")
        parser.add_argument("--to", dest="end", help="last day (YYYY-MM-DD), default today")
        parser.add_argument("--full", action="store_true", help="rebuild every fact from scratch")

    def handle(self, *args, **options) -> None:
        try:
            start = parse_date(options["start"], field="--from")
            end = parse_date(options["end"], field="--to")
        except WindowError as error:
            raise CommandError(str(error)) from None
        if options["full"]:
            if start or end:
                raise CommandError("--full rebuilds every day: leave out --from and --to")
            result = facts_rebuild()
        elif start or end:
            end = end or company_today()
            start = start or end
            if start > end:
                raise CommandError(f"--from {start} is after --to {end}")
            result = facts_rebuild(days=[start + dt.timedelta(days=i) for i in range((end - start).days + 1)])
        else:
            result = facts_recompute_dirty()
        days = "every day" if result.days is None else f"{result.days} days"
        self.stdout.write(f"Rebuilt {result.families} fact families over {days} in {result.seconds:.2f} s")
