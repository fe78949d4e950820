"""What a dashboard page shows: its panels evaluated for a window, ready for the template.

One `kpi_values` call per panel (two for side-by-side tiles), and one `kpi_series_many`
per distinct filter for every sparkline and series line of the page together; the engine
answers from daily facts, never from raw records.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from functools import lru_cache
from urllib.parse import urlencode

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from smarketing.dashboards import figures
from smarketing.dashboards.annotations import annotations_for
from smarketing.dashboards.attention import layout_attention
from smarketing.dashboards.layouts import Dashboard, Panel
from smarketing.dashboards.params import DashboardState
from smarketing.kpis.formatting import (
    NONE,
    format_delta,
    format_value,
    format_values,
    target_detail,
    target_status,
)
from smarketing.kpis.judgement import MATURITY_DAYS, side_status
from smarketing.kpis.registry import DIMENSION_LABELS, NONE_KEY, filter_breaks, metric_get
from smarketing.kpis.selectors import (
    answer_cached,
    answer_key,
    facts_as_of,
    key_labels,
    kpi_series_many,
    kpi_values,
    mature_window,
    reads_once,
    recompute_pending,
)
from smarketing.kpis.sources import sources_for
from smarketing.kpis.windows import COMPARISON_LABELS, Window, company_today, window_for

# The catalogue: entry pages show the top 10; other breakdowns list up to 15 keys.
TOP_ITEMS = {"page": 10}
TOP_ITEMS_DEFAULT = 15


def filter_value_labels(filters: dict[str, list[str]] | dict[str, tuple[str, ...]] | None) -> dict[str, list[str]]:
    """{dimension: [labels]}: the names people read for filter values (a rep's name, not the
    e-mail; "Organic search", not `organic_search`)."""
    out: dict[str, list[str]] = {}
    for dimension, values in (filters or {}).items():
        labels = key_labels(dimension=dimension, keys=values)
        out[dimension] = [labels.get(value, value) for value in values]
    return out


def filters_text(filters: dict[str, list[str]] | dict[str, tuple[str, ...]] | None) -> str:
    """"Channel: Social, Paid social" for a filter, as page and digest name it."""
    return "; ".join(f"{DIMENSION_LABELS.get(dimension, dimension)}: {', '.join(labels)}"
                     for dimension, labels in filter_value_labels(filters).items())


def _panel_filters(panel: Panel, state: DashboardState) -> tuple[dict[str, list[str]] | None, bool]:
    """The filters a panel queries with, and whether the reader's filter was set aside.

    A panel with its own filter ("MQLs from email") keeps it: the engine restricts by one
    dimension at a time and the panel's meaning is its filter. A breakdown can only be
    narrowed along its own dimension (a breakdown by rep filtered to rep X), so a reader's
    filter on another dimension does not apply to it.
    """
    if panel.filters:
        return panel.filters_for_query, bool(state.filters)
    if state.filters and panel.dimension and state.filter_dimension != panel.dimension:
        return None, True
    return state.filters, False


# {(window, filters) as a hashable key: {metric: points}}: every series of a page, fetched up front.
PageSeries = dict[tuple, dict[str, list[dict]]]


def _filters_key(filters: dict[str, list[str]] | None, window: Window) -> tuple:
    return (window, tuple(sorted((dimension, tuple(values)) for dimension, values in (filters or {}).items())))


def panel_window(panel: Panel, window: Window) -> Window:
    """The panel's own window, if it has one, ending where `window` does; else `window`."""
    if not panel.window or panel.window == window.name:
        return window
    return window_for(panel.window, as_of=window.end)


def panel_state(panel: Panel, state: DashboardState) -> DashboardState:
    """The reader's state with the panel's own window, if it has one, ending where the reader's does."""
    window = panel_window(panel, state.window)
    return state if window is state.window else dataclasses.replace(state, window=window)


