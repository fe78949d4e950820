"""Plotly figures built in Python: pure functions from KPI results to figure dicts.

The dicts are plain JSON (no plotly.graph_objects template baggage) so a page ships a
few hundred bytes per chart; plotly.js draws them from `static/vendor/plotly-smarketing.min.js`,
a bundle of only the trace types used here (scatter, bar, funnel: see frontend/plotly-entry.js).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from smarketing.kpis.formatting import currency_symbol, format_value
from smarketing.kpis.registry import metric_get

BRAND = "#1f4e79"
ACCENT = "#2f6fde"
GOOD = "#1a7f37"
BAD = "#c62828"
WARN = "#d9822b"
MUTED = "#b8c2cc"
PALETTE = (ACCENT, "#13a89e", "#8e5ad6", "#e07b39", "#d6457a", "#5a9e2f", "#7a8694")
TOP_ITEMS = 10
# Noto Sans CJK SC (fonts-noto-cjk, installed by the Makefile and the Dockerfile) draws the
# Chinese labels; the Latin faces come first so English text looks as it always did.
FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif'


def _axis(unit: str, **extra) -> dict:
    axis: dict = {"gridcolor": "#e8edf2", "zerolinecolor": "#cfd7e0", "automargin": True}
    if unit == "percent":
        axis["ticksuffix"] = " %"
    elif unit in ("currency", "currency_per_day"):
        axis["tickprefix"] = currency_symbol()
        axis["tickformat"] = "~s"
    elif unit == "days":
        axis["ticksuffix"] = " d"
    elif unit == "hours":
        axis["ticksuffix"] = " h"
    elif unit == "ratio":
        axis["ticksuffix"] = "×"
    else:
        axis["tickformat"] = "~s"
    axis.update(extra)
    return axis


def _count_axis(values: Iterable[float | None], **extra) -> dict:
    """A count axis; small counts tick at whole numbers (no "500m" between 0 and 1)."""
    top = max((value for value in values if value is not None), default=0)
    axis = _axis("count", **extra)
    if top <= 10:
        axis.update({"dtick": 1 if top <= 5 else 2, "tickformat": "d"})
    return axis


def _layout(*, height: int = 300, **extra) -> dict:
    layout = {
        "height": height,
        "margin": {"l": 8, "r": 12, "t": 8, "b": 8},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": FONT_FAMILY, "size": 12, "color": "#1b2430"},
        "hoverlabel": {"font": {"size": 12}},
        "showlegend": False,
        "legend": {"orientation": "h", "y": -0.15, "x": 0},
    }
    layout.update(extra)
    return layout


def _short(text: str, limit: int = 32) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value) -> float | None:
    return None if value is None else float(value)


# --- funnel -------------------------------------------------------------------------


def _lower(label: str) -> str:
    return label if label.isupper() or label[:-1].isupper() else label.lower()


def step_ratio_label(before: str, after: str) -> str:
    """The funnel's step ratio, named so it cannot pass for a cohort rate (reading the numbers 4).

    "MQLs per 100 leads this period" (stage counts of the window divided), where the cohort
    rate is "Lead → MQL (cohort)" and a percentage.
    """
    return _("{after} per 100 {before} this period").format(after=after, before=_lower(before))


def step_ratio_text(rate: float | None, before: str, after: str) -> str:
    """"32.9 MQLs per 100 leads" ("" without a ratio)."""
    if rate is None:
        return ""
    return _("{rate} {after} per 100 {before}").format(rate=f"{rate:,.1f}", after=_lower(after), before=_lower(before))


def step_ratio(before: float | None, after: float | None) -> float | None:
    """after ÷ before in percent; None when the step before is 0 or missing."""
    if not before or after is None:
        return None
    return float(after) / float(before) * 100


def weakest_step(counts: Sequence[float | None], norms: Sequence[float | None] | None = None) -> int | None:
    """The index of the weakest step of a funnel: the one rule page and digest share.

    The step whose ratio this period lies furthest below the same step's ratio in `norms`
    (the year to date ending with the window: each step against its own normal, as visits
    → leads is always the smallest ratio); a step without a norm counts its own ratio.
    None when no step has a ratio.
    """
    worst: tuple[float, int] | None = None
    for index in range(1, len(counts)):
        rate = step_ratio(counts[index - 1], counts[index])
        if rate is None:
            continue
        norm = step_ratio(norms[index - 1], norms[index]) if norms else None
        score = rate / norm if norm else rate / 100
        if worst is None or score < worst[0]:
            worst = (score, index)
    return None if worst is None else worst[1]


def funnel_steps(results: Sequence[dict], norms: Sequence[dict] | None = None) -> list[dict]:
    """Each funnel step with its step ratio from the step before; the weakest step flagged.

    A step's ratio is this step's count over the previous step's count in the same window
    (None when the previous count is 0 or missing); `norms` (the year-to-date results)
    decide which step is weakest (`weakest_step`).
    """
    steps: list[dict] = []
    for index, result in enumerate(results):
        value = _number(result.get("value"))
        before = steps[index - 1] if index else None
        previous = _number((result.get("previous") or {}).get("value"))
        steps.append(
            {"metric": result["metric"], "label": result["label"], "value": value, "previous": previous,
             "rate": step_ratio(before["value"], value) if before else None,
             "rate_label": step_ratio_label(before["label"], result["label"]) if before else "",
             "rate_text": step_ratio_text(step_ratio(before["value"], value), before["label"], result["label"])
             if before else "",
             "weakest": False}
        )
    weakest = weakest_step([step["value"] for step in steps],
                           [_number(norm.get("value")) for norm in norms] if norms else None)
    if weakest is not None:
        steps[weakest]["weakest"] = True
    return steps


def figure_funnel(results: Sequence[dict], *, compare_previous: bool = False,
                  norms: Sequence[dict] | None = None) -> dict:
    """leads → … → customers as a funnel, each step's ratio shown, the weakest in red.

    Visits outnumber customers a thousandfold: on one scale the later stages would be
    slivers, so visits are a number above the funnel, not a bar.
    """
    steps = funnel_steps(results, norms)
    head = steps[0] if steps and steps[0]["metric"] == "visits" else None
    shown = steps[1:] if head else steps
    labels = [step["label"] for step in shown]
    text = [
        format_value(step["value"], "count")
        + ("" if step["rate"] is None or (head is None and step is shown[0]) else f" · {step['rate_text']}")
        for step in shown
    ]
    colors = [BAD if step["weakest"] else ACCENT for step in shown]
    data = [
        {
            "type": "funnel",
            "name": _("This period"),
            "y": labels,
            "x": [step["value"] or 0 for step in shown],
            "text": text,
            "textinfo": "text",
            "textposition": "auto",
            "cliponaxis": False,
            "hoverinfo": "y+text",
            "marker": {"color": colors},
            # Two funnels side by side read badly with connectors between their steps.
            "connector": {"visible": not compare_previous, "fillcolor": "#e8eef7"},
        }
    ]
    if compare_previous:
        data.append(
            {
                "type": "funnel",
                "name": _("Previous period"),
                "y": labels,
                "x": [step["previous"] or 0 for step in shown],
                "text": [format_value(step["previous"], "count") for step in shown],
                "textinfo": "text",
                "textposition": "auto",
                "cliponaxis": False,
                "hoverinfo": "y+text",
                "marker": {"color": MUTED},
                "connector": {"visible": False},
            }
        )
    layout = _layout(height=320, showlegend=compare_previous, funnelmode="group", yaxis={"automargin": True},
                     margin={"l": 8, "r": 12, "t": 8, "b": 8})
    if head is not None:
        caption = f"{head['label']}: {format_value(head['value'], 'count')}"
        layout["margin"]["t"] = 30
        layout["annotations"] = [{"xref": "paper", "yref": "paper", "x": 0, "y": 1, "yanchor": "bottom",
                                  "xanchor": "left", "showarrow": False, "text": caption,
                                  "font": {"size": 13, "color": "#1b2430"}}]
    return {"data": data, "layout": layout}


# --- time series --------------------------------------------------------------------


def _iso(day) -> str:
    return day.isoformat() if isinstance(day, dt.date) else str(day)


def _series_axis(data: list[dict], unit: str, *, first: bool, **extra) -> dict:
    values = [value for trace in data if ("yaxis" not in trace) == first for value in trace["y"]]
    if unit == "count":
        return _count_axis(values, rangemode="tozero", **extra)
    return _axis(unit, rangemode="tozero", **extra)


def partial_index(points: Sequence[dict], today: dt.date | None) -> int | None:
    """The index of the bucket holding `today` (company zone): a day, week or month so far."""
    if today is None:
        return None
    for index, point in enumerate(points):
        start, end = point["start"], point["end"]
        start = start if isinstance(start, dt.date) else dt.date.fromisoformat(str(start))
        end = end if isinstance(end, dt.date) else dt.date.fromisoformat(str(end))
        if start <= today <= end:
            return index
    return None


SO_FAR = {"day": gettext_lazy("today so far"), "week": gettext_lazy("this week so far"),
          "month": gettext_lazy("this month so far")}


def figure_series(lines: Sequence[dict], *, grain: str, today: dt.date | None = None) -> dict:
    """One line per metric over the window's buckets.

    `lines`: [{"label", "unit", "points": [{"start", "end", "value"}]}]. A second unit
    goes on a right-hand axis. The bucket holding `today` is incomplete: it is drawn
    apart (dashed, hollow marker, "today so far"), never as the line's drop to zero.
    """
    units: list[str] = []
    for line in lines:
        if line["unit"] not in units:
            units.append(line["unit"])
    data = []
    so_far = str(SO_FAR.get(grain, gettext_lazy("so far")))
    for index, line in enumerate(lines):
        points = line["points"]
        partial = partial_index(points, today)
        color = PALETTE[index % len(PALETTE)]
        ys = [_number(point["value"]) for point in points]
        texts = [format_value(point["value"], line["unit"]) for point in points]
        trace = {
            "type": "scatter",
            "mode": "lines+markers" if len(points) <= 31 else "lines",
            "name": line["label"],
            "x": [_iso(point["start"]) for point in points],
            "y": [None if i == partial else y for i, y in enumerate(ys)],
            "text": texts,
            "hovertemplate": "%{x}: %{text}<extra>" + line["label"] + "</extra>",
            "line": {"color": color, "width": 2},
            "marker": {"size": 5},
            "connectgaps": False,
        }
        extra = []
        if partial is not None:
            keep = [i for i in (partial - 1, partial) if i >= 0]
            extra.append({
                "type": "scatter",
                "mode": "lines+markers+text" if index == 0 else "lines+markers",
                "name": f"{line['label']} ({so_far})",
                "x": [trace["x"][i] for i in keep],
                "y": [ys[i] for i in keep],
                "text": [texts[i] for i in keep],
                "texttemplate": ["" for _ in keep[:-1]] + [so_far],
                # the bucket so far is the window's last: its words end on it, inside the chart
                "textposition": "top left",
                "textfont": {"size": 11, "color": "#5b6675"},
                "hovertemplate": "%{x}: %{text}<extra>" + f"{line['label']}, {so_far}" + "</extra>",
                "line": {"color": color, "width": 2, "dash": "dot"},
                "marker": {"size": [5] * (len(keep) - 1) + [8], "symbol": ["circle"] * (len(keep) - 1)
                           + ["circle-open"], "color": color, "line": {"width": 2, "color": color}},
                "showlegend": False,
                "cliponaxis": False,
            })
        if units.index(line["unit"]) == 1:
            trace["yaxis"] = "y2"
            for item in extra:
                item["yaxis"] = "y2"
        data.append(trace)
        data.extend(extra)
    # d3 time formats, translated: Plotly's own month names are English whatever the page's language.
    day_tick = pgettext("chart date axis, d3 format: month, day", "%b %-d")
    tick = {"day": day_tick, "week": day_tick, "month": pgettext("chart date axis, d3 format: month, year", "%b %Y")}.get(
        grain, day_tick)
    layout = _layout(
        height=280,
        showlegend=len(lines) > 1,
        xaxis={"type": "date", "tickformat": tick, "gridcolor": "#f0f3f6", "automargin": True},
        yaxis=_series_axis(data, units[0] if units else "count", first=True),
        margin={"l": 8, "r": 12, "t": 18, "b": 8},
    )
    if len(units) > 1:
        layout["yaxis2"] = _series_axis(data, units[1], first=False, overlaying="y", side="right", showgrid=False)
    return {"data": data, "layout": layout}


# --- breakdowns ---------------------------------------------------------------------


def breakdown_rows(results: Sequence[dict], *, top: int | None = TOP_ITEMS) -> list[dict]:
    """The union of the results' breakdown keys as rows, ordered by the first metric, desc.

    Each row: {"key", "label", "cells": {metric: item}}; `top` keeps the biggest rows.
    """
    rows: dict[str, dict] = {}
    for result in results:
        for item in result.get("breakdown") or []:
            row = rows.setdefault(item["key"], {"key": item["key"], "label": item.get("label") or item["key"], "cells": {}})
            row["cells"][result["metric"]] = item
    lead = results[0]["metric"] if results else None

    def order(row: dict) -> tuple:
        value = _number((row["cells"].get(lead) or {}).get("value"))
        return (value is None, -(value or 0), row["label"])

    ordered = sorted(rows.values(), key=order)
    return ordered[:top] if top else ordered


def figures_breakdown(results: Sequence[dict], *, top: int = TOP_ITEMS) -> list[dict]:
    """Horizontal bars per breakdown key: one figure per unit, metrics of a unit side by side.

    Items with a target (a rep's quota or SLA) get a tick mark at the target.
    """
    rows = breakdown_rows(results, top=top)
    if not rows:
        return []
    groups: dict[str, list[dict]] = {}
    for result in results:
        groups.setdefault(result["unit"], []).append(result)
    # Biggest on top: plotly draws the first category at the bottom.
    rows = list(reversed(rows))
    labels = [_short(str(row["label"])) for row in rows]
    figures = []
    for unit, members in groups.items():
        data = []
        for index, result in enumerate(members):
            cells = [row["cells"].get(result["metric"]) or {} for row in rows]
            values = [_number(cell.get("value")) for cell in cells]
            data.append(
                {
                    "type": "bar",
                    "textangle": 0,
                    "orientation": "h",
                    "name": result["label"],
                    "y": labels,
                    "x": values,
                    "text": [format_value(value, unit) for value in values],
                    "textposition": "auto",
                    "hovertemplate": "%{y}: %{text}<extra>" + result["label"] + "</extra>",
                    "marker": {"color": PALETTE[index % len(PALETTE)]},
                    "cliponaxis": False,
                }
            )
            targets = [_number((cell.get("target") or {}).get("value")) for cell in cells]
            if any(target is not None for target in targets):
                data.append(
                    {
                        "type": "scatter",
                        "mode": "markers",
                        "name": _("{label} target").format(label=result["label"]),
                        "y": labels,
                        "x": targets,
                        "text": [format_value(target, unit) for target in targets],
                        "hovertemplate": _("%{y} target: %{text}") + "<extra></extra>",
                        "marker": {"symbol": "line-ns-open", "size": 22, "color": BRAND,
                                   "line": {"width": 3, "color": BRAND}},
                    }
                )
        plotted = [value for trace in data for value in trace["x"]]
        axis = _count_axis(plotted, rangemode="tozero") if unit == "count" else _axis(unit, rangemode="tozero")
        figures.append(
            {
                "data": data,
                "layout": _layout(
                    height=max(180, 70 + len(rows) * (12 + 20 * len(members))),
                    barmode="group",
                    showlegend=len(data) > 1,
                    xaxis=axis,
                    yaxis={"automargin": True},
                ),
            }
        )
    return figures


# --- SLA ----------------------------------------------------------------------------


def _by_metric(results: Iterable[dict]) -> dict[str, dict]:
    return {result["metric"]: result for result in results}


def figure_sla_delivered(results: Sequence[dict]) -> dict:
    """Leads delivered per rep against each rep's SLA; reps at or above it in green."""
    delivered = _by_metric(results)["leads_delivered"]
    items = sorted(delivered.get("breakdown") or [], key=lambda item: (-(item.get("value") or 0), item.get("label") or ""))
    items = list(reversed(items))
    labels = [_short(item.get("label") or item["key"]) for item in items]
    values = [_number(item.get("value")) or 0 for item in items]
    targets = [_number((item.get("target") or {}).get("value")) for item in items]
    colors = [
        MUTED if target is None else (GOOD if value >= target else WARN)
        for value, target in zip(values, targets, strict=True)
    ]
    data = [
        {
            "type": "bar",
            "textangle": 0,
            "orientation": "h",
            "name": str(metric_get("leads_delivered").label),
            "y": labels,
            "x": values,
            "text": [format_value(value, "count") for value in values],
            "textposition": "auto",
            "hovertemplate": "%{y}: %{text} delivered<extra></extra>",
            "marker": {"color": colors},
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": "SLA",
            "y": labels,
            "x": targets,
            "text": [format_value(target, "count") for target in targets],
            "hovertemplate": "%{y} SLA: %{text}<extra></extra>",
            "marker": {"symbol": "line-ns-open", "size": 24, "color": BRAND, "line": {"width": 3, "color": BRAND}},
        },
    ]
    return {
        "data": data,
        "layout": _layout(
            height=max(200, 70 + 34 * len(items)),
            showlegend=True,
            xaxis=_count_axis([*values, *targets], rangemode="tozero"),
            yaxis={"automargin": True},
        ),
    }


def figure_sla_worked(results: Sequence[dict], *, worked_target: float) -> dict:
    """% of delivered leads worked, and attempt compliance, per rep, against the worked target."""
    by_metric = _by_metric(results)
    rows = breakdown_rows([by_metric["leads_worked_rate"], by_metric["sla_attempt_compliance"]], top=None)
    rows = list(reversed(rows))
    labels = [_short(str(row["label"])) for row in rows]
    data = []
    for index, metric in enumerate(("leads_worked_rate", "sla_attempt_compliance")):
        values = [_number((row["cells"].get(metric) or {}).get("value")) for row in rows]
        data.append(
            {
                "type": "bar",
                "textangle": 0,
                "orientation": "h",
                "name": by_metric[metric]["label"],
                "y": labels,
                "x": values,
                "text": [format_value(value, "percent") for value in values],
                "textposition": "auto",
                "hovertemplate": "%{y}: %{text}<extra>" + by_metric[metric]["label"] + "</extra>",
                "marker": {"color": (ACCENT, "#13a89e")[index]},
            }
        )
    return {
        "data": data,
        "layout": _layout(
            height=max(200, 70 + 48 * len(rows)),
            barmode="group",
            showlegend=True,
            xaxis=_axis("percent", range=[0, 105]),
            yaxis={"automargin": True},
            shapes=[
                {
                    "type": "line", "xref": "x", "yref": "paper", "x0": worked_target, "x1": worked_target,
                    "y0": 0, "y1": 1, "line": {"color": BAD, "width": 2, "dash": "dash"},
                }
            ],
            annotations=[
                {
                    "xref": "x", "yref": "paper", "x": worked_target, "y": 1, "yanchor": "bottom",
                    "text": f"SLA {worked_target:g} %", "showarrow": False, "font": {"color": BAD, "size": 11},
                }
            ],
            margin={"l": 8, "r": 12, "t": 22, "b": 8},
        ),
    }


# --- stage velocity -----------------------------------------------------------------


def figure_velocity(results: Sequence[dict]) -> dict:
    """Average days per stage this period next to the previous period."""
    ordered = list(reversed(results))
    labels = [result["label"] for result in ordered]
    current = [_number(result.get("value")) for result in ordered]
    previous = [_number((result.get("previous") or {}).get("value")) for result in ordered]
    data = [
        {
            "type": "bar",
            "textangle": 0,
            "orientation": "h",
            "name": _("This period"),
            "y": labels,
            "x": current,
            "text": [format_value(value, "days") for value in current],
            "textposition": "auto",
            "hovertemplate": "%{y}: %{text}<extra>This period</extra>",
            "marker": {"color": ACCENT},
        },
        {
            "type": "bar",
            "textangle": 0,
            "orientation": "h",
            "name": _("Previous period"),
            "y": labels,
            "x": previous,
            "text": [format_value(value, "days") for value in previous],
            "textposition": "auto",
            "hovertemplate": "%{y}: %{text}<extra>Previous period</extra>",
            "marker": {"color": MUTED},
        },
    ]
    return {
        "data": data,
        "layout": _layout(
            height=320,
            barmode="group",
            showlegend=True,
            xaxis=_axis("days", rangemode="tozero"),
            yaxis={"automargin": True},
        ),
    }


# --- sparkline ----------------------------------------------------------------------


def _spark_xy(numbers: list[float | None], width: int, height: int) -> list[tuple[float, float] | None]:
    present = [value for value in numbers if value is not None]
    low, high = min(present), max(present)
    span = high - low or 1.0
    step = width / (len(numbers) - 1)
    return [None if value is None else (index * step, height - 2 - (value - low) / span * (height - 4))
            for index, value in enumerate(numbers)]


def sparkline_points(values: Sequence[float | int | None], *, width: int = 120, height: int = 30,
                     partial: int | None = None) -> list[str]:
    """SVG polyline point lists for a tile's sparkline (one list per unbroken run of values).

    An inline SVG costs a few hundred bytes where a Plotly chart per tile would cost a
    chart initialisation each; missing values break the line rather than drop to 0. The
    `partial` bucket (today so far) is left off the line: `sparkline_partial` marks it.
    """
    numbers = [_number(value) for value in values]
    if len(numbers) < 2 or all(value is None for value in numbers):
        return []
    runs: list[list[str]] = [[]]
    for index, xy in enumerate(_spark_xy(numbers, width, height)):
        if xy is None or index == partial:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append(f"{xy[0]:.1f},{xy[1]:.1f}")
    return [" ".join(run) for run in runs if len(run) > 1]


def sparkline_partial(values: Sequence[float | int | None], partial: int | None, *, width: int = 120,
                      height: int = 30) -> dict | None:
    """{"x", "y"} of the bucket so far on the sparkline's scale (a hollow dot), or None."""
    numbers = [_number(value) for value in values]
    if partial is None or len(numbers) < 2 or numbers[partial] is None:
        return None
    x, y = _spark_xy(numbers, width, height)[partial]
    return {"x": f"{x:.1f}", "y": f"{y:.1f}"}


# --- annotations --------------------------------------------------------------------
NOTE_COLOR = "#b26a00"


# A label (at most LABEL_CHARS characters) takes about a sixth of a two-thirds-wide chart:
# notes closer than a quarter of the window keep only their line (the whole note on hover,
# no glyph over the neighbour's label), so a year of campaign starts never prints over itself.
# People's notes take the room first: a campaign start never hides the note someone just wrote.
LABEL_GAP_SHARE = 0.25
LABEL_CHARS = 16
# Plotly widens a date axis to fit every annotation's text: with notes the axis is pinned to
# the window (and this share of it on each side), so a label never stretches it past the data.
AXIS_PAD_SHARE = 0.02


def annotate(figure: dict, notes: Sequence[dict], *, start: dt.date | None = None,
             end: dt.date | None = None) -> dict:
    """Markers for dated notes on a date-axis figure: a dotted line on a day, a band over a
    period, a short label on top and the whole note on hover. Marks are clipped to the window
    [start, end] so a note reaching past it never stretches the axis beyond the data."""
    if not notes:
        return figure
    layout = figure["layout"]
    shapes, labels = list(layout.get("shapes", [])), list(layout.get("annotations", []))
    gap = dt.timedelta(days=LABEL_GAP_SHARE * (end - start).days) if start and end else dt.timedelta(0)
    # A note that began before the window is drawn from the window's first day.
    shown_days = [max(note["day"], start) if start else note["day"] for note in notes]
    labelled = _labelled_notes(notes, shown_days, gap)
    for index, note in enumerate(notes):
        day = _iso(shown_days[index])
        if note.get("end"):
            shown_end = min(note["end"], end) if end else note["end"]
            shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": day, "x1": _iso(shown_end),
                           "y0": 0, "y1": 1, "fillcolor": "rgba(178,106,0,0.10)", "line": {"width": 0},
                           "layer": "below"})
        else:
            shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": day, "x1": day, "y0": 0, "y1": 1,
                           "line": {"color": NOTE_COLOR, "width": 1, "dash": "dot"}})
        roomy = index in labelled
        scope = f" ({note['scope']})" if note.get("scope") and not note.get("auto") else ""
        labels.append({"x": day, "y": 1, "xref": "x", "yref": "paper", "yanchor": "bottom", "xanchor": "left",
                       "showarrow": False, "text": "✎ " + _short(note["text"], LABEL_CHARS) if roomy else " ",
                       "hovertext": f"{_iso(note['day'])}: {note['text']}{scope}",
                       "font": {"size": 10, "color": NOTE_COLOR}, "name": "smarketing-note"})
    layout["shapes"], layout["annotations"] = shapes, labels
    if start and end and "range" not in layout.get("xaxis", {}):
        pad = dt.timedelta(days=AXIS_PAD_SHARE * max((end - start).days, 1))
        layout["xaxis"] = {**layout.get("xaxis", {}), "range": [_iso(start - pad), _iso(end + pad)]}
    margin = dict(layout.get("margin") or {})
    margin["t"] = max(margin.get("t", 0), 22)
    layout["margin"] = margin
    return figure


def _labelled_notes(notes: Sequence[dict], shown_days: Sequence[dt.date], gap: dt.timedelta) -> set[int]:
    """Indexes of the notes that print their label: people's notes first, then automatic ones,
    each at least `gap` from every label already placed."""
    placed: list[dt.date] = []
    labelled: set[int] = set()
    for index in sorted(range(len(notes)), key=lambda i: (bool(notes[i].get("auto")), notes[i]["day"])):
        if all(abs(shown_days[index] - other) >= gap for other in placed):
            placed.append(shown_days[index])
            labelled.add(index)
    return labelled
