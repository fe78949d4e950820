"""Small record builders for KPI tests: timestamps are company-local strings."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from smarketing.funnel import models as m
from smarketing.funnel.models import company_tz
from smarketing.kpis.models import Fact, FactLevel

_ids = itertools.count(1)


def ts(text: str | None) -> dt.datetime | None:
    """'2026-03-01 10:00' in the company time zone (settings.SMARKETING_TIMEZONE now)."""
    if text is None:
        return None
    return dt.datetime.fromisoformat(text).replace(tzinfo=company_tz())


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def member(email: str, name: str, team: str = "sales") -> m.TeamMember:
    return m.TeamMember.objects.create(email=email, name=name, team=team)


def campaign(external_id: str, name: str, channel: str = "email") -> m.Campaign:
    return m.Campaign.objects.create(external_id=external_id, name=name, channel=channel)


def contact(external_id: str, lead: str, *, channel: str = "email", campaign: m.Campaign | None = None,
            owner: m.TeamMember | None = None, email: str = "", referred_by: m.Contact | None = None,
            industry: str = "", offer: str = "", reason: str = "", **stages: str | None) -> m.Contact:
    return m.Contact.objects.create(
        external_id=external_id, email=email, source_channel=channel, campaign=campaign, owner=owner,
        referred_by=referred_by, lead_at=ts(lead), industry=industry, offer=offer, disqualification_reason=reason,
        **{f"{stage}_at": ts(value) for stage, value in stages.items()},
    )


def deal(external_id: str, amount: float, status: str, created: str, closed: str | None = None, *,
         contact: m.Contact | None = None, owner: m.TeamMember | None = None, mrr: float = 0) -> m.Deal:
    return m.Deal.objects.create(
        external_id=external_id, contact=contact, owner=owner, amount=Decimal(str(amount)), mrr=Decimal(str(mrr)),
        status=status, created_at=ts(created), closed_at=ts(closed),
    )


def activity(contact: m.Contact, when: str, kind: str = "call", *, connected: bool = False,
             owner: m.TeamMember | None = None, external_id: str | None = None) -> m.Activity:
    return m.Activity.objects.create(
        external_id=external_id or f"act-{next(_ids)}", contact=contact, owner=owner, activity_type=kind,
        occurred_at=ts(when), connected=connected,
    )


def touch(external_id: str, contact: m.Contact, when: str, channel: str, *,
          campaign: m.Campaign | None = None, content: m.Content | None = None) -> m.Touch:
    return m.Touch.objects.create(external_id=external_id, contact=contact, occurred_at=ts(when), channel=channel,
                                  campaign=campaign, content=content)


def spend(external_id: str, date: str, amount: float, *, category: str = "marketing", channel: str = "email",
          campaign: m.Campaign | None = None, impressions: int | None = None, clicks: int | None = None) -> m.Spend:
    return m.Spend.objects.create(external_id=external_id, date=day(date), amount=Decimal(str(amount)),
                                  category=category, channel=channel, campaign=campaign, impressions=impressions,
                                  clicks=clicks)


def facts_snapshot() -> list[tuple]:
    """Every stored fact and stock level, sorted: two rebuilds are equal when their snapshots
    are (a level kept by differences is compared to 6 decimals, as the API rounds it)."""
    return sorted([*Fact.objects.values_list("measure", "dimension", "day", "key", "bucket", "value"),
                   *((measure, dimension, since, key, bucket, round(value, 6)) for measure, dimension, key, bucket,
                     value, since in FactLevel.objects.values_list("measure", "dimension", "key", "bucket", "value",
                                                                   "since"))])