def _page_series(dashboard: Dashboard, state: DashboardState, *, sparklines: bool) -> PageSeries:
    """The points of every sparkline and series line of the page, one engine call per filter.

    Sparklines and series charts share the window's grain; panels differ only in their
    filters, so grouping by filter reads each measure's facts once per filter.
    """
    wanted: dict[tuple, tuple[dict[str, list[str]] | None, Window, dict[str, None]]] = {}
    for panel in dashboard.panels:
        if panel.kind == "series" or (panel.kind == "tiles" and sparklines):
            window = panel_state(panel, state).window
            filters, _overridden = _panel_filters(panel, state)
            group = wanted.setdefault(_filters_key(filters, window), (filters, window, {}))
            group[2].update(dict.fromkeys(panel.metrics))
    return {
        key: kpi_series_many(metrics=list(metrics), window=window, grain=window.grain(), filters=filters)
        for key, (filters, window, metrics) in wanted.items()
    }


def _filter_tokens(filters: dict[str, list[str]] | None) -> list[str]:
    if not filters:
        return []
    return [f"{dimension}:{value}" for dimension, values in filters.items() for value in values]


def records_url(
    *, dashboard: Dashboard, metric: str, state: DashboardState, filters: dict[str, list[str]] | None,
    key: str | None = None, dimension: str | None = None, window: Window | None = None, part: str = "",
) -> str:
    window = window or state.window
    params = state.params(filter=_filter_tokens(filters), key=key, dim=dimension if key is not None else None,
                          **{"from": dashboard.key})
    if window != state.window:
        params = [(name, value) for name, value in params if name not in ("window", "start", "end", "as_of")]
        bounds = ([("start", window.start.isoformat()), ("end", window.end.isoformat())] if window.name == "custom"
                  else [("as_of", window.as_of.isoformat())])
        params = [("window", window.name), *bounds, *params]
    if part:
        params.append(("part", part))
    return f"{_records_path(metric, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)}?{urlencode(params)}"


@lru_cache(maxsize=512)
def _records_path(metric: str, prefix: str, urlconf: str) -> str:
    """A page links a thousand table cells to records: the path of each metric is reversed
    once per script prefix and URL conf (what `reverse` reads)."""
    return reverse("dashboards:records", args=[metric], urlconf=urlconf)


def _target_view(target: dict | None, unit: str, value: float | None) -> dict | None:
    if not target or target.get("value") is None:
        return None
    label, tone = target_status(target)
    return {
        "value": format_value(target.get("value"), unit),
        "status": target.get("status"),
        "status_label": label if target.get("status") else "",
        # a percentage keeps its sign on its number's line ("33.0 %" never breaks before "%")
        "detail": target_detail(value, target, unit).replace(" %", "\u00a0%"),
        # the detail reads on from the status ("by 2", "of 90.0 %") or after a separator
        "joiner": "" if target_detail(value, target, unit).startswith(("by ", "of ")) else "· ",
        "good": {"good": True, "bad": False}.get(tone),
    }


def _so_far(result: dict, unit: str) -> str:
    """For a cohort with no mature part, the tooltip of its "so far": the same-age comparison."""
    mature = result.get("mature")
    if not mature or mature.get("denominator"):
        return ""
    previous = result.get("previous") or {}
    return _("This cohort is still converting: {value} so far. The previous cohort at the same age "
             "({start} – {end}): {previous}.").format(value=format_value(result.get("value"), unit),
                                                     start=previous.get("start"), end=previous.get("end"),
                                                     previous=format_value(previous.get("value"), unit))


def not_meaningful(metric: str, filters: dict[str, list[str]] | dict[str, tuple[str, ...]] | None) -> str | None:
    """The registry's reason (rule 7) when the filter breaks this metric's meaning, else None."""
    return next((reason for dimension in (filters or {}) if (reason := filter_breaks(metric, dimension))), None)


def blank_not_meaningful(results: list[dict], *, dimension: str | None,
                         filters: dict[str, list[str]] | dict[str, tuple[str, ...]] | None) -> list[dict]:
    """The results with every value a breakdown or filter makes meaningless blanked (rule 7).

    A blanked result keeps its rows (the keys are real) without numbers, and says why in
    `not_meaningful`, so a table shows "—" and a note instead of 100 % per rep.
    """
    out = []
    for result in results:
        reason = filter_breaks(result["metric"], dimension) or (
            not_meaningful(result["metric"], filters) if result.get("filtered", True) else None)
        if reason is None:
            out.append(result)
            continue
        blank = {"value": None, "numerator": None, "denominator": None, "target": None}
        out.append({**result, **blank, "not_meaningful": reason,
                    "breakdown": [{**item, **blank} for item in result.get("breakdown") or []]})
    return out


