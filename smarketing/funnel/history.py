"""The import history: one `ImportLog` row per import that wrote or tried to write records,
whatever started it (the upload page, an API bulk request, the watched folder, import_csv)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from smarketing.funnel.models import ImportLog


@dataclass
class Timing:
    started_at: dt.datetime = field(default_factory=timezone.now)
    began: float = field(default_factory=time.monotonic)

    @property
    def duration(self) -> dt.timedelta:
        return dt.timedelta(seconds=time.monotonic() - self.began)


def import_log_add(
    *, source: str, timing: Timing, report: Any, user=None, resource: str = "", filename: str = "",
    mapping: str = "", sha256: str = "", message: str = "",
) -> ImportLog:
    """Record an import; `report` is an ImportReport or an UpsertResult (both count rows and errors)."""
    resources = getattr(report, "results", None)
    if resources is not None and not resource:
        resource = ", ".join(r.resource for r in resources)
    return ImportLog.objects.create(
        source=source, user=user if getattr(user, "is_authenticated", False) else None,
        started_at=timing.started_at, duration=timing.duration, resource=resource[:200],
        filename=filename[:255], mapping=mapping[:100], rows=report.rows, created=report.created,
        updated=report.updated, errors=len(report.errors), sha256=sha256, message=message,
    )
