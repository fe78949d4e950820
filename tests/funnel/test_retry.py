"""A write that loses to a deadlock is run again a bounded number of times, then refused cleanly."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, transaction

from smarketing.funnel import db, importing, jobs
from smarketing.funnel import models as m
from smarketing.funnel.db import WRITE_ATTEMPTS, WriteConflict, retrying
from tests.funnel.rows import to_csv

pytestmark = pytest.mark.django_db


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _failing(sqlstate: str, times: int):
    """A write that fails `times` times as PostgreSQL would (Django's error around psycopg's)."""
    calls = []

    def write() -> str:
        calls.append(1)
        if len(calls) <= times:
            error = OperationalError("deadlock detected")
            error.__cause__ = _PgError(sqlstate)
            raise error
        return "written"

    return write, calls


@pytest.fixture(autouse=True)
def _no_pause(monkeypatch):
    monkeypatch.setattr(db, "RETRY_PAUSE_SECONDS", 0)


@pytest.fixture
def outside_transactions(monkeypatch):
    """As in a request or a command: no transaction around the write (tests run inside one)."""
    monkeypatch.setattr(type(db.connection), "in_atomic_block", property(lambda self: False), raising=False)


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_deadlocks_and_serialization_failures_are_retried(outside_transactions, sqlstate):
    write, calls = _failing(sqlstate, WRITE_ATTEMPTS - 1)
    assert retrying(write)() == "written"
    assert len(calls) == WRITE_ATTEMPTS


def test_a_write_that_always_loses_ends_in_write_conflict(outside_transactions):
    write, calls = _failing("40P01", WRITE_ATTEMPTS)
    with pytest.raises(WriteConflict, match="nothing was written"):
        retrying(write)()
    assert len(calls) == WRITE_ATTEMPTS


def test_other_database_errors_are_not_retried(outside_transactions):
    write, calls = _failing("57014", 1)  # a statement timeout
    with pytest.raises(OperationalError):
        retrying(write)()
    assert len(calls) == 1


def test_an_input_that_cannot_be_read_again_is_not_retried(outside_transactions):
    write, calls = _failing("40P01", 1)
    with pytest.raises(WriteConflict):
        retrying(write, rewind=lambda: False)()
    assert len(calls) == 1


def test_inside_a_transaction_the_conflict_goes_up_at_once():
    write, calls = _failing("40P01", 1)
    with transaction.atomic(), pytest.raises(WriteConflict):
        retrying(write)()
    assert len(calls) == 1


ROWS = [{"external_id": "C1", "source_channel": "email", "lead_at": "2026-03-05T09:00:00"}]


def _conflict(**kwargs):
    raise WriteConflict()


def test_write_conflicts_answer_409_json_a_command_error_and_a_page_message(
        monkeypatch, manager_client, tmp_path, data_manager):
    monkeypatch.setattr("smarketing.funnel.services.records_upsert", _conflict)
    response = manager_client.post("/api/v1/contacts/bulk/", ROWS, content_type="application/json")
    assert response.status_code == 409
    assert response.json() == {"errors": [{"message": WriteConflict.message}]}

    monkeypatch.setattr(importing, "csv_import", _conflict)
    monkeypatch.setattr("smarketing.funnel.management.commands.import_csv.csv_import", _conflict)
    path = tmp_path / "contacts.csv"
    path.write_bytes(to_csv(ROWS))
    with pytest.raises(CommandError, match="Try again in a minute"):
        call_command("import_csv", "contacts", str(path))

    job = m.ImportJob.objects.create(created_by=data_manager, resource="contacts", filename="c.csv",
                                     status=m.ImportJob.Status.IMPORT_QUEUED)
    job.file.save("c.csv", io.BytesIO(to_csv(ROWS)))
    jobs.import_job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.message) == (m.ImportJob.Status.FAILED, WriteConflict.message)
