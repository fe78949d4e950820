"""python manage.py alerts_evaluate [--dry-run]: what runs after each recompute, for every rule."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from smarketing.alerts.services import alerts_deliver_due, rules_evaluate


class Command(BaseCommand):
    help = "Evaluate every active alert rule now and send what changed state (--dry-run: only show)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true",
                            help="show each rule's value and verdict; change nothing, send nothing")

    def handle(self, *args, dry_run: bool = False, **options) -> None:
        report = rules_evaluate(dry_run=dry_run)
        for verdict in report.verdicts:
            rule = verdict.rule
            holds = {True: "condition true", False: "condition false", None: "no value"}[verdict.holds]
            change = f" → {verdict.transition}" if verdict.transition else ""
            self.stdout.write(f"{rule.pk}\t{rule.name}\t{rule.metric}\tvalue {verdict.value}\t"
                              f"{holds}\t{rule.state}{change}")
        self.stdout.write(("[dry run] " if dry_run else "") + report.summary())
        if not dry_run:
            sent = alerts_deliver_due()
            self.stdout.write(f"deliveries: {sent.sent} sent, {sent.retrying} to retry, {sent.failed} failed")
