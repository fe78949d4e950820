"""docker-compose.yml runs only what exists: every command, module, file and make target it names."""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = [name for name, spec in SERVICES.items() if "build" in spec]
# DESIGN.md "Settings" plus SITE_URL: what every app container must be told.
SETTINGS_VARS = {"DATABASE_URL", "REDIS_URL", "EMAIL_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS",
                 "SMARKETING_TIMEZONE", "FISCAL_YEAR_START_MONTH", "CURRENCY", "GROSS_MARGIN",
                 "SLA_LEADS_PER_REP_PER_MONTH", "SLA_WORKED_TARGET_PCT", "SLA_MIN_ATTEMPTS", "SITE_URL"}


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][\w-]*):(?!=)", text, flags=re.M))


def split_command(command: str | list[str]) -> list[list[str]]:
    """A compose/Dockerfile command as the simple commands it runs (`sh -c "a && b"` -> a, b)."""
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    if argv[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in re.split(r"&&|;", argv[2]) if part.strip()]
    return [argv]


def command_problems(argv: list[str]) -> list[str]:
    """Why this command could not run in the project's image ([] when it can)."""
    program, args = argv[0], argv[1:]
    if program in ("python", "python3") and args[:1] == ["manage.py"]:
        if not (ROOT / "manage.py").exists():
            return ["manage.py is missing"]
        name = args[1] if len(args) > 1 else ""
        return [] if name in get_commands() else [f"no manage.py command {name!r}"]
    if program == "gunicorn":
        target = next(a for a in args if not a.startswith("-") and ":" in a)
        module, _, attr = target.partition(":")
        app = getattr(importlib.import_module(module), attr, None)
        return [] if callable(app) else [f"{target} is not a WSGI callable"]
    if program == "celery":
        app_name = args[args.index("-A") + 1]
        module = importlib.import_module(f"{app_name}.celery" if "." not in app_name else app_name)
        if not hasattr(module, "app"):
            return [f"{app_name} has no Celery app"]
        from celery.bin.celery import celery as celery_cli

        sub = next(a for a in args[args.index("-A") + 2:] if not a.startswith("-"))
        return [] if sub in celery_cli.commands else [f"no celery subcommand {sub!r}"]
    if program == "make":
        missing = [t for t in args if not t.startswith("-") and "=" not in t and t not in make_targets()]
        return [f"no make target {t!r}" for t in missing]
    return [f"unknown program {program!r}"]


def dockerfile_cmd() -> list[str]:
    text = (ROOT / "Dockerfile").read_text()
    return yaml.safe_load(re.search(r"^CMD (\[.*\])$", text, flags=re.M).group(1))


def test_compose_has_web_worker_beat_postgres_and_redis():
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(SERVICES)
    assert set(APP_SERVICES) == {"web", "worker", "beat"}
    assert "gunicorn" in SERVICES["web"]["command"]
    assert SERVICES["worker"]["command"].split()[:4] == ["celery", "-A", "smarketing", "worker"]
    assert SERVICES["beat"]["command"].split()[:4] == ["celery", "-A", "smarketing", "beat"]


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_command_a_service_runs_exists_in_the_project(service):
    for argv in split_command(SERVICES[service]["command"]):
        assert command_problems(argv) == [], argv


def test_dockerfile_default_command_exists_and_its_sources_are_in_the_repo():
    assert command_problems(dockerfile_cmd()) == []
    text = (ROOT / "Dockerfile").read_text()
    for line in re.findall(r"^COPY (.+)$", text, flags=re.M):
        *sources, _dest = line.split()
        for source in sources:
            assert (ROOT / source).exists(), source
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and "var" in ignored


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_build_the_image_and_share_the_settings(service):
    spec = SERVICES[service]
    assert (ROOT / spec["build"] / "Dockerfile").exists()
    env = spec["environment"]
    assert set(env) >= SETTINGS_VARS
    assert env == SERVICES["web"]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:")
    assert set(spec["depends_on"]) == {"postgres", "redis"}


def test_dependencies_have_health_checks():
    for name in ("postgres", "redis"):
        assert SERVICES[name]["healthcheck"]["test"]


def test_checker_rejects_commands_that_do_not_exist():
    assert command_problems(["python", "manage.py", "no_such_command"])
    assert command_problems(["celery", "-A", "smarketing", "wrokre"])
    assert command_problems(["make", "no-such-target"])
    assert command_problems(["gunicorn", "smarketing.wsgi:nothing"])
    assert command_problems(["uwsgi"])


def test_make_targets_used_by_ci_and_the_readme_exist():
    # Lines that run make (optionally after VAR=value assignments), not prose that says "make".
    pattern = re.compile(r"^\s*(?:[A-Z_]+=\S+\s+)*make ([a-z][\w-]*)", flags=re.M)
    used = set(pattern.findall((ROOT / ".ci" / "run").read_text()))
    used |= set(pattern.findall((ROOT / "README.md").read_text()))
    assert used, "no make target found in .ci/run and README.md"
    assert used <= make_targets()
    assert {"run", "test", "lint", "worker", "beat", "services-test"} <= make_targets()


def test_web_and_worker_share_the_uploads_volume():
    """The web stores an upload under MEDIA_ROOT and the worker opens it: the same named volume."""
    var_dir = re.search(r"SMARKETING_VAR_DIR=(\S+)", (ROOT / "Dockerfile").read_text()).group(1)
    media = f"{var_dir}/media"

    def media_volume(service: str) -> str | None:
        for mount in SERVICES[service].get("volumes", []):
            source, _, target = mount.partition(":")
            if target.split(":")[0] == media:
                return source
        return None

    assert media_volume("web") is not None
    assert media_volume("web") == media_volume("worker")
    assert media_volume("web") in COMPOSE["volumes"]
    # The image creates the folder, so a new volume is owned by the app's user, not root.
    assert re.search(rf"mkdir -p {re.escape(media)}\b", (ROOT / "Dockerfile").read_text())
