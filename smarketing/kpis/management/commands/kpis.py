"""`python manage.py kpis --metrics a,b --window mtd [--as-of D] [--start D --end D] [--dimension X] --json`."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from smarketing.kpis.registry import DIMENSIONS
from smarketing.kpis.selectors import KpiQueryError, kpi_report
from smarketing.kpis.windows import (
    COMPARISON_ALIASES,
    COMPARISONS,
    WINDOW_NAMES,
    WindowError,
    window_for,
)


class Command(BaseCommand):
    help = "Print KPI values over a window (the JSON of GET /api/v1/kpis/ with --json)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--metrics", required=True, help="comma-separated metric keys")
        parser.add_argument("--window", default="mtd", help=f"one of {', '.join(WINDOW_NAMES)}")
        parser.add_argument("--as-of", dest="as_of")
        parser.add_argument("--start")
        parser.add_argument("--end")
        parser.add_argument("--dimension", help=f"one of {', '.join(DIMENSIONS)}")
        parser.add_argument("--filter", action="append", default=[], metavar="DIM=V1,V2",
                            help="restrict to one dimension's values, e.g. channel=social,paid_social")
        parser.add_argument("--compare-complete", action="store_true",
                            help="compare with the whole previous period instead of the same days")
        parser.add_argument("--compare", help="what previous is: one of "
                            f"{', '.join([*COMPARISONS, *COMPARISON_ALIASES])} (default previous_period)")
        parser.add_argument("--json", action="store_true", help="print the API's JSON")

    def handle(self, *args, **options) -> None:
        metrics = [key.strip() for key in options["metrics"].split(",") if key.strip()]
        filters: dict[str, list[str]] = {}
        for item in options["filter"]:
            name, _, values = item.partition("=")
            filters[name.strip()] = [v for v in values.split(",") if v]
        try:
            window = window_for(options["window"], as_of=options["as_of"], start=options["start"],
                                end=options["end"])
            report = kpi_report(metrics=metrics, window=window, dimension=options["dimension"],
                                filters=filters or None, compare_complete=options["compare_complete"],
                                compare=options["compare"])
        except (KpiQueryError, WindowError, ValueError) as error:
            raise CommandError(str(error)) from None
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        window_json = report["window"]
        self.stdout.write(f"{window_json['name']} {window_json['start']} … {window_json['end']} "
                          f"(facts as of {report['facts_as_of'] or 'never'})")
        for result in report["results"]:
            line = f"{result['metric']:<36} {result['value']!s:>14}"
            if result["numerator"] is not None:
                line += f"  ({result['numerator']} / {result['denominator']})"
            line += f"  {result['previous']['kind'].replace('_', ' ')} {result['previous']['value']}"
            self.stdout.write(line)
            for item in result.get("breakdown", []):
                self.stdout.write(f"    {item['key']:<32} {item['value']!s:>14}")
