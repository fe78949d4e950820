"""Issue 13 end to end: a CSV folder with the new columns (industry, offer, disqualification,
impressions and clicks) imported by `import_csv`, recomputed, read on the pages and in the digest.
Runs on SQLite and, with DATABASE_URL set, on PostgreSQL. Every expected number is counted by
hand from the rows below."""

from __future__ import annotations

import datetime as dt
import html
import io
import re

import pytest
from django.core.management import call_command

from tests.funnel.rows import write_csv

pytestmark = pytest.mark.django_db

AS_OF = "2026-06-30"


def _contact(external_id: str, offer: str, industry: str, lead: str, mql: str = "", customer: str = "",
             disqualified: str = "", reason: str = "") -> dict:
    return {"external_id": external_id, "email": f"{external_id}@buyer.example", "company": "Buyer",
            "industry": industry, "offer": offer, "source_channel": "paid_search", "campaign_id": "cmp-1",
            "owner_email": "rep@seller.example" if mql else "", "lead_at": lead, "mql_at": mql,
            "customer_at": customer, "disqualified_at": disqualified, "disqualification_reason": reason}


def _folder(tmp_path):
    write_csv(tmp_path / "team_members.csv", [{"email": "rep@seller.example", "name": "Rita Rep", "team": "sales",
                                               "role": "sales_manager"}])
    write_csv(tmp_path / "campaigns.csv", [{"external_id": "cmp-1", "name": "Search Q1", "channel": "paid_search",
                                            "start_date": "2026-01-01", "end_date": "2026-06-30", "budget": "5000"}])
    rows = []
    # Four demo requests in January (Healthcare): all MQLs, two customers.
    for i in range(4):
        rows.append(_contact(f"d{i}", "demo_request", "Healthcare", "2026-01-10T09:00:00", "2026-01-11T09:00:00",
                             "2026-02-01T09:00:00" if i < 2 else ""))
    # Four e-book leads in January (Tech): two MQLs, one of them rejected for budget; no customer.
    rows.append(_contact("e0", "ebook", "Tech", "2026-01-10T09:00:00", "2026-01-11T09:00:00",
                         disqualified="2026-01-20T09:00:00", reason="no_budget"))
    rows.append(_contact("e1", "ebook", "Tech", "2026-01-10T09:00:00", "2026-01-11T09:00:00"))
    rows += [_contact(f"e{i}", "ebook", "Tech", "2026-01-10T09:00:00") for i in (2, 3)]
    # Two young demo requests in June: MQLs, too young to have closed.
    rows += [_contact(f"y{i}", "demo_request", "Healthcare", "2026-06-20T09:00:00", "2026-06-21T09:00:00")
             for i in range(2)]
    write_csv(tmp_path / "contacts.csv", rows)
    write_csv(tmp_path / "deals.csv", [
        {"external_id": f"w{i}", "contact_id": f"d{i}", "owner_email": "rep@seller.example", "name": f"Deal {i}",
         "amount": "24000.00", "mrr": "2000.00", "status": "won", "created_at": "2026-01-15T09:00:00",
         "closed_at": "2026-02-01T09:00:00"} for i in range(2)])
    write_csv(tmp_path / "spend.csv", [
        {"external_id": "s1", "date": "2026-01-15", "channel": "paid_search", "campaign_id": "cmp-1",
         "category": "marketing", "amount": "1000.00", "description": "", "impressions": "10000", "clicks": "200"},
        {"external_id": "s2", "date": "2026-06-15", "channel": "paid_search", "campaign_id": "cmp-1",
         "category": "marketing", "amount": "500.00", "description": "", "impressions": "5000", "clicks": "50"}])


def _import(tmp_path) -> None:
    _folder(tmp_path)
    out = io.StringIO()
    call_command("import_csv", dir=tmp_path, stdout=out, stderr=io.StringIO())
    call_command("recompute_kpis", full=True, stdout=io.StringIO())


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _section(page: str, title: str) -> str:
    """The page's panel (a <section>) headed `title`, as text."""
    start = page.index(f">{title}<")
    return _text(page[start:page.index("</section>", start)])


