"""Contacts' industry, offer and disqualification, spend's impressions and clicks (data-contract.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from smarketing.funnel import models as m
from smarketing.funnel import services
from smarketing.funnel.importing import csv_example
from smarketing.funnel.schemas import RESOURCES
from tests.funnel.rows import write_csv
from tests.funnel.test_import_csv import run

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def contact(**changes) -> dict:
    row = {"external_id": "C1", "source_channel": "email", "lead_at": "2026-01-05T09:30:00"}
    row.update(changes)
    return row


def spend(**changes) -> dict:
    row = {"external_id": "S1", "date": "2026-01-05", "channel": "paid_search", "category": "marketing",
           "amount": "120.00"}
    row.update(changes)
    return row


def errors_of(resource: str, rows: list[dict]) -> list[tuple[int, str, str]]:
    model = RESOURCES[resource].model
    before = model.objects.count()
    result = services.records_upsert(resource=resource, rows=rows)
    assert model.objects.count() == before
    return [(e["row"], e["field"], e["message"]) for e in result.errors]


def test_new_contact_columns_are_stored():
    result = services.records_upsert(resource="contacts", rows=[contact(
        industry="  Healthcare ", offer="demo_request", mql_at="2026-01-06T10:00:00",
        disqualified_at="2026-01-08T12:00:00", disqualification_reason="no_budget")])
    assert result.ok, result.errors
    stored = m.Contact.objects.get()
    assert (stored.industry, stored.offer, stored.disqualification_reason) == ("Healthcare", "demo_request",
                                                                               "no_budget")
    assert stored.disqualified_at == dt.datetime(2026, 1, 8, 12, 0, tzinfo=UTC)
    assert stored.disqualified_on == dt.date(2026, 1, 8)


def test_disqualified_at_equal_to_lead_at_is_valid_one_second_before_is_not():
    assert services.records_upsert(resource="contacts", rows=[contact(
        disqualified_at="2026-01-05T09:30:00", disqualification_reason="bad_data")]).ok
    assert errors_of("contacts", [contact(external_id="C2", disqualified_at="2026-01-05T09:29:59",
                                          disqualification_reason="bad_data")]) == [
        (1, "disqualified_at", "disqualified_at is before lead_at")]


def test_reason_is_required_with_disqualified_at():
    assert errors_of("contacts", [contact(), contact(external_id="C2", disqualified_at="2026-01-07T09:00:00")]) == [
        (2, "disqualification_reason", "is required when disqualified_at is set")]


def test_reason_is_forbidden_without_disqualified_at():
    assert errors_of("contacts", [contact(disqualification_reason="no_need")]) == [
        (1, "disqualification_reason", "must be empty when disqualified_at is empty")]


@pytest.mark.parametrize(("field", "value"), [("offer", "brochure"), ("disqualification_reason", "too_expensive")])
def test_offer_and_reason_are_enumerations(field, value):
    row = contact(**{field: value})
    if field == "disqualification_reason":
        row["disqualified_at"] = "2026-01-07T09:00:00"
    [(row_number, name, message)] = errors_of("contacts", [row])
    assert (row_number, name) == (1, field)
    assert f"{value!r} is not one of" in message


def test_industry_longer_than_100_characters_is_an_error():
    assert errors_of("contacts", [contact(industry="x" * 101)]) == [
        (1, "industry", "is longer than 100 characters")]


def test_clicks_up_to_impressions_are_valid_one_more_is_not():
    assert services.records_upsert(resource="spend", rows=[spend(impressions="500", clicks="500")]).ok
    assert errors_of("spend", [spend(external_id="S2", impressions="500", clicks="501")]) == [
        (1, "clicks", "clicks (501) is more than impressions (500)")]


def test_clicks_without_impressions_are_valid_and_empty_counts_stay_null():
    assert services.records_upsert(resource="spend", rows=[spend(clicks="40"), spend(external_id="S2")]).ok
    assert list(m.Spend.objects.order_by("external_id").values_list("impressions", "clicks")) == [
        (None, 40), (None, None)]


def test_a_file_with_the_old_contact_columns_only_still_imports(tmp_path):
    header = ["external_id", "email", "company", "source_channel", "lead_at", "mql_at"]
    path = write_csv(tmp_path / "contacts.csv", [
        {"external_id": "C1", "email": "a@acme.com", "company": "Acme", "source_channel": "email",
         "lead_at": "2026-01-05T09:30:00", "mql_at": "2026-01-06T09:30:00"}], header=header)
    code, out = run("contacts", str(path))
    assert code == 0, out
    stored = m.Contact.objects.get()
    assert (stored.industry, stored.offer, stored.disqualified_at, stored.disqualification_reason) == ("", "", None, "")


def test_a_file_with_one_bad_new_cell_is_refused_whole(tmp_path):
    rows = [contact(external_id=f"C{i}", industry="Retail", offer="ebook") for i in range(1, 4)]
    rows[2]["offer"] = "coupon"
    path = write_csv(tmp_path / "contacts.csv", rows)
    code, out = run("contacts", str(path))
    assert code == 1
    assert out.splitlines()[2].split()[:2] == ["3", "offer"]
    assert m.Contact.objects.count() == 0


def test_the_examples_carry_the_new_columns_and_import():
    contacts = csv_example(RESOURCES["contacts"]).splitlines()[0].split(",")
    spend_columns = csv_example(RESOURCES["spend"]).splitlines()[0].split(",")
    assert {"industry", "offer", "disqualified_at", "disqualification_reason"} <= set(contacts)
    assert {"impressions", "clicks"} <= set(spend_columns)
