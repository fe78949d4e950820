"""`manage.py bootstrap_demo`: demo data on an empty database, and a demo login to try it with."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from smarketing.funnel import demo
from smarketing.funnel.models import Contact, TeamMember

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-smarketing"
DEMO_EMAIL = "demo@smarketing-demo.example"


def demo_user_ensure(*, username: str = DEMO_USERNAME, password: str = DEMO_PASSWORD):
    """Create or reset the demo login: superuser, data manager, on the shared dashboard."""
    user_model = get_user_model()
    with transaction.atomic():
        user, _ = user_model.objects.get_or_create(username=username, defaults={"email": DEMO_EMAIL})
        user.email = user.email or DEMO_EMAIL
        user.is_staff = True
        user.is_superuser = True
        user.is_active = True
        user.set_password(password)
        user.save()
        group, _ = Group.objects.get_or_create(name=settings.DATA_MANAGER_GROUP)
        app_label, codename = settings.DATA_MANAGER_PERMISSION.split(".")
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        user.groups.add(group)
        member = TeamMember.objects.filter(user=user).first() or TeamMember.objects.filter(
            email=user.email).first()
        if member is None:
            member = TeamMember(email=user.email, name="Demo User", team="marketing")
        member.user = user
        member.role = "shared"
        member.save()
    return user


class Command(BaseCommand):
    help = (
        "Load demo data when the database has no funnel records, then create or reset the demo "
        f"login ({DEMO_USERNAME} / {DEMO_PASSWORD}). Run `migrate` first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contacts", type=int, default=demo.DEFAULT_CONTACTS)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument("--url", default=None,
                            help="the address the server will answer on, for the message (default SITE_URL)")

    def handle(self, *args, contacts: int, seed: int, no_progress: bool, url: str | None,
               **options) -> None:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError("the database is not migrated: run `python manage.py migrate` first")
        if Contact.objects.exists():
            self.stdout.write("Contacts already stored: demo data not loaded.")
        elif demo.demo_has_data():
            self.stdout.write(self.style.WARNING(
                "The database holds funnel records but no contacts: demo data not loaded "
                "(`manage.py seed_demo --force` replaces everything with demo data)."
            ))
        else:
            call_command("seed_demo", contacts=contacts, seed=seed, no_progress=no_progress,
                         stdout=self.stdout, stderr=self.stderr)
        demo_user_ensure()
        url = (url or settings.SITE_URL).rstrip("/")
        line = "=" * 60
        self.stdout.write(self.style.SUCCESS(
            f"\n{line}\n  smarketing is ready at {url}/\n"
            f"  Sign in with   user: {DEMO_USERNAME}   password: {DEMO_PASSWORD}\n"
            f"  Admin:         {url}/admin/\n{line}"
        ))