def mature_only(results: list[dict]) -> tuple[list[dict], str]:
    """A close-rate analysis reads cohort rates on their mature part only (rule 2): each cohort
    rate's value, counts and rows become those of its mature part (a key without one is left
    out), labelled so; other metrics stay. Also a note naming the rates with no mature part in
    the window, and how old a cohort must be."""
    out, young = [], []
    for result in results:
        if "mature" not in result:
            out.append(result)
            continue

        def part(item: dict) -> dict:
            mature = item.get("mature") or {"numerator": 0, "denominator": 0, "value": None}
            return {**item, "value": mature["value"], "numerator": mature["numerator"],
                    "denominator": mature["denominator"], "target": None}

        whole = part(result)
        if not whole["denominator"]:
            young.append(_("%(label)s (needs %(days)d days)")
                         % {"label": result["label"], "days": MATURITY_DAYS.get(result["metric"], 0)})
        out.append({**whole, "label": _("%(label)s, mature") % {"label": result["label"]},
                    "breakdown": [part(item) for item in result.get("breakdown") or []
                                  if (item.get("mature") or {}).get("denominator")]})
    note = (_("No cohort of this window is old enough yet for: %(metrics)s.") % {"metrics": ", ".join(young)}
            if young else "")
    return out, note


def _column(result: dict, *, window: Window, direction: str, broken: str | None = None) -> dict:
    unit = result["unit"]
    previous = result.get("previous") or {}
    if broken:
        # Rule 7: no number rather than a misleading one (a lead → MQL rate of 100 % per rep).
        return {"window": window, "value": None, "value_text": "n/a", "not_meaningful": broken,
                "delta": format_delta(None, None, direction), "previous_text": NONE,
                "previous_start": previous.get("start"), "previous_end": previous.get("end"),
                "numerator": None, "denominator": None, "target": None, "filtered": True}
    return {
        "so_far": _so_far(result, unit),
        "window": window,
        "value": result.get("value"),
        "value_text": format_value(result.get("value"), unit),
        "delta": format_delta(result.get("value"), previous.get("value"), direction),
        "previous_text": format_value(previous.get("value"), unit),
        "previous_start": previous.get("start"),
        "previous_end": previous.get("end"),
        "numerator": result.get("numerator"),
        "denominator": result.get("denominator"),
        "target": _target_view(result.get("target"), unit, result.get("value")),
        "filtered": result.get("filtered", True),
        "not_meaningful": None,
        "compare_label": COMPARISON_LABELS[previous.get("kind") or "previous_period"],
    }


def _ratio_part_text(value) -> str:
    if value is None:
        return "—"
    number = float(value)
    return f"{number:,.0f}" if number.is_integer() else f"{number:,.2f}"


def _tiles(dashboard: Dashboard, panel: Panel, state: DashboardState, *, series: PageSeries | None) -> dict:
    filters, overridden = _panel_filters(panel, state)
    windows = [state.window]
    if dashboard.side_by_side:
        names = list(dashboard.side_by_side)
        if state.window.name not in names:
            names = [state.window.name, names[-1]]
        windows = [
            state.window if name == state.window.name else window_for(name, as_of=state.window.end)
            for name in names
        ]
    results_per_window = [
        kpi_values(metrics=list(panel.metrics), window=window, filters=filters,
                   compare=state.compare)
        for window in windows
    ]
    tiles = []
    for index, metric_key in enumerate(panel.metrics):
        metric = metric_get(metric_key)
        columns = [
            {
                **_column(results[index], window=window, direction=metric.direction,
                          broken=not_meaningful(metric_key, filters) if results[index].get("filtered") else None),
                "records_url": records_url(dashboard=dashboard, metric=metric_key, state=state,
                                           filters=filters, window=window),
            }
            for window, results in zip(windows, results_per_window, strict=True)
        ]
        main = columns[windows.index(state.window)]
        spark: list[str] = []
        spark_today = None
        if series is not None and not main.get("not_meaningful"):
            points = series[_filters_key(filters, state.window)][metric_key]
            partial = figures.partial_index(points, company_today())
            spark = figures.sparkline_points([point["value"] for point in points], partial=partial)
            spark_today = figures.sparkline_partial([point["value"] for point in points], partial)
        tiles.append(
            {
                "metric": metric_key,
                "label": str(metric.label),
                "unit": metric.unit,
                "help": str(metric.help),
                "direction": metric.direction,
                "columns": columns,
                "has_parts": main["numerator"] is not None or main["denominator"] is not None,
                "numerator_text": _ratio_part_text(main["numerator"]),
                "denominator_text": _ratio_part_text(main["denominator"]),
                "spark": spark,
                "spark_today": spark_today,
                "not_meaningful": main.get("not_meaningful"),
                "filtered": all(column["filtered"] for column in columns),
                "records_url": records_url(dashboard=dashboard, metric=metric_key, state=state, filters=filters),
                "values": [column["value"] for column in columns],
            }
        )
    return {"tiles": tiles, "side_by_side": len(windows) > 1, "filter_overridden": overridden,
            "windows": windows}


