"""The metrics a reader's rules watch, for the bell on dashboard tiles (drawn by static/js/alerts-bell.js)."""

from __future__ import annotations

from .selectors import watched_metrics


def watched(request) -> dict:
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace != "dashboards" or not request.user.is_authenticated:
        return {}
    return {"alert_watched_metrics": watched_metrics(request.user)}
