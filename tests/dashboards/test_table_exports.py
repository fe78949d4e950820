"""Every table of a dashboard as CSV and XLSX: the page's rows as raw numbers, formulas escaped."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from openpyxl import load_workbook

from smarketing.dashboards.exports import export_filename
from smarketing.kpis.services import facts_rebuild
from tests.kpis.builders import campaign, contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaigns():
    with time_machine.travel(dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC), tick=False):
        evil = campaign("c-evil", "=HYPERLINK(\"http://x\")", channel="email")
        spring = campaign("c-spring", "Spring launch", channel="paid_search")
        for index in range(3):
            contact(f"s{index}", f"2026-03-0{index + 1} 10:00", campaign=spring, channel="paid_search",
                    mql="2026-03-10 10:00" if index == 0 else None)
        contact("e1", "2026-03-05 10:00", campaign=evil)
        facts_rebuild()
        yield


def _panel_id(client, key: str, title: str) -> str:
    response = client.get(f"/dashboards/{key}/?window=mtd&as_of=2026-03-15")
    panel = next(p for p in response.context["panels"] if p["title"] == title)
    return panel["id"]


def test_breakdown_as_csv_lists_the_rows_and_total_with_formulas_escaped(signed_in_client, campaigns):
    panel = _panel_id(signed_in_client, "campaigns", "Leads by campaign")
    response = signed_in_client.get(f"/dashboards/campaigns/tables/{panel}.csv?window=mtd&as_of=2026-03-15")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="campaigns-leads-by-campaign-mtd-2026-03-01-2026-03-15.csv"')
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [["Campaign", "Leads"], ["Spring launch", "3"], ["'=HYPERLINK(\"http://x\")", "1"],
                    ["All", "4"]]


def test_breakdown_as_xlsx_keeps_numbers_as_numbers(signed_in_client, campaigns):
    panel = _panel_id(signed_in_client, "campaigns", "Leads by campaign")
    response = signed_in_client.get(f"/dashboards/campaigns/tables/{panel}.xlsx?window=mtd&as_of=2026-03-15")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.title == "Leads by campaign"
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values == [["Campaign", "Leads"], ["Spring launch", 3], ["'=HYPERLINK(\"http://x\")", 1], ["All", 4]]
    assert sheet["B2"].number_format == "#,##0"


def test_funnel_table_carries_rates_and_changes(signed_in_client, campaigns):
    panel = _panel_id(signed_in_client, "shared", "Funnel vs the previous period")
    response = signed_in_client.get(f"/dashboards/shared/tables/{panel}.csv?window=mtd&as_of=2026-03-15")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Step", "This period", "Conversion from the step before", "Previous period", "Change"]
    by_step = {row[0]: row[1:] for row in rows[1:]}
    # 4 leads this month, none in February (no relative change); 1 of them an MQL: 1 / 4 = 25 %.
    assert by_step["Leads"][0] == "4" and by_step["Leads"][2:] == ["0", ""]
    assert by_step["MQLs"][:2] == ["1", "25.0"]


def test_a_panel_without_a_table_is_not_found(signed_in_client, campaigns):
    assert signed_in_client.get("/dashboards/shared/tables/p0.csv").status_code == 404  # tiles
    assert signed_in_client.get("/dashboards/shared/tables/p2.pdf").status_code == 404
    assert signed_in_client.get("/dashboards/nope/tables/p2.csv").status_code == 404


def test_signed_out_cannot_download(client):
    response = client.get("/dashboards/shared/tables/p2.csv")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_download_links_sit_on_table_panels_only(signed_in_client, campaigns):
    page = signed_in_client.get("/dashboards/shared/?window=mtd&as_of=2026-03-15").content.decode()
    # The SLA (an MQL delivered to nobody is a row), sales SLA by rep and funnel tables, CSV and
    # XLSX each; the rejection reasons (p3) have no row: nobody was disqualified.
    assert page.count('class="export-link"') == 6
    assert "/dashboards/shared/tables/p1.csv?window=mtd" in page
    assert "/dashboards/shared/tables/p2.xlsx?window=mtd" in page
    assert "/dashboards/shared/tables/p4.csv?window=mtd" in page
    assert "/dashboards/shared/tables/p3.csv" not in page


def test_export_filenames_are_file_system_safe():
    assert export_filename("shared", "Leads → MQL / rate", "mtd", dt.date(2026, 3, 1), extension="png") == \
        "shared-leads-mql-rate-mtd-2026-03-01.png"