def _funnel(dashboard: Dashboard, panel: Panel, state: DashboardState) -> dict:
    filters, overridden = _panel_filters(panel, state)
    results = blank_not_meaningful(
        kpi_values(metrics=list(panel.metrics), window=state.window, filters=filters, compare=state.compare),
        dimension=None, filters=filters)
    # The weakest step is judged against its own year to date (figures.weakest_step), as the digest does.
    norms = kpi_values(metrics=list(panel.metrics), window=window_for("ytd", as_of=state.window.end),
                       filters=filters)
    steps = figures.funnel_steps(results, norms)
    for step, result in zip(steps, results, strict=True):
        step["value_text"] = format_value(step["value"], "count") if not result.get("not_meaningful") else _("n/a")
        step["previous_text"] = format_value(step["previous"], "count")
        step["delta"] = format_delta(step["value"], step["previous"], "up")
        step["records_url"] = records_url(dashboard=dashboard, metric=step["metric"], state=state, filters=filters)
        step["filtered"] = result.get("filtered", True)
        step["not_meaningful"] = result.get("not_meaningful")
    compare = dashboard.key == "shared" or any(step["previous"] for step in steps)
    header, units = ["Step", "This period", "Conversion from the step before"], ["text", "count", "percent"]
    if compare:
        header, units = [*header, "Previous period", "Change"], [*units, "count", "percent"]
    export = _export(header, units, [
        [step["label"], step["value"], step["rate"],
         *([step["previous"], _change(step["value"], step["previous"])] if compare else [])]
        for step in steps])
    return {
        "export": export,
        "charts": [{"title": "", "figure": figures.figure_funnel(results, compare_previous=compare, norms=norms)}],
        "compare": compare,
        "compare_label": COMPARISON_LABELS[state.compare],
        "steps": steps,
        "unfiltered": [step["label"] for step in steps if filters and not step["filtered"]],
        "not_meaningful": [f"{step['label']}: {step['not_meaningful']}" for step in steps if step["not_meaningful"]],
        "filter_overridden": overridden,
        "values": [step["value"] for step in steps],
    }


def _change(value, previous) -> float | None:
    """The relative change the page's "Change" column shows, in percent."""
    if value is None or not previous:
        return None
    return round((value - previous) / abs(previous) * 100, 6)


