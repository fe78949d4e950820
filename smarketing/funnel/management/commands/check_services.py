"""`manage.py check_services`: is the database up, is Redis up, does a worker answer?"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from smarketing.funnel.services_status import database_status, redis_status, worker_status


class Command(BaseCommand):
    help = ("Report the database, Redis and a Celery worker round trip; exits 1 when a configured "
            "service does not answer.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for a worker ping")

    def handle(self, *args, timeout: float, **options) -> None:
        failures: list[str] = []
        try:
            db = database_status()
            self.stdout.write(f"database  ok    {db['vendor']} {db['name']} "
                              f"({db['team_members']} team members, {db['contacts']} contacts)")
        except Exception as exc:  # report every service, then fail
            failures.append("database")
            self.stdout.write(f"database  FAIL  {exc}")
        try:
            redis = redis_status()
            if redis["configured"]:
                self.stdout.write("redis     ok    ping answered")
            else:
                self.stdout.write("redis     -     not configured (embedded mode: no REDIS_URL)")
        except Exception as exc:
            failures.append("redis")
            self.stdout.write(f"redis     FAIL  {exc}")
        try:
            worker = worker_status(timeout=timeout)
            answer = worker["answer"]
            if worker["mode"] == "eager":
                self.stdout.write(f"worker    ok    eager (tasks run in-process): services_check saw "
                                  f"{answer['vendor']} {answer['name']}")
            elif answer is None:
                failures.append("worker")
                self.stdout.write(f"worker    FAIL  no Celery worker answered a ping within {timeout:g} s "
                                  "(start one: make worker)")
            else:
                self.stdout.write(f"worker    ok    {', '.join(worker['workers'])}: services_check saw "
                                  f"{answer['vendor']} {answer['name']} ({answer['team_members']} team members)")
        except Exception as exc:
            failures.append("worker")
            self.stdout.write(f"worker    FAIL  {exc}")
        if failures:
            raise CommandError(f"not answering: {', '.join(failures)}")
        self.stdout.write(self.style.SUCCESS("all services answer"))