def test_csv_with_the_new_columns_reaches_the_pages_and_the_digest(tmp_path, signed_in_client):
    from smarketing.funnel import models as m

    _import(tmp_path)
    assert m.Contact.objects.filter(offer="demo_request").count() == 6
    assert m.Contact.objects.get(external_id="e0").disqualification_reason == "no_budget"
    assert m.Spend.objects.get(external_id="s1").clicks == 200

    query = f"?window=ytd&as_of={AS_OF}"
    campaigns = signed_in_client.get(f"/dashboards/campaigns/{query}").content.decode()
    offers = _section(campaigns, "Close rates by offer (type of lead)")
    # Mature part as of Jun 30: lead → MQL takes leads of Jan 1 – May 31, the customer rates
    # Jan 1 – Mar 2. Demo requests: 4 of 4 MQLs, 2 of 4 MQLs and 2 of 4 leads customers (the
    # two June demo requests, which would read 2 of 6, are not mature). E-books: 2 of 4 MQLs,
    # 0 of 2 MQLs and 0 of 4 leads customers.
    assert "Demo request 6 100.0 % (4 of 4) 50.0 % (2 of 4) 50.0 % (2 of 4)" in offers, offers
    assert "E-book 4 50.0 % (2 of 4) 0.0 % (0 of 2) 0.0 % (0 of 4)" in offers, offers
    # All, mature: 6 of 8 leads MQLs, 2 of 6 MQLs and 2 of 8 leads customers; forecast 2 of 6.
    assert "All 10 75.0 % 33.3 % 25.0 % 33.3 %" in offers, offers
    industries = _section(signed_in_client.get(f"/dashboards/channels/{query}").content.decode(),
                          "Close rates by industry")
    assert "Healthcare 6 100.0 % (4 of 4) 50.0 % (2 of 4) 50.0 % (2 of 4)" in industries, industries
    # Why MQLs are rejected: 1 of the 8 MQLs of the year, for no budget.
    shared = signed_in_client.get(f"/dashboards/shared/{query}").content.decode()
    assert "No budget 12.5 %" in _section(shared, "Why MQLs are rejected")
    # Paid media by channel: 15,000 impressions, 250 clicks, 1.7 % click rate, $1,500 ÷ 250 = $6 a
    # click, ÷ 10 leads = $150 a lead, ÷ 8 MQLs = $187.50 ≈ $188 an MQL.
    paid = _section(signed_in_client.get(f"/dashboards/channels/{query}").content.decode(), "Paid media by channel")
    assert "Paid search 15,000 250 1.7 % $6 $150 $188" in paid, paid

    from smarketing.digests.compose import digest_compose

    digest = digest_compose(dashboards=["campaigns", "shared"], as_of=dt.date.fromisoformat(AS_OF),
                            local_date=dt.date(2026, 7, 1), recipient_name="Rita", settings_url="/s",
                            unsubscribe_url="/u")
    text = re.sub(r"\s+", " ", digest.text)
    # The digest's breakdowns are month to date: June's leads are too young for any close rate.
    assert "Close rates by offer (type of lead)" in text
    assert "No cohort of this window is old enough yet" in text, text
    assert "Demo request: 2 | — | — | — | 50.0 %" in text, text  # forecast: 2 of 4 mature demo MQLs
    # Rejections by campaign, month to date: neither June MQL was rejected.
    assert "MQL rejection by campaign (by campaign) (MQL rejection rate | Disqualified leads) - Search Q1: 0.0 % | —" \
        in text, text
    # The rep's two sides: marketing delivered 2 against the 100 a month of the SLA setting.
    assert "marketing: SLA missed" in text, text


def test_a_mature_close_rate_drills_to_the_mature_part_of_its_cohort(tmp_path, signed_in_client):
    _import(tmp_path)
    campaigns = signed_in_client.get(f"/dashboards/campaigns/?window=ytd&as_of={AS_OF}").content.decode()
    start = campaigns.index(">Close rates by offer (type of lead)<")
    section = campaigns[start:campaigns.index("</section>", start)]
    links = [html.unescape(href) for href in re.findall(r'href="([^"]*/records/[^"]*)"', section)]
    demo = [link for link in links if "key=demo_request" in link]
    by_metric = {re.search(r"/metrics/([a-z_]+)/records/", link).group(1): link for link in demo}
    # MQL → customer matures at 120 days: the cohort Jan 1 – Mar 2 (as of Jun 30); lead → MQL at
    # 30 days: Jan 1 – May 31. Leads counts the whole window: no custom range.
    assert "window=custom&start=2026-01-01&end=2026-03-02" in by_metric["mql_to_customer_rate"], by_metric
    assert "window=custom&start=2026-01-01&end=2026-05-31" in by_metric["lead_to_mql_rate"], by_metric
    assert "window=ytd" in by_metric["leads"] and "part=mature" not in by_metric["leads"], by_metric
    assert "part=mature" in by_metric["mql_to_customer_rate"]
    # The drill-down lists the 4 January demo MQLs behind "2 of 4", not the June ones.
    records = _text(signed_in_client.get(by_metric["mql_to_customer_rate"]).content.decode())
    assert all(f"d{i}@buyer.example" in records for i in range(4)), records
    assert "y0@buyer.example" not in records and "y1@buyer.example" not in records
    assert "The mature part of the cohort: the entries at least 120 days old" in records
    whole = _text(signed_in_client.get(by_metric["leads"]).content.decode())
    assert "y0@buyer.example" in whole  # the leads column still lists the whole window