def _breakdown(dashboard: Dashboard, panel: Panel, state: DashboardState) -> dict:
    filters, overridden = _panel_filters(panel, state)
    results = blank_not_meaningful(
        kpi_values(metrics=list(panel.metrics), window=state.window, dimension=panel.dimension,
                   filters=filters, compare=state.compare), dimension=panel.dimension, filters=filters)
    mature_note = ""
    if panel.mature:
        results, mature_note = mature_only(results)
    # A mature rate drills to the mature part of its cohort: the leads its counts are made of.
    drill_windows = {result["metric"]: days for result in results if panel.mature and "mature" in result
                     and (days := mature_window(metric_get(result["metric"]), state.window)) is not None
                     and days.end >= days.start}
    top = TOP_ITEMS.get(panel.dimension or "", TOP_ITEMS_DEFAULT)
    rows = figures.breakdown_rows(results, top=top)
    total_keys = len(figures.breakdown_rows(results, top=None))
    columns = [{"metric": result["metric"], "label": result["label"], "unit": result["unit"],
                "total_text": format_value(result.get("value"), result["unit"])} for result in results]
    table = []
    for row in rows:
        cells = []
        for result in results:
            item = row["cells"].get(result["metric"])
            target = (item or {}).get("target")
            has_target = bool(target and target.get("value") is not None)
            texts = format_values([(item or {}).get("value"), (target or {}).get("value")], result["unit"])
            parts = ""
            if panel.mature and item and item.get("denominator"):
                # The counts behind a mature rate: converted of the mature cohort.
                parts = _("%(numerator)s of %(denominator)s") % {
                    "numerator": format_value(item.get("numerator"), "count"),
                    "denominator": format_value(item.get("denominator"), "count")}
            cells.append(
                {
                    "text": texts[0] if item else "—",
                    "parts_text": parts,
                    "target_text": texts[1] if has_target else "",
                    "records_url": records_url(dashboard=dashboard, metric=result["metric"], state=state,
                                               filters=filters, key=row["key"], dimension=panel.dimension,
                                               window=drill_windows.get(result["metric"]),
                                               part="mature" if result["metric"] in drill_windows else "")
                    if item else "",
                }
            )
        table.append({"label": row["label"], "key": row["key"], "cells": cells})
    return {
        "export": _breakdown_export(panel, results, rows),
        "charts": _breakdown_charts(results, top=top),
        "columns": columns,
        "rows": table,
        "total_keys": total_keys,
        "unfiltered": [result["label"] for result in results if filters and not result.get("filtered", True)],
        "not_meaningful": [f"{result['label']}: {result['not_meaningful']}" for result in results
                           if result.get("not_meaningful")],
        "filter_overridden": overridden,
        "values": [row["key"] for row in rows],
        "mature": panel.mature,
        "mature_note": mature_note,
    }


def _export(header: list[str], units: list[str], rows: list[list], total: list | None = None) -> dict:
    """A panel's table as raw values for the CSV / XLSX download (`units[i]` of column i;
    "text" for labels), in the order and with the rows the page shows."""
    return {"header": header, "units": units, "rows": rows, "total": total}


def _breakdown_export(panel: Panel, results: list[dict], rows: list[dict]) -> dict:
    header, units = [DIMENSION_LABELS.get(panel.dimension or "", panel.dimension or "")], ["text"]
    targeted = {result["metric"] for result in results for row in rows
                if ((row["cells"].get(result["metric"]) or {}).get("target") or {}).get("value") is not None}
    for result in results:
        header.append(result["label"])
        units.append(result["unit"])
        if result["metric"] in targeted:
            header.append(f"{result['label']} target")
            units.append(result["unit"])
    body = []
    for row in rows:
        line: list = [row["label"]]
        for result in results:
            item = row["cells"].get(result["metric"]) or {}
            line.append(item.get("value"))
            if result["metric"] in targeted:
                line.append((item.get("target") or {}).get("value"))
        body.append(line)
    total: list = ["All"]
    for result in results:
        total.append(result.get("value"))
        if result["metric"] in targeted:
            total.append(None)
    return _export(header, units, body, total)


def _breakdown_charts(results: list[dict], *, top: int) -> list[dict]:
    """One chart per unit; when there are several, each is titled with its metrics."""
    units: dict[str, list[str]] = {}
    for result in results:
        units.setdefault(result["unit"], []).append(result["label"])
    charts = figures.figures_breakdown(results, top=top)
    if not charts:
        return []
    titled = len(charts) > 1
    return [{"title": " · ".join(labels) if titled else "", "figure": figure}
            for labels, figure in zip(units.values(), charts, strict=True)]


