"""Finds English left in a page or mail meant to be Chinese: words of two or more Latin letters
that are neither a name from the data, a metric key, nor an abbreviation Chinese SaaS keeps."""

from __future__ import annotations

import html
import re

from smarketing.funnel import models as funnel
from smarketing.kpis.registry import METRICS

# Abbreviations and product names Chinese sales and marketing software writes in Latin letters.
KEPT = {
    "smarketing", "SLA", "MQL", "SQL", "ROI", "LTV", "CAC", "CTA", "MRR", "CSV", "XLSX", "PNG", "SVG", "API",
    "HTTP", "KPI", "UTC", "Slack", "Teams", "Microsoft", "Webhook", "Offer", "HubSpot", "Salesforce", "Google",
    "Analytics", "zip", "JSON", "ISO", "YYYY", "MM", "DD", "Twitter", "Facebook", "LinkedIn", "Instagram",
    "YouTube", "SLA_LEADS_PER_REP_PER_MONTH", "SLA_LEADS_FROM_QUOTA", "SLA_WORKED_TARGET_PCT",
    "SLA_FIRST_ATTEMPT_HOURS", "SLA_MIN_ATTEMPTS", "leads_delivered", "sla_min_attempts", "team_members",
    "import_csv", "Noto", "Sans", "CJK", "SC",
    # The language switch names each language in itself.
    "English",
}
WORD = re.compile(r"[A-Za-z][A-Za-z_']*[A-Za-z]")


def data_names() -> set[str]:
    """Every word of the names the data brings: reps, campaigns, content, pages, industries…"""
    from django.contrib.auth import get_user_model

    texts: list[str] = list(get_user_model().objects.values_list("username", "first_name", "last_name", "email"))
    texts += funnel.TeamMember.objects.values_list("name", "email")
    texts += funnel.Campaign.objects.values_list("name", "external_id")
    texts += funnel.Content.objects.values_list("title", "external_id")
    texts += funnel.Contact.objects.values_list("industry", flat=True).distinct()
    for model in (funnel.WebTraffic, funnel.LandingPage):
        field = "page" if any(f.name == "page" for f in model._meta.fields) else None
        if field:
            texts += model.objects.values_list(field, flat=True).distinct()
    texts += funnel.FeatureUsage.objects.values_list("feature", flat=True).distinct()
    words: set[str] = set()
    for text in texts:
        for part in text if isinstance(text, tuple) else (text,):
            words.update(WORD.findall(str(part or "")))
    return words


def english_words(text: str, *, allowed: set[str] = frozenset()) -> list[str]:
    """The words in `text` that should have been Chinese."""
    keep = KEPT | set(METRICS) | set(allowed)
    # Charts shorten long names ("Executive briefing" → "Executiv…"): a name's beginning is the name.
    shortened = {match.group(1) for match in re.finditer(r"([A-Za-z][A-Za-z_']*)…", html.unescape(text))}
    found = []
    for word in WORD.findall(html.unescape(text)):
        if word in keep or word.lower() in keep:
            continue
        if word in shortened and any(name.startswith(word) for name in allowed):
            continue
        found.append(word)
    return found


def visible_text(page_html: str) -> str:
    """The text a reader sees in an HTML page: no scripts, styles, tags or hidden JSON."""
    body = re.sub(r"(?is)<(script|style|template|noscript|title)\b.*?</\1>", " ", page_html)
    body = re.sub(r"(?is)<!--.*?-->", " ", body)
    # Code is literal syntax a reader types as it is (`<resource>.csv`, `true/false`), not prose.
    body = re.sub(r"(?is)<code\b.*?</code>", " ", body)
    # Elements with the `hidden` attribute (not `overflow: hidden` in a style: Plotly's SVG has it).
    body = re.sub(r"(?is)<(\w+)\b[^>]*\shidden(?=[\s>=])[^>]*>.*?</\1>", " ", body)
    return text_and_attributes(body)


# Attributes people read: titles, labels, placeholders (an empty field's hint), alternative text.
READ_ATTRIBUTES = re.compile(r'(?is)\b(?:title|aria-label|placeholder|alt)="([^"]*)"')


def text_and_attributes(markup: str) -> str:
    """Markup's text without its tags, followed by the attributes a reader reads."""
    return " ".join([re.sub(r"(?s)<[^>]*>", " ", markup), *READ_ATTRIBUTES.findall(markup)])
