"""Annotations: who may change them, saving them, and which ones a chart of a window shows.

Visible to everyone; changed by their author and by data managers. A campaign's start date is
offered as an annotation of its own, read from the campaign (no row to keep in step).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from smarketing.dashboards.models import Annotation
from smarketing.funnel.models import Campaign, Channel
from smarketing.funnel.selectors import is_data_manager
from smarketing.kpis.services import live_records_changed

CAMPAIGN_STARTS_LIMIT = 12  # more markers than this on one chart is noise, not context


class AnnotationError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def annotation_can_edit(*, user, annotation: Annotation) -> bool:
    return bool(user.is_authenticated and (annotation.author_id == user.pk or is_data_manager(user)))


def _date(raw: object, *, field: str, required: bool) -> dt.date | None:
    if raw in (None, ""):
        if required:
            raise AnnotationError(field, "a date (YYYY-MM-DD) is needed")
        return None
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw)[:10])
    except ValueError:
        raise AnnotationError(field, f"{raw!r} is not a date in YYYY-MM-DD form") from None


def annotation_save(*, author, day: object, text: str, end_day: object = None, channel: str = "",
                    campaign: str = "", annotation: Annotation | None = None) -> Annotation:
    """Create (or, for its author or a data manager, change) an annotation; AnnotationError names
    the field that is wrong and nothing is written."""
    if annotation is not None and not annotation_can_edit(user=author, annotation=annotation):
        raise AnnotationError("author", "only its author or a data manager can change this note")
    start = _date(day, field="day", required=True)
    end = _date(end_day, field="end_day", required=False)
    if end is not None and end < start:
        raise AnnotationError("end_day", f"{end} is before the day {start}")
    text = (text or "").strip()
    if not text:
        raise AnnotationError("text", "write what happened")
    if len(text) > 300:
        raise AnnotationError("text", f"{len(text)} characters: keep it to 300")
    channel, campaign = channel or "", campaign or ""
    if channel and campaign:
        raise AnnotationError("channel", "scope a note to a channel or to a campaign, not both")
    if channel and channel not in Channel.values:
        raise AnnotationError("channel", f"{channel!r} is not one of {', '.join(Channel.values)}")
    campaign_row = None
    if campaign:
        campaign_row = Campaign.objects.filter(external_id=campaign).first()
        if campaign_row is None:
            raise AnnotationError("campaign", f"no campaign {campaign!r}")
    obj = annotation or Annotation(author=author)
    obj.day, obj.end_day, obj.text, obj.channel, obj.campaign = start, end, text, channel, campaign_row
    obj.save()
    return obj


def annotations_changed(**kwargs) -> None:
    """A note was written or deleted (here, in the admin, or with its campaign): the charts of
    every cached page may show it, so the answers' version moves (a campaign's own dates move
    it by their import)."""
    live_records_changed()


def _in_scope(*, channel: str, campaign: str, filters: dict[str, list[str]] | None) -> bool:
    """A scoped note shows on charts of everything and of its own channel / campaign."""
    if not filters:
        return True
    (dimension, values), = filters.items()
    if channel:
        return dimension == "channel" and channel in values
    if campaign:
        return dimension == "campaign" and campaign in values
    return True


def annotations_for(*, start: dt.date, end: dt.date, filters: dict[str, list[str]] | None = None) -> list[dict]:
    """The notes a time series over [start, end] shows: {"day", "end", "text", "scope", "auto"}."""
    notes = []
    rows = (Annotation.objects.filter(day__lte=end)
            .filter(Q(end_day__gte=start) | Q(end_day__isnull=True, day__gte=start))
            .select_related("campaign").order_by("day", "pk"))
    for row in rows:
        campaign = row.campaign.external_id if row.campaign else ""
        if not _in_scope(channel=row.channel, campaign=campaign, filters=filters):
            continue
        scope = row.get_channel_display() if row.channel else (row.campaign.name if row.campaign else "")
        notes.append({"id": row.pk, "day": row.day, "end": row.end_day, "text": row.text, "scope": scope,
                      "auto": False})
    starts = (Campaign.objects.filter(start_date__gte=start, start_date__lte=end)
              .order_by("-start_date", "name")[:CAMPAIGN_STARTS_LIMIT])
    for row in starts:
        if _in_scope(channel="", campaign=row.external_id, filters=filters):
            notes.append({"id": None, "day": row.start_date, "end": None, "text": f"{row.name} starts",
                          "scope": row.name, "auto": True})
    notes.sort(key=lambda note: (note["day"], note["auto"], note["text"]))
    return notes