def _sla(dashboard: Dashboard, panel: Panel, state: DashboardState) -> dict:
    filters, overridden = _panel_filters(panel, state)
    results = kpi_values(metrics=list(panel.metrics), window=state.window, dimension=panel.dimension,
                         filters=filters, compare=state.compare)
    by_metric = {result["metric"]: result for result in results}
    worked_target = float(settings.SLA_WORKED_TARGET_PCT)
    summary = []
    for result in results:
        metric = metric_get(result["metric"])
        summary.append(
            {
                "metric": result["metric"],
                "label": result["label"],
                "help": str(metric.help),
                "value_text": format_value(result.get("value"), result["unit"]),
                "delta": format_delta(result.get("value"), (result.get("previous") or {}).get("value"), metric.direction),
                "numerator_text": _ratio_part_text(result.get("numerator")),
                "denominator_text": _ratio_part_text(result.get("denominator")),
                "has_parts": result.get("numerator") is not None,
                "records_url": records_url(dashboard=dashboard, metric=result["metric"], state=state, filters=filters),
            }
        )
    rows = []
    delivered = by_metric.get("leads_delivered") or {"breakdown": []}
    for row in figures.breakdown_rows(results, top=None):
        item = row["cells"].get("leads_delivered") or {}
        target = item.get("target") or {}
        worked = row["cells"].get("leads_worked_rate") or {}
        compliance = row["cells"].get("sla_attempt_compliance") or {}
        # Two sides, never one verdict: a rep given too few leads is marketing's shortfall.
        marketing_text, marketing_tone = side_status([target.get("status")])
        sales_text, sales_tone = side_status([(worked.get("target") or {}).get("status"),
                                              (compliance.get("target") or {}).get("status")])
        rows.append(
            {
                "label": row["label"],
                "delivered_text": format_value(item.get("value"), "count"),
                "sla_text": format_value(target.get("value"), "count"),
                "pace_text": format_value(target.get("pace"), "count"),
                "delivered_ok": {"good": True, "bad": False}.get(marketing_tone),
                "marketing_status": marketing_text, "marketing_tone": marketing_tone,
                "worked_text": format_value(worked.get("value"), "percent"),
                "worked_ok": {"on_target": True, "below_target": False}.get((worked.get("target") or {}).get("status")),
                "sales_status": sales_text, "sales_tone": sales_tone,
                "compliance_text": format_value(compliance.get("value"), "percent"),
                "records_url": records_url(dashboard=dashboard, metric="leads_delivered", state=state,
                                           filters=filters, key=row["key"], dimension=panel.dimension),
            }
        )
    has_reps = bool(delivered.get("breakdown"))
    export = _export(["Rep", "Delivered", "SLA", "Worked", "Attempt compliance"],
                     ["text", "count", "count", "percent", "percent"], [
        [row["label"], (row["cells"].get("leads_delivered") or {}).get("value"),
         ((row["cells"].get("leads_delivered") or {}).get("target") or {}).get("value"),
         (row["cells"].get("leads_worked_rate") or {}).get("value"),
         (row["cells"].get("sla_attempt_compliance") or {}).get("value")]
        for row in figures.breakdown_rows(results, top=None)])
    return {
        "export": export,
        "summary": summary,
        "rows": rows,
        "worked_target": worked_target,
        "charts": [
            {"title": _("Leads delivered per rep vs SLA"), "figure": figures.figure_sla_delivered(results)},
            {"title": _("Worked (SLA {target} %) and attempt compliance per rep").format(target=f"{worked_target:g}"),
             "figure": figures.figure_sla_worked(results, worked_target=worked_target)},
        ] if has_reps else [],
        "filter_overridden": overridden,
        "values": [result.get("value") for result in results] + [row["label"] for row in rows],
    }


def _velocity(dashboard: Dashboard, panel: Panel, state: DashboardState) -> dict:
    filters, overridden = _panel_filters(panel, state)
    results = kpi_values(metrics=list(panel.metrics), window=state.window, filters=filters,
                         compare=state.compare)
    stages = [
        {
            "label": result["label"],
            "value_text": format_value(result.get("value"), "days"),
            "delta": format_delta(result.get("value"), (result.get("previous") or {}).get("value"), "down"),
            "records_url": records_url(dashboard=dashboard, metric=result["metric"], state=state, filters=filters),
        }
        for result in results
    ]
    return {"charts": [{"title": "", "figure": figures.figure_velocity(results)}], "stages": stages, "filter_overridden": overridden,
            "values": [result.get("value") for result in results]}


