"""seed_demo and bootstrap_demo: deterministic output, the empty-database rule, the demo login."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from smarketing.funnel import demo
from smarketing.funnel import models as m

TODAY = dt.date(2026, 3, 15)


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every resource, references by natural key and without surrogate ids."""
    out = {}
    for resource, model in demo.RESOURCES.items():
        columns = []
        for f in model._meta.fields:
            if f.primary_key or f.name == "user":
                continue
            if f.is_relation:
                natural = "email" if f.related_model is m.TeamMember else "external_id"
                columns.append(f"{f.name}__{natural}")
            else:
                columns.append(f.name)
        out[resource] = sorted(model.objects.values_list(*columns), key=repr)
    return out



@pytest.mark.django_db
def test_seed_demo_is_deterministic_for_a_seed_and_a_day():
    demo.demo_seed(contacts=300, seed=3, today=TODAY)
    first = snapshot()
    demo.demo_clear()
    demo.demo_seed(contacts=300, seed=3, today=TODAY)
    second = snapshot()

    assert first == second
    assert len(first["contacts"]) == 300


@pytest.mark.django_db
def test_seed_demo_differs_with_another_seed():
    demo.demo_seed(contacts=300, seed=3, today=TODAY)
    first = snapshot()
    demo.demo_clear()
    demo.demo_seed(contacts=300, seed=4, today=TODAY)
    second = snapshot()

    assert first["contacts"] != second["contacts"]
    assert first["web_traffic"] != second["web_traffic"]
    # The cast and the calendar do not depend on the seed.
    assert first["team_members"] == second["team_members"]


@pytest.mark.django_db
def test_fill_local_dates_uses_the_company_time_zone(settings):
    instant = dt.datetime(2026, 3, 10, 3, 30, tzinfo=dt.UTC)  # evening of March 9 in New York
    settings.SMARKETING_TIMEZONE = "America/New_York"
    contact = m.Contact(external_id="c", source_channel="email", lead_at=instant, email="A@Sub.Acme.COM")
    contact.fill_local_dates()
    assert contact.lead_on == dt.date(2026, 3, 9)
    assert contact.email_domain == "sub.acme.com"

    settings.SMARKETING_TIMEZONE = "Asia/Tokyo"
    contact.fill_local_dates()
    assert contact.lead_on == dt.date(2026, 3, 10)


@pytest.mark.django_db
def test_seed_demo_command_refuses_a_database_with_records_unless_forced(capsys):
    m.Campaign.objects.create(external_id="mine", name="Mine", channel="email")

    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", contacts=100, today="2026-03-15", no_progress=True)
    assert m.Contact.objects.count() == 0

    call_command("seed_demo", contacts=100, today="2026-03-15", no_progress=True, force=True)
    assert m.Contact.objects.count() == 100
    assert not m.Campaign.objects.filter(external_id="mine").exists()
    assert "Demo data loaded" in capsys.readouterr().out


@pytest.fixture
def demo_mode(settings):
    """`make run`'s embedded demo: DEBUG on (pytest-django turns it off)."""
    settings.DEBUG = True
    return settings


@pytest.mark.django_db
def test_bootstrap_demo_seeds_an_empty_database_and_creates_the_demo_login(demo_mode, django_user_model, capsys):
    call_command("bootstrap_demo", contacts=100, no_progress=True)
    call_command("bootstrap_demo", contacts=100, no_progress=True)  # a second run changes nothing

    assert m.Contact.objects.count() == 100
    user = django_user_model.objects.get(username="demo")
    assert not user.is_superuser and not user.is_staff
    assert user.check_password("demo-smarketing")
    assert user.has_perm("funnel.manage_data")
    assert user.groups.filter(name="data managers").exists()
    assert user.team_member.role == "shared"
    assert "user: demo   password: demo-smarketing" in capsys.readouterr().out


@pytest.mark.django_db
def test_bootstrap_demo_makes_a_superuser_only_when_asked(demo_mode, django_user_model):
    call_command("bootstrap_demo", contacts=100, no_progress=True, superuser=True)
    user = django_user_model.objects.get(username="demo")
    assert user.is_superuser and user.is_staff


