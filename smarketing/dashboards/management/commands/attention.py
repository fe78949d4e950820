"""`python manage.py attention --dashboard KEY [--window W] [--as-of D] --json`."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from smarketing.dashboards.attention import dashboard_attention
from smarketing.dashboards.layouts import DASHBOARDS
from smarketing.kpis.windows import WINDOW_NAMES, WindowError


class Command(BaseCommand):
    help = "Print what needs attention on a dashboard (the JSON of GET /api/v1/attention/ with --json)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dashboard", required=True, help=f"one of {', '.join(DASHBOARDS)}")
        parser.add_argument("--window", default="mtd", help=f"one of {', '.join(WINDOW_NAMES)}")
        parser.add_argument("--as-of", dest="as_of", help="YYYY-MM-DD (default yesterday)")
        parser.add_argument("--start")
        parser.add_argument("--end")
        parser.add_argument("--json", action="store_true", help="print the API's JSON")

    def handle(self, *args, **options) -> None:
        if options["dashboard"] not in DASHBOARDS:
            raise CommandError(f"--dashboard: {options['dashboard']!r} is not a dashboard key "
                               f"(use one of {', '.join(DASHBOARDS)})")
        try:
            report = dashboard_attention(options["dashboard"], options["window"], options["as_of"],
                                         start=options["start"], end=options["end"])
        except WindowError as error:
            raise CommandError(str(error)) from None
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        window = report["window"]
        self.stdout.write(f"{report['dashboard']}: {window['name']} {window['start']} … {window['end']}")
        if not report["items"]:
            self.stdout.write("Nothing needs attention.")
        for item in report["items"]:
            self.stdout.write(f"[{item['kind']}] {item['message']}")
