"""`manage.py bootstrap_demo`: demo data on an empty database, and a demo login to try it with.

Only for the embedded demo (`make run`): a published password must never guard a company's
data. The command refuses to run with `DEBUG=false`, creates the demo login only while the
database holds nothing but demo data, never changes an existing account (a changed password
stays changed) and makes it a superuser only when asked (`--superuser`).
"""

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
DEMO_EMAIL = f"demo@{demo.TEAM_DOMAIN}"


def real_data_reason() -> str | None:
    """Why the database looks like a company's own rather than the demo's (None: demo only)."""
    if TeamMember.objects.exclude(email__iendswith=f"@{demo.TEAM_DOMAIN}").exists():
        return "it holds team members outside the demo's domain"
    if demo.demo_has_data() and not TeamMember.objects.exists():
        return "it holds funnel records but not the demo team"
    if get_user_model().objects.exclude(username=DEMO_USERNAME).exists():
        return "it holds user accounts other than the demo login"
    return None


def demo_user_create(*, superuser: bool):
    """A new demo login: data manager on the shared dashboard (and admin only if `superuser`)."""
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.create_user(username=DEMO_USERNAME, email=DEMO_EMAIL, password=DEMO_PASSWORD,
                                              is_staff=superuser, is_superuser=superuser)
        group, _ = Group.objects.get_or_create(name=settings.DATA_MANAGER_GROUP)
        app_label, codename = settings.DATA_MANAGER_PERMISSION.split(".")
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        user.groups.add(group)
        member = TeamMember.objects.filter(email=user.email).first() or TeamMember(
            email=user.email, name="Demo User", team="marketing")
        member.user = user
        member.role = "shared"
        member.save()
    return user


class Command(BaseCommand):
    help = (
        "Embedded demo only (DEBUG=true): load demo data when the database has no funnel records, "
        f"and create the demo login ({DEMO_USERNAME} / {DEMO_PASSWORD}) unless the database holds real "
        "data or the login exists. Run `migrate` first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contacts", type=int, default=demo.DEFAULT_CONTACTS)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument("--superuser", action="store_true",
                            help="make a newly created demo login a superuser (the admin site)")
        parser.add_argument("--url", default=None,
                            help="the address the server will answer on, for the message (default SITE_URL)")

    def handle(self, *args, contacts: int, seed: int, no_progress: bool, superuser: bool, url: str | None,
               **options) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "bootstrap_demo sets up the embedded demo and does nothing with DEBUG=false: "
                "create the first admin with `python manage.py createsuperuser`")
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            raise CommandError("the database is not migrated: run `python manage.py migrate` first")
        reason = real_data_reason()
        if Contact.objects.exists():
            self.stdout.write("Contacts already stored: demo data not loaded.")
        elif demo.demo_has_data():
            self.stdout.write(self.style.WARNING(
                "The database holds funnel records but no contacts: demo data not loaded "
                "(`manage.py seed_demo --force` replaces everything with demo data)."
            ))
        elif reason is None:
            call_command("seed_demo", contacts=contacts, seed=seed, no_progress=no_progress,
                         stdout=self.stdout, stderr=self.stderr)
        url = (url or settings.SITE_URL).rstrip("/")
        existing = get_user_model().objects.filter(username=DEMO_USERNAME).first()
        if existing is not None:
            # Never reset: whoever changed the password meant it.
            login = (f"user: {DEMO_USERNAME}   password: {DEMO_PASSWORD}"
                     if existing.check_password(DEMO_PASSWORD) else
                     f"user: {DEMO_USERNAME} (its password was changed and is left as it is)")
        elif reason is not None:
            self.stdout.write(self.style.WARNING(
                f"No demo login created: {reason}. Sign in with your own account "
                "(`python manage.py createsuperuser` creates one)."))
            login = "your own account"
        else:
            demo_user_create(superuser=superuser)
            login = f"user: {DEMO_USERNAME}   password: {DEMO_PASSWORD}"
        line = "=" * 60
        self.stdout.write(self.style.SUCCESS(
            f"\n{line}\n  smarketing is ready at {url}/\n"
            f"  Sign in with   {login}\n"
            f"  Admin:         {url}/admin/ (a superuser: createsuperuser, or bootstrap_demo --superuser)\n{line}"
        ))
