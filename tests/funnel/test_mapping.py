"""Column mappings and the shipped presets: each preset's sample export (fixtures/, in the exact
shape of the export the README names) imports to the records worked out by hand below."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from smarketing.funnel import models as m
from smarketing.funnel.importing import CsvSource, csv_import
from smarketing.funnel.mapping import (
    ColumnMapping,
    MappingError,
    header_signature,
    mapping_named,
    mapping_propose,
    mapping_save,
)
from smarketing.funnel.presets import PRESETS
from smarketing.funnel.schemas import RESOURCES

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"
UTC = dt.UTC


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


@pytest.fixture
def members(db):
    m.TeamMember.objects.create(email="jane@example.com", name="Jane Doe", team="sales")
    m.TeamMember.objects.create(email="sam@example.com", name="Sam Lee", team="marketing")


def import_preset(preset: str, data: bytes | None = None, **kwargs):
    resource = RESOURCES[PRESETS[preset].resource]
    data = data if data is not None else (FIXTURES / f"{preset}.csv").read_bytes()
    source = CsvSource(resource.name, io.BytesIO(data), len(data), f"{preset}.csv", mapping_named(resource, preset))
    return csv_import(sources=[source], **kwargs)


def test_hubspot_contacts(members):
    report = import_preset("hubspot_contacts")
    assert report.errors == []
    assert (report.created, report.updated) == (5, 0)
    got = {c.external_id: c for c in m.Contact.objects.select_related("owner")}
    ada = got["101"]
    assert (ada.email, ada.company, ada.source_channel, ada.owner.email) == (
        "ada@example.com", "Analytical Ltd", "organic_search", "jane@example.com")
    assert (ada.lead_at, ada.mql_at, ada.sql_at, ada.opportunity_at, ada.customer_at) == (
        at(2026, 1, 5, 9, 31), at(2026, 1, 7, 10), at(2026, 1, 9, 11), at(2026, 1, 12, 12), at(2026, 2, 2, 15, 45))
    # No "Became a Lead Date": the lead date is the Create Date. Owner given by e-mail.
    assert (got["102"].lead_at, got["102"].source_channel, got["102"].owner.email, got["102"].company) == (
        at(2026, 1, 6, 8), "paid_social", "sam@example.com", "")
    assert (got["103"].source_channel, got["103"].owner, got["103"].mql_at) == ("referral", None, at(2026, 1, 10, 9))
    assert (got["104"].source_channel, got["104"].owner.email) == ("other", "sam@example.com")
    assert (got["105"].source_channel, got["105"].lead_at) == ("email", at(2026, 1, 10, 7, 45))


def test_hubspot_deals(members):
    assert import_preset("hubspot_contacts").ok
    report = import_preset("hubspot_deals")
    assert report.errors == []
    got = {d.external_id: d for d in m.Deal.objects.select_related("owner", "contact")}
    won, pilot, lost = got["201"], got["202"], got["203"]
    assert (won.status, won.amount, won.closed_at, won.contact.external_id, won.owner.email, won.name) == (
        "won", Decimal("12000"), at(2026, 2, 2, 15, 45), "101", "jane@example.com", "Analytical renewal")
    # An open deal's Close Date is only expected: the contract's closed_at stays empty.
    assert (pilot.status, pilot.amount, pilot.closed_at, pilot.contact, pilot.owner.email) == (
        "open", Decimal("3000.50"), None, None, "sam@example.com")
    assert (lost.status, lost.closed_at, lost.created_at, lost.owner) == (
        "lost", at(2026, 1, 30, 17), at(2026, 1, 15, 9), None)


def test_salesforce_leads(members):
    report = import_preset("salesforce_leads")
    assert report.errors == []
    got = {c.external_id: c for c in m.Contact.objects.select_related("owner")}
    assert {k: (c.source_channel, c.lead_at, c.company, c.owner.email if c.owner else None)
            for k, c in got.items()} == {
        "00Q5g00000A1": ("organic_search", at(2026, 1, 31), "Diaz Co", "jane@example.com"),
        "00Q5g00000A2": ("events", at(2026, 2, 1), "Ek AB", "sam@example.com"),
        "00Q5g00000A3": ("referral", at(2025, 12, 15), "Fox LLC", None),
    }


def test_salesforce_opportunities(members):
    report = import_preset("salesforce_opportunities")
    assert report.errors == []
    got = {d.external_id: (d.status, d.amount, d.created_at, d.closed_at, d.owner.email, d.name)
           for d in m.Deal.objects.select_related("owner")}
    assert got == {
        "0065g00000X1": ("won", Decimal("25000"), at(2026, 1, 5), at(2026, 2, 10), "jane@example.com",
                         "Diaz expansion"),
        "0065g00000X2": ("open", Decimal("4000"), at(2026, 1, 20), None, "sam@example.com", "Ek starter"),
        # Owner e-mails match whatever their case.
        "0065g00000X3": ("lost", Decimal("1500"), at(2026, 1, 7), at(2026, 1, 28), "jane@example.com", "Fox trial"),
    }


def test_ga4_traffic_acquisition():
    report = import_preset("ga4_traffic_acquisition")
    assert report.errors == []
    got = {(w.date, w.page): (w.source, w.section, w.visits, w.entrances, w.bounces)
           for w in m.WebTraffic.objects.all()}
    day1, day2 = dt.date(2026, 1, 5), dt.date(2026, 1, 6)
    assert got == {
        (day1, "Organic Search"): ("organic_search", "site", 1250, 0, 0),
        (day1, "Direct"): ("direct", "site", 430, 0, 0),
        (day1, "Organic Social"): ("social", "site", 120, 0, 0),
        (day1, "Paid Social"): ("social", "site", 95, 0, 0),
        (day2, "Organic Search"): ("organic_search", "site", 1310, 0, 0),
    }


def test_ad_spend():
    report = import_preset("ad_spend")
    assert report.errors == []
    spend = {s.external_id: s for s in m.Spend.objects.all()}
    assert {k: (s.date, s.amount, s.channel, s.category, s.description) for k, s in spend.items()} == {
        "2026-01-05|Brand search": (dt.date(2026, 1, 5), Decimal("120.50"), "paid_search", "marketing", "Brand search"),
        "2026-01-05|Retargeting": (dt.date(2026, 1, 5), Decimal("80.00"), "paid_search", "marketing", "Retargeting"),
        "2026-01-06|Brand search": (dt.date(2026, 1, 6), Decimal("99.99"), "paid_search", "marketing", "Brand search"),
    }
    if "impressions" in RESOURCES["spend"].columns:
        assert {k: (s.impressions, s.clicks) for k, s in spend.items()} == {
            "2026-01-05|Brand search": (10000, 420),
            "2026-01-05|Retargeting": (25000, 150),
            "2026-01-06|Brand search": (9000, 380),
        }


def test_a_value_the_map_does_not_cover_is_a_row_error_and_nothing_is_written(members):
    data = (FIXTURES / "hubspot_contacts.csv").read_text().replace("Email Marketing", "Trade Show").encode()
    report = import_preset("hubspot_contacts", data)
    assert report.errors == [{
        "resource": "contacts", "row": 5, "field": "source_channel",
        "message": "'Trade Show' (column 'Original Source') is not in the value map of source_channel",
    }]
    assert m.Contact.objects.count() == 0


def test_an_unmatched_owner_a_bad_date_and_every_problem_of_a_row_are_reported(members):
    data = (FIXTURES / "hubspot_contacts.csv").read_text()
    data = data.replace("Sam Lee", "Sam Leigh").replace("2026-01-09 16:10", "09/01/2026")
    report = import_preset("hubspot_contacts", data.encode())
    assert report.errors == [
        {"resource": "contacts", "row": 4, "field": "owner_email",
         "message": "owner 'Sam Leigh' (column 'Contact owner') matches no team member by e-mail or name"},
        {"resource": "contacts", "row": 4, "field": "lead_at",
         "message": "'09/01/2026' (column 'Became a Lead Date') is not a date in the format YYYY-MM-DD HH:MM"},
    ]
    assert m.Contact.objects.count() == 0


def test_a_name_two_team_members_share_is_not_guessed(members):
    m.TeamMember.objects.create(email="jane.doe2@example.com", name="Jane Doe", team="sales")
    report = import_preset("hubspot_contacts")
    assert [(e["row"], e["field"], e["message"]) for e in report.errors] == [
        (1, "owner_email", "owner 'Jane Doe' (column 'Contact owner') matches two team members"),
        (5, "owner_email", "owner 'Jane Doe' (column 'Contact owner') matches two team members"),
    ]


def test_an_unmapped_required_column_is_a_header_error():
    data = b"Record ID,Original Source\n1,Organic Search\n"
    report = import_preset("hubspot_contacts", data)
    assert report.errors == [{
        "resource": "contacts", "row": 0, "field": "lead_at",
        "message": "required column is not mapped (the mapping expects one of: 'Became a Lead Date', 'Create Date')",
    }]


@pytest.mark.parametrize(("fmt", "cell", "expected"), [
    ("MM/DD/YYYY", "02/03/2026", at(2026, 2, 3)),
    ("MM/DD/YYYY HH:MM", "02/03/2026 14:05", at(2026, 2, 3, 14, 5)),
    ("DD.MM.YYYY", "02.03.2026", at(2026, 3, 2)),
    ("DD.MM.YYYY HH:MM", "02.03.2026 23:59", at(2026, 3, 2, 23, 59)),
    ("YYYY-MM-DD HH:MM", "2026-02-03 00:00", at(2026, 2, 3)),
    # 1,770,076,800 s after the epoch is 2026-02-03 00:00 UTC; .001 s later.
    ("epoch_ms", "1770076800001", dt.datetime(2026, 2, 3, 0, 0, 0, 1000, tzinfo=UTC)),
    ("YYYYMMDD", "20260203", at(2026, 2, 3)),
])
def test_date_formats(fmt, cell, expected):
    resource = RESOURCES["contacts"]
    mapping = ColumnMapping.of(resource, {"fields": {
        "external_id": "id", "source_channel": {"default": "email"}, "lead_at": {"from": "d", "format": fmt}}})
    report = csv_import(sources=[CsvSource("contacts", _bytes(f"id,d\nc1,{cell}\n"), 0, "x.csv", mapping)])
    assert report.errors == []
    assert m.Contact.objects.get().lead_at == expected


@pytest.mark.parametrize(("fmt", "cell"), [
    ("MM/DD/YYYY", "13/03/2026"), ("MM/DD/YYYY", "2026-02-03"), ("DD.MM.YYYY", "31.02.2026"),
    ("DD.MM.YYYY", "02.03.26"), ("YYYY-MM-DD HH:MM", "2026-02-03"), ("epoch_ms", "soon"),
    ("MM/DD/YYYY HH:MM", "02/03/2026"),
])
def test_a_cell_not_in_its_format_is_a_row_error(fmt, cell):
    resource = RESOURCES["contacts"]
    mapping = ColumnMapping.of(resource, {"fields": {
        "external_id": "id", "source_channel": {"default": "email"}, "lead_at": {"from": "d", "format": fmt}}})
    report = csv_import(sources=[CsvSource("contacts", _bytes(f"id,d\nc1,{cell}\n"), 0, "x.csv", mapping)])
    assert report.errors == [{"resource": "contacts", "row": 1, "field": "lead_at",
                              "message": f"{cell!r} (column 'd') is not a date in the format {fmt}"}]


def test_a_date_column_takes_the_company_day_of_an_epoch(settings):
    settings.SMARKETING_TIMEZONE = "America/New_York"
    resource = RESOURCES["audience"]
    mapping = ColumnMapping.of(resource, {"fields": {
        "date": {"from": "t", "format": "epoch_ms"}, "channel": {"default": "email_list"}, "size": "n"}})
    # 2026-02-03 03:00 UTC is 22:00 on 2 February in New York.
    report = csv_import(sources=[CsvSource("audience", _bytes("t,n\n1770087600000,7\n"), 0, "a.csv", mapping)])
    assert report.errors == []
    assert m.Audience.objects.get().date == dt.date(2026, 2, 2)


def _bytes(text: str):
    return io.BytesIO(text.encode())


def test_mapping_problems_are_named():
    with pytest.raises(MappingError) as exc:
        ColumnMapping.of(RESOURCES["deals"], {"fields": {
            "stage": "Stage", "status": {"from": "Stage", "values": {"Closed Won": "closed"}},
            "amount": {"from": "Amount", "format": "MM/DD/YYYY"}, "created_at": {"from": "C", "format": "MM-DD"},
            "closed_at": {},
        }})
    assert exc.value.problems == [
        ("stage", "unknown column (columns of deals: external_id, contact_id, owner_email, name, amount, mrr, "
                  "status, created_at, closed_at)"),
        ("status", "value map: 'Closed Won' → 'closed' is not one of: open, won, lost"),
        ("amount", "a format applies to date and timestamp columns only"),
        ("created_at", "unknown format 'MM-DD' (use one of: YYYY-MM-DD, YYYYMMDD, MM/DD/YYYY, MM/DD/YYYY HH:MM, "
                       "DD.MM.YYYY, DD.MM.YYYY HH:MM, YYYY-MM-DD HH:MM, epoch_ms)"),
        ("closed_at", "give the file column(s) it comes from, or a default"),
    ]


def test_a_cell_already_holding_a_contract_value_needs_no_map_entry_and_names_match_loosely(members):
    resource = RESOURCES["contacts"]
    mapping = ColumnMapping.of(resource, {"fields": {
        "external_id": "id", "lead_at": "t",
        "source_channel": {"from": "s", "values": {"Organic Search": "organic_search"}}}})
    data = "id,t,s\na,2026-01-05T09:00,paid_search\nb,2026-01-05T09:00,  organic   SEARCH \n"
    report = csv_import(sources=[CsvSource("contacts", _bytes(data), 0, "x.csv", mapping)])
    assert report.errors == []
    assert dict(m.Contact.objects.values_list("external_id", "source_channel")) == {
        "a": "paid_search", "b": "organic_search"}


def test_import_csv_takes_a_preset_or_a_mapping_file(members, tmp_path, capsys):
    call_command("import_csv", "deals", str(FIXTURES / "salesforce_opportunities.csv"),
                 "--preset", "salesforce_opportunities")
    assert m.Deal.objects.count() == 3
    spec = {"fields": {"external_id": "Lead", "lead_at": {"from": "When", "format": "DD.MM.YYYY"},
                       "source_channel": {"from": "Src", "values": {"Messe": "events"}}}}
    (tmp_path / "map.json").write_text(json.dumps(spec))
    (tmp_path / "leads.csv").write_text("Lead,When,Src\nL1,24.12.2025,Messe\n")
    call_command("import_csv", "contacts", str(tmp_path / "leads.csv"), "--mapping", str(tmp_path / "map.json"))
    assert list(m.Contact.objects.values_list("external_id", "source_channel", "lead_at")) == [
        ("L1", "events", at(2025, 12, 24))]
    assert list(m.ImportLog.objects.order_by("pk").values_list("source", "mapping", "created")) == [
        ("command", "salesforce_opportunities", 3), ("command", "map.json", 1)]


def test_a_preset_for_another_resource_is_refused():
    with pytest.raises(MappingError, match="preset 'ad_spend' is for spend, not contacts"):
        mapping_named(RESOURCES["contacts"], "ad_spend")


def test_the_preset_that_fits_the_headers_is_proposed_and_the_rest_matched_by_name():
    header = [*(FIXTURES / "hubspot_deals.csv").read_text().splitlines()[0].split(","), "MRR"]
    proposal = mapping_propose(RESOURCES["deals"], header)
    assert (proposal["origin"], proposal["name"]) == ("preset", "hubspot_deals")
    fields = proposal["mapping"]["fields"]
    assert fields["status"]["from"] == ["Deal Stage"] and fields["status"]["otherwise"] == "open"
    # Not in the preset: matched by name, whatever its case.
    assert fields["mrr"] == {"from": ["MRR"]}


def test_names_and_synonyms_are_proposed_without_a_preset():
    header = ["ID", "E-Mail", "Lead Source", "Created Date", "Notes"]
    proposal = mapping_propose(RESOURCES["contacts"], header)
    assert proposal["origin"] == "names"
    assert proposal["mapping"]["fields"] == {
        "external_id": {"from": ["ID"]}, "email": {"from": ["E-Mail"]},
        "source_channel": {"from": ["Lead Source"]}, "lead_at": {"from": ["Created Date"]},
    }


def test_a_saved_mapping_is_proposed_for_the_same_headers():
    resource = RESOURCES["contacts"]
    header = ["Kontakt", "Quelle", "Erstellt"]
    mapping = ColumnMapping.of(resource, {"fields": {
        "external_id": "Kontakt", "source_channel": {"from": "Quelle", "values": {"Messe": "events"}},
        "lead_at": {"from": "Erstellt", "format": "DD.MM.YYYY"}}})
    mapping_save(resource=resource, name="crm export", header=header, mapping=mapping)
    # The same columns in another order, another case: the same file shape.
    proposal = mapping_propose(resource, ["erstellt", "Kontakt", "QUELLE"])
    assert proposal == {"mapping": {**mapping.to_json(), "name": "crm export"}, "origin": "saved", "name": "crm export"}
    assert mapping_propose(resource, ["Kontakt", "Quelle"])["origin"] == "names"
    assert header_signature(["a", "b"]) != header_signature(["a", "b", "c"])
    # (PostgreSQL's JSON keeps no key order.)
    assert set(mapping_named(resource, "crm export").fields) == set(mapping.fields)
    with pytest.raises(MappingError, match="shipped preset"):
        mapping_save(resource=resource, name="hubspot_contacts", header=header, mapping=mapping)
