"""Project-wide fixtures: users, clients, the Celery mode, and a real worker process.

Tests marked `services` need PostgreSQL + Redis (the services pass of `.ci/run` sets
`DATABASE_URL` and `REDIS_URL`); in the embedded pass they are deselected, not skipped.
Tests marked `browser` drive Debian's Chromium.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from smarketing.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"


def pytest_configure(config):
    # Hashed static names come from the manifest `collectstatic` writes, which a test run has
    # not: pages name the files as they are. tests/test_static.py runs the production storage.
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"}}


def pytest_collection_modifyitems(config, items):
    keep, drop = [], []
    for item in items:
        if item.get_closest_marker("services") and not settings.SERVICES_MODE:
            drop.append(item)
        elif item.get_closest_marker("browser") and not os.environ.get("CI") and not Path(CHROMIUM).exists():
            # Outside CI a developer without Chromium still gets the rest of the suite;
            # CI installs Chromium and so always runs them.
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def _eager_celery() -> Iterator[None]:
    """Tasks run in-process unless a test asks for the real worker (`celery_worker`)."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Rate-limit counters (password reset) and heartbeats live in the cache: each test starts
    without the previous tests' (in services mode the cache is the test Redis database)."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _no_heavy_query_limit(settings) -> None:
    """The per-user limit counts in the cache, which outlives a test: only its own tests set it."""
    settings.KPI_HEAVY_QUERY_RATE = "0/minute"


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="viewer", password="viewer-pass-123")


@pytest.fixture
def data_manager(django_user_model):
    from django.contrib.auth.models import Group

    manager = django_user_model.objects.create_user(username="manager", password="manager-pass-123")
    group, _ = Group.objects.get_or_create(name=settings.DATA_MANAGER_GROUP)
    from django.contrib.auth.models import Permission

    group.permissions.add(Permission.objects.get(content_type__app_label="funnel", codename="manage_data"))
    manager.groups.add(group)
    return manager


@pytest.fixture
def signed_in_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def manager_client(client, data_manager):
    client.force_login(data_manager)
    return client


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def manager_api(api_client, data_manager):
    """The REST client of a data manager, by token."""
    from rest_framework.authtoken.models import Token

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=data_manager).key}")
    return api_client


@pytest.fixture
def fresh_throttle():
    """An empty cache before and after: the API's rate limits count in it."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _test_database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


class WorkerProcess:
    """A real `celery worker` process on the test database and the test Redis."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.log = ROOT / "var" / "test-worker.log"

    def start(self) -> None:
        env = {**os.environ, "DATABASE_URL": _test_database_url(), "REDIS_URL": settings.REDIS_URL}
        self.log.parent.mkdir(parents=True, exist_ok=True)
        celery_bin = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
        self.process = subprocess.Popen(
            [celery_bin, "-A", "smarketing", "worker", "--pool=solo", "--loglevel=INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited early; see {self.log}")
            replies = celery_app.control.ping(timeout=1.0)
            if replies:
                return
        raise RuntimeError(f"celery worker did not answer a ping within 60 s; see {self.log}")

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill would: no graceful shutdown."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def celery_worker(transactional_db) -> Iterator[WorkerProcess]:
    """Turns eager mode off and runs a real worker; data must be committed for it to see."""
    if not settings.SERVICES_MODE:
        pytest.fail("celery_worker needs REDIS_URL and DATABASE_URL (mark the test `services`)")
    celery_app.control.purge()
    celery_app.conf.task_always_eager = False
    worker = WorkerProcess()
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
        celery_app.control.purge()
        celery_app.conf.task_always_eager = True