def _series(dashboard: Dashboard, panel: Panel, state: DashboardState, *, series: PageSeries) -> dict:
    filters, overridden = _panel_filters(panel, state)
    grain = state.window.grain()
    lines = []
    for metric_key in panel.metrics:
        metric = metric_get(metric_key)
        points = series[_filters_key(filters, state.window)][metric_key]
        lines.append({"label": str(metric.label), "unit": metric.unit, "points": points})
    notes = annotations_for(start=state.window.start, end=state.window.end, filters=filters)
    return {
        "charts": [{"title": "", "figure": figures.annotate(figures.figure_series(lines, grain=grain, today=company_today()),
                                                             notes, start=state.window.start, end=state.window.end),
                    "annotatable": True}],
        "grain": grain,
        "filter_overridden": overridden,
        "values": [point["value"] for line in lines for point in line["points"]],
    }


_BUILDERS = {"funnel": _funnel, "breakdown": _breakdown, "sla": _sla, "velocity": _velocity}


def _has_data(values: Sequence) -> bool:
    return any(value not in (None, 0, 0.0, "") for value in values)


ROW_UNITS = 6


def _units(panel: dict) -> int:
    """How much of a 6-unit row a panel wants: a small tile group or a one-metric chart shares a row.

    A board panel's own width (thirds of a row) wins over the automatic choice."""
    if panel.get("width"):
        return panel["width"] * 2
    if panel["kind"] == "tiles":
        return {1: 2, 2: 3, 3: 4}.get(len(panel["tiles"]), ROW_UNITS)
    if panel["kind"] in ("breakdown", "velocity") and len(panel.get("columns") or [None]) == 1:
        return 3
    return ROW_UNITS


def _place(panels: list[dict]) -> None:
    """Pack panels into rows in order; the last panel of a row stretches to fill it."""
    row: list[dict] = []
    used = 0
    for panel in [*panels, None]:
        wanted = ROW_UNITS if panel is None else _units(panel)
        if row and used + wanted > ROW_UNITS:
            row[-1]["span"] += ROW_UNITS - used
            row, used = [], 0
        if panel is not None:
            panel["span"] = wanted
            row.append(panel)
            used += wanted


def dashboard_page(*, dashboard: Dashboard, state: DashboardState, sparklines: bool = True) -> dict:
    """Every panel of the dashboard evaluated for the reader's state, plus freshness."""
    series = _page_series(dashboard, state, sparklines=sparklines)
    panels = []
    for index, panel in enumerate(dashboard.panels):
        own = panel_state(panel, state)
        if panel.kind == "tiles":
            body = _tiles(dashboard, panel, own, series=series if sparklines else None)
            body["values"] = [value for tile in body["tiles"] for value in tile["values"]]
        elif panel.kind == "series":
            body = _series(dashboard, panel, own, series=series)
        else:
            body = _BUILDERS[panel.kind](dashboard, panel, own)
        panel_filters = panel.filters_for_query
        for number, chart in enumerate(body.get("charts", [])):
            chart["id"] = f"p{index}-chart{number}"
        panels.append(
            {
                "id": f"p{index}",
                "kind": panel.kind,
                "title": str(panel.title),
                "dimension": panel.dimension,
                "dimension_label": DIMENSION_LABELS.get(panel.dimension or "", panel.dimension or ""),
                "own_filter": ", ".join(label for labels in filter_value_labels(panel_filters).values()
                                        for label in labels),
                "has_data": _has_data(body["values"]),
                "width": panel.width,
                # a panel's fixed window, named on it, since the switcher does not move it
                "own_window": own.window if own is not state else None,
                **body,
            }
        )
    _place(panels)
    return {
        "attention": page_attention(dashboard=dashboard, state=state),
        "panels": panels,
        "has_data": any(panel["has_data"] for panel in panels),
        "sources": sources_for(dashboard.metrics),
        "facts_as_of": facts_as_of(),
        "recompute_pending": recompute_pending(),
    }


def page_attention(*, dashboard: Dashboard, state: DashboardState) -> dict:
    """The banner: the dashboard's one attention list for the reader's window, on complete days
    (as of yesterday unless the reader pinned a day), unfiltered like the digest's."""
    window = state.window
    if window.name == "custom":
        return layout_attention(dashboard, "custom", start=window.start, end=window.end)
    return layout_attention(dashboard, window.name, state.as_of or None)


FILTER_LIMIT = 500


