"""What a dashboard shows, as the watches of the one attention list (kpis.attention).

The banner, the digest and `GET /api/v1/attention/` all call `dashboard_attention`, so the
three give the same items for the same dashboard, window and `as_of`.
"""

from __future__ import annotations

import datetime as dt

from smarketing.dashboards.layouts import Dashboard, dashboard_get
from smarketing.kpis.attention import Watch, attention_report, attention_window


def dashboard_watches(dashboard: Dashboard) -> list[Watch]:
    """Every metric and slice the layout shows, in its order (a breakdown watches its rows)."""
    watches: list[Watch] = []
    for panel in dashboard.panels:
        filters = tuple(sorted((name, tuple(values)) for name, values in (panel.filters or {}).items()))
        dimension = panel.dimension if panel.kind in ("breakdown", "sla") else None
        for metric in panel.metrics:
            watch = Watch(metric, dimension, filters)
            if watch not in watches:
                watches.append(watch)
    return watches


def dashboard_attention(key: str, window_name: str = "mtd", as_of: str | dt.date | None = None, *,
                        start: str | dt.date | None = None, end: str | dt.date | None = None,
                        today: dt.date | None = None) -> dict:
    """The attention list of a dashboard: `{"dashboard", "as_of", "window", "items"}`.

    `as_of` defaults to yesterday in the company time zone (complete days only).
    """
    return layout_attention(dashboard_get(key), window_name, as_of, start=start, end=end, today=today)


def layout_attention(dashboard: Dashboard, window_name: str = "mtd", as_of: str | dt.date | None = None, *,
                     start: str | dt.date | None = None, end: str | dt.date | None = None,
                     today: dt.date | None = None) -> dict:
    """`dashboard_attention` of a layout object (the page renders the one it was given)."""
    window = attention_window(window_name, as_of, start=start, end=end)
    report = attention_report(watches=dashboard_watches(dashboard), window=window,
                              funnel_step=any(panel.kind == "funnel" for panel in dashboard.panels), today=today)
    return {"dashboard": dashboard.key, **report}
