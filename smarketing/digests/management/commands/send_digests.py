"""`send_digests [--now TIMESTAMP] [--dry-run]`: what the beat task does, on demand."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from smarketing.digests.services import digests_send_due


def parse_now(value: str) -> dt.datetime:
    """ISO 8601; a timestamp without an offset is read in the company time zone (TIME_ZONE)."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--now {value!r}: use ISO 8601, e.g. 2026-03-03T12:30:00Z") from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Command(BaseCommand):
    help = "Send every digest that is due (once per subscriber-local date); --dry-run only lists them."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--now", type=parse_now, help="Pretend it is this instant (ISO 8601).")
        parser.add_argument("--dry-run", action="store_true", help="Compose and list, claim and send nothing.")

    def handle(self, *args, now: dt.datetime | None = None, dry_run: bool = False, **options) -> None:
        report = digests_send_due(now=now, dry_run=dry_run)
        if dry_run:
            for email, local_date, subject in report.dry_run:
                self.stdout.write(f"{email}\t{local_date.isoformat()}\t{subject}")
            self.stdout.write(f"{len(report.dry_run)} digest(s) due at {report.now.isoformat()}; nothing sent")
            return
        self.stdout.write(f"{report.now.isoformat()}: {report.summary()}")
        if report.failed or report.retrying:
            self.stderr.write(f"{report.failed} failed, {report.retrying} waiting to retry")
