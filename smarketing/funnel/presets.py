"""Shipped column mappings for the exports teams have (README, "Column mapping presets").

Each preset is a mapping (`funnel.mapping`) of one resource plus what its export looks like.
A rule naming a column the resource's schema does not have (yet) is dropped when the
preset is compiled, so a preset may map columns a newer contract adds (contacts' `industry`,
spend's `impressions` and `clicks`); a rule whose file column an export lacks maps nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# HubSpot's "Original Source" property → contract channel (the nearest one; README says why).
HUBSPOT_SOURCES = {
    "Organic Search": "organic_search",
    "Paid Search": "paid_search",
    "Email Marketing": "email",
    "Social Media": "social",
    "Paid Social": "paid_social",
    "Referrals": "referral",
    "Direct Traffic": "direct",
    "Other Campaigns": "other",
    # Contacts created by hand, by an import or an integration: no marketing channel.
    "Offline Sources": "other",
    # Visits referred by an AI assistant's answer: a referral from another site.
    "AI Referrals": "referral",
}

CLOSED = {"Closed Won": "won", "Closed Lost": "lost"}
DEAL_STATUS = {"values": CLOSED, "otherwise": "open"}
CLOSED_ONLY = {"status": ["won", "lost"]}

# Salesforce's default Lead Source picklist → contract channel.
SALESFORCE_SOURCES = {
    "Web": "organic_search",
    "Advertisement": "paid_search",
    "Email": "email",
    "Phone Inquiry": "direct",
    "Partner Referral": "referral",
    "Employee Referral": "referral",
    "External Referral": "referral",
    "Partner": "referral",
    "Word of mouth": "referral",
    "Purchased List": "other",
    "Trade Show": "events",
    "Seminar - Internal": "events",
    "Seminar - Partner": "events",
    "Webinar": "webinar",
    "Other": "other",
}

# GA4 "Session default channel group" → contract web source.
GA4_CHANNELS = {
    "Organic Search": "organic_search",
    "Paid Search": "paid_search",
    "Organic Social": "social",
    "Paid Social": "social",
    "Email": "email",
    "Referral": "referral",
    "Direct": "direct",
    "Organic Shopping": "organic_search",
    "Paid Shopping": "paid_search",
    "Display": "other",
    "Organic Video": "other",
    "Paid Video": "other",
    "Paid Other": "other",
    "Affiliates": "referral",
    "Cross-network": "other",
    "Audio": "other",
    "SMS": "other",
    "Mobile Push Notifications": "other",
    "Unassigned": "other",
}

HUBSPOT_TIME = "YYYY-MM-DD HH:MM"
SALESFORCE_DATE = "MM/DD/YYYY"


@dataclass(frozen=True)
class Preset:
    name: str
    resource: str
    label: str
    # The export's columns this preset reads, as the README documents them.
    expects: str
    spec: dict[str, Any]


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset(
        "hubspot_contacts", "contacts", "HubSpot contacts export",
        "Contacts → Export (CSV) with: Record ID, Email, Company Name, Original Source, Contact owner, "
        "Create Date, Became a Lead Date, Became a Marketing Qualified Lead Date, "
        "Became a Sales Qualified Lead Date, Became an Opportunity Date, Became a Customer Date",
        {"fields": {
            "external_id": "Record ID",
            "email": "Email",
            "company": "Company Name",
            "industry": "Industry",
            "source_channel": {"from": "Original Source", "values": HUBSPOT_SOURCES},
            "owner_email": {"from": "Contact owner", "owner": True},
            "lead_at": {"from": ["Became a Lead Date", "Create Date"], "format": HUBSPOT_TIME},
            "mql_at": {"from": "Became a Marketing Qualified Lead Date", "format": HUBSPOT_TIME},
            "sql_at": {"from": "Became a Sales Qualified Lead Date", "format": HUBSPOT_TIME},
            "opportunity_at": {"from": "Became an Opportunity Date", "format": HUBSPOT_TIME},
            "customer_at": {"from": "Became a Customer Date", "format": HUBSPOT_TIME},
        }},
    ),
    Preset(
        "hubspot_deals", "deals", "HubSpot deals export",
        "Deals → Export (CSV) with: Record ID, Deal Name, Deal Stage, Amount, Create Date, Close Date, "
        "Deal owner, and optionally Associated Contact IDs (one contact's Record ID)",
        {"fields": {
            "external_id": "Record ID",
            "name": "Deal Name",
            "status": {"from": "Deal Stage", **DEAL_STATUS},
            "amount": "Amount",
            "created_at": {"from": "Create Date", "format": HUBSPOT_TIME},
            "closed_at": {"from": "Close Date", "format": HUBSPOT_TIME, "when": CLOSED_ONLY},
            "owner_email": {"from": "Deal owner", "owner": True},
            "contact_id": "Associated Contact IDs",
        }},
    ),
    Preset(
        "salesforce_leads", "contacts", "Salesforce leads report",
        "Leads report exported as CSV (dates MM/DD/YYYY) with: Lead ID, Email, Company / Account, "
        "Lead Source, Lead Owner, Create Date",
        {"fields": {
            "external_id": "Lead ID",
            "email": "Email",
            "company": "Company / Account",
            "industry": "Industry",
            "source_channel": {"from": "Lead Source", "values": SALESFORCE_SOURCES},
            "owner_email": {"from": "Lead Owner", "owner": True},
            "lead_at": {"from": "Create Date", "format": SALESFORCE_DATE},
        }},
    ),
    Preset(
        "salesforce_opportunities", "deals", "Salesforce opportunities report",
        "Opportunities report exported as CSV (dates MM/DD/YYYY) with: Opportunity ID, Opportunity Name, "
        "Amount, Stage, Created Date, Close Date, Owner Email, and optionally Contact ID",
        {"fields": {
            "external_id": "Opportunity ID",
            "name": "Opportunity Name",
            "amount": "Amount",
            "status": {"from": "Stage", **DEAL_STATUS},
            "created_at": {"from": "Created Date", "format": SALESFORCE_DATE},
            "closed_at": {"from": "Close Date", "format": SALESFORCE_DATE, "when": CLOSED_ONLY},
            "owner_email": {"from": "Owner Email", "owner": True},
            "contact_id": "Contact ID",
        }},
    ),
    Preset(
        "ga4_traffic_acquisition", "web_traffic", "Google Analytics 4 Traffic acquisition",
        "Reports → Acquisition → Traffic acquisition, with the Date dimension added, Download File → CSV: "
        "the '#' note lines, then Session default channel group, Date (YYYYMMDD), Sessions, …",
        {"comment": "#", "fields": {
            "date": {"from": "Date", "format": "YYYYMMDD"},
            # The report has no page: each channel group is its own row of the whole site.
            "page": "Session default channel group",
            "section": {"default": "site"},
            "source": {"from": "Session default channel group", "values": GA4_CHANNELS},
            "visits": "Sessions",
        }},
    ),
    Preset(
        "ad_spend", "spend", "Ad platform spend report",
        "A daily campaign report (Google Ads, LinkedIn, Meta …) with: Date (YYYY-MM-DD), Campaign, Cost, "
        "Impressions, Clicks, and optionally Channel (paid_search when absent)",
        {"fields": {
            "external_id": {"from": ["Date", "Campaign"], "join": "|"},
            "date": {"from": "Date", "format": "YYYY-MM-DD"},
            "description": "Campaign",
            "amount": "Cost",
            "channel": {"from": "Channel", "default": "paid_search"},
            "category": {"default": "marketing"},
            "impressions": "Impressions",
            "clicks": "Clicks",
        }},
    ),
)}