@pytest.mark.django_db
def test_bootstrap_demo_creates_nothing_with_debug_off(settings, django_user_model):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="createsuperuser"):
        call_command("bootstrap_demo", contacts=100, no_progress=True, superuser=True)
    assert not django_user_model.objects.exists()
    assert not m.Contact.objects.exists()


@pytest.mark.django_db
def test_bootstrap_demo_never_resets_a_changed_password(demo_mode, django_user_model, capsys):
    call_command("bootstrap_demo", contacts=100, no_progress=True)
    user = django_user_model.objects.get(username="demo")
    user.set_password("a-better-secret-42")
    user.save()
    call_command("bootstrap_demo", contacts=100, no_progress=True, superuser=True)

    user.refresh_from_db()
    assert user.check_password("a-better-secret-42")
    assert not user.is_superuser
    out = capsys.readouterr().out
    assert "its password was changed" in out and out.count("demo-smarketing") == 1


@pytest.mark.django_db
@pytest.mark.parametrize("real", ["team member", "account", "records"])
def test_bootstrap_demo_creates_no_login_beside_real_data(demo_mode, django_user_model, capsys, real):
    if real == "team member":
        m.TeamMember.objects.create(email="ann@acme.example", name="Ann", team="sales")
    elif real == "account":
        django_user_model.objects.create_superuser("admin", "admin@acme.example", "a-long-secret-42")
    else:
        m.Campaign.objects.create(external_id="spring", name="Spring", channel="email")
    call_command("bootstrap_demo", contacts=100, no_progress=True)

    assert not django_user_model.objects.filter(username="demo").exists()
    assert not m.Contact.objects.exists()
    assert "No demo login created" in capsys.readouterr().out


@pytest.mark.django_db
def test_bootstrap_demo_leaves_stored_contacts_alone(demo_mode):
    m.Contact.objects.create(external_id="real", source_channel="direct",
                             lead_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    call_command("bootstrap_demo", contacts=100, no_progress=True)

    assert list(m.Contact.objects.values_list("external_id", flat=True)) == ["real"]


@pytest.mark.django_db
def test_targets_follow_the_fiscal_year(settings):
    settings.FISCAL_YEAR_START_MONTH = 2
    demo.demo_seed(contacts=100, seed=1, today=TODAY)

    years = set(m.Target.objects.filter(period="year").values_list("period_start", flat=True))
    # History 2024-03-15 .. 2026-03-14, plus the fiscal year holding today (Feb 2026 – Jan 2027).
    assert years == {dt.date(2024, 2, 1), dt.date(2025, 2, 1), dt.date(2026, 2, 1)}
    quarter_months = set(m.Target.objects.filter(period="quarter").values_list("period_start__month", flat=True))
    assert quarter_months == {2, 5, 8, 11}
    months = m.Target.objects.filter(period="month", owner__isnull=True, channel__isnull=True,
                                     campaign__isnull=True, metric="leads")
    assert months.count() == 35  # Mar 2024 .. Jan 2027: the history to the end of the current fiscal year


@pytest.mark.django_db
def test_seed_demo_force_keeps_the_old_data_when_loading_fails(monkeypatch):
    m.Campaign.objects.create(external_id="mine", name="Mine", channel="email")

    def broken(**kwargs):
        m.Contact.objects.create(external_id="half", source_channel="email",
                                 lead_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo, "demo_seed", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        call_command("seed_demo", contacts=100, today="2026-03-15", no_progress=True, force=True)

    assert list(m.Campaign.objects.values_list("external_id", flat=True)) == ["mine"]
    assert not m.Contact.objects.exists()


@pytest.mark.django_db
def test_bootstrap_demo_asks_for_migrate_on_an_unmigrated_database(demo_mode, monkeypatch):
    from django.db.migrations.executor import MigrationExecutor

    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("funnel", "0002")])
    with pytest.raises(CommandError, match=r"run `python manage\.py migrate` first"):
        call_command("bootstrap_demo", contacts=100, no_progress=True)
    assert not m.Contact.objects.exists()