def dashboard_filter_options(*, dashboard: Dashboard, window: Window | None = None) -> list[dict]:
    """The channel / campaign / owner choices, for the dimensions the dashboard's metrics carry.

    Campaigns and people are those with data in the window (keys of the dashboard's facts
    dated in it, so a campaign that ended last year or a rep without a lead is not offered),
    named as people read them; channels are the fixed list.
    """
    from smarketing.funnel.models import Channel
    from smarketing.kpis.models import Fact

    carried: set[str] = set()
    measures: set[str] = set()
    for metric_key in dashboard.metrics:
        metric = metric_get(metric_key)
        carried.update(metric.dimensions)
        measures.update(metric.measures)
    window = window or window_for("mtd")
    groups = []
    if "channel" in carried:
        groups.append({"dimension": "channel", "label": DIMENSION_LABELS["channel"],
                       "options": [(f"channel:{value}", label) for value, label in Channel.choices]})
    for dimension, label in (("campaign", DIMENSION_LABELS["campaign"]), ("owner", DIMENSION_LABELS["owner"])):
        if dimension not in carried:
            continue
        keys = list(Fact.objects.filter(dimension=dimension, measure__in=measures, day__gte=window.start,
                                        day__lte=window.end).exclude(key=NONE_KEY)
                    .values_list("key", flat=True).distinct()[:FILTER_LIMIT])
        labels = key_labels(dimension=dimension, keys=keys)
        options = sorted(((f"{dimension}:{key}", labels.get(key, key)) for key in keys), key=lambda o: o[1].lower())
        groups.append({"dimension": dimension, "label": label, "options": options})
    return [group for group in groups if group["options"]]


def _words_now(value):
    """`value` (a page, a panel's fields) with every lazy translated text replaced by the text it reads now.

    A page is cached per language, so its words can be fixed when it is stored. Unpickling a
    lazy text builds a new class each time (Django's `_lazy_proxy_unpickle`): a cached page
    held 18, so every warm read built 18 classes and left ~2,600 objects to the collector."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, dict):
        return {key: _words_now(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_words_now(item) for item in value]
    if type(value) is tuple:
        return tuple(_words_now(item) for item in value)
    return value


def _page_key(dashboard: Dashboard, state: DashboardState) -> str:
    # The layout itself is part of the key (every field of every panel): an own board's panels
    # change when it is edited. A lazy translated text's repr names its address: its words count.
    layout = tuple(_words_now(dataclasses.astuple(panel)) for panel in dashboard.panels)
    return answer_key("dashboards:page", (
        dashboard.key, str(dashboard.title), layout, dashboard.side_by_side,
        state.window, state.compare, state.filter_dimension, state.filter_values,
    ))


def dashboard_page_cached(*, dashboard: Dashboard, state: DashboardState,
                          on_compute: Callable[[], None] | None = None) -> dict:
    """`dashboard_page`, computed once for every reader of the same dashboard, window and
    filter until what it reads changes (`answer_cached`: facts move only in a recompute;
    targets, names and notes when they are written). `on_compute`: the rate limit."""
    key = _page_key(dashboard, state)

    def compute() -> dict:
        # Campaigns and reps arrive by import, which moves the version either way (their own
        # import the live one, records that name them the facts'): the filter choices can share
        # the page's key.
        with reads_once():
            return _words_now({**dashboard_page(dashboard=dashboard, state=state),
                               "filter_options": dashboard_filter_options(dashboard=dashboard, window=state.window)})

    page = answer_cached(key, compute, on_compute=on_compute)
    # Pending is about the next recompute, not these numbers: always ask afresh. The key
    # also names the rendered panels, which the template caches as a fragment.
    return {**page, "recompute_pending": recompute_pending(), "page_key": key}


WARM_WINDOWS = ("mtd", "qtd", "ytd", "last_30")


def dashboards_warm(*, windows: Sequence[str] = WARM_WINDOWS) -> int:
    """Compute every dashboard for the windows people open first, unfiltered, if not cached yet.

    Returns how many pages were computed (0 when the facts have not changed since the last
    run: every key is already cached), so the first reader after a recompute is served warm.
    """
    from smarketing.dashboards.layouts import DASHBOARDS
    from smarketing.dashboards.params import DashboardState

    computed = []
    for dashboard in DASHBOARDS.values():
        for name in windows:
            dashboard_page_cached(dashboard=dashboard, state=DashboardState(window=window_for(name)),
                                  on_compute=lambda: computed.append(1))
    return len(computed)
