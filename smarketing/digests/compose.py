"""What a digest says: each subscribed dashboard, whole and in layout order, as email HTML,
plain text and inline PNG charts, plus the headline that goes into the subject.

A dashboard section depends only on the dashboard and the company date, so one
`ComposeCache` renders it once per run and every subscriber's email reuses it; only the
envelope (greeting, date, links, unsubscribe token) is rendered per subscriber.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.formats import date_format, number_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from smarketing.dashboards import figures
from smarketing.dashboards.annotations import annotations_for
from smarketing.dashboards.attention import layout_attention
from smarketing.dashboards.boards import layout_for_key, layout_path
from smarketing.dashboards.layouts import FUNNEL_METRICS, Dashboard, Panel
from smarketing.dashboards.selectors import (
    DIMENSION_LABELS,
    blank_not_meaningful,
    filters_text,
    mature_only,
    not_meaningful,
    panel_window,
)
from smarketing.digests import charts
from smarketing.kpis.formatting import (
    format_date,
    format_delta,
    format_value,
    format_values,
    target_detail,
    target_sentence,
    target_status,
)
from smarketing.kpis.judgement import side_status
from smarketing.kpis.registry import NONE_KEY, metric_get
from smarketing.kpis.selectors import facts_as_of, kpi_series_many, kpi_values
from smarketing.kpis.windows import Window, company_today, window_for

logger = logging.getLogger(__name__)

BREAKDOWN_ROWS = 10
SERIES_WEEKS = 13
ATTENTION_TONES = {"sla": "bad", "target": "bad", "change": "warn", "funnel": "warn"}
ATTENTION_TITLES = {"sla": gettext_lazy("Lead handover SLA"), "target": gettext_lazy("Target"),
                    "change": gettext_lazy("Significant change"), "funnel": gettext_lazy("Funnel")}
HEADLINE_PREFERENCE = ("leads", "revenue")

TONES = {
    "good": {"fg": "#1a7f37", "bg": "#e7f5ec"},
    "bad": {"fg": "#c62828", "bg": "#fdecea"},
    "warn": {"fg": "#8a5300", "bg": "#fff4e0"},
    "neutral": {"fg": "#5b6675", "bg": "#eef1f5"},
}


def status_text(target: dict) -> tuple[str, str]:
    """The dashboards' words and tone for a target status: one wording for page and email."""
    return target_status(target)


@dataclass(frozen=True)
class InlineImage:
    cid: str
    png: bytes
    width: int
    height: int


@dataclass
class Section:
    """One dashboard, composed for one company date."""

    key: str
    title: str
    url: str
    html: str
    text: str
    headline: list[str]
    images: list[InlineImage]
    attention_count: int
    # The "needs attention" items ({"tone", "title", "detail"}) for chat deliveries.
    attention: list[dict] = field(default_factory=list)


@dataclass
class Digest:
    subject: str
    html: str
    text: str
    images: list[InlineImage]
    as_of: dt.date
    local_date: dt.date
    sections: list[Section] = field(default_factory=list)


@dataclass
class ComposeCache:
    """Everything one run may share between subscribers: KPI answers and rendered sections."""

    values: dict[tuple, dict[str, dict]] = field(default_factory=dict)
    attentions: dict[tuple[str, dt.date, str], list[dict]] = field(default_factory=dict)
    sections: dict[tuple, Section] = field(default_factory=dict)
    # Encoded MIME image parts by Content-ID: one base64 encoding per chart per run.
    mime_parts: dict[str, object] = field(default_factory=dict)
    render_charts: bool = True

    # KPI answers and attention items carry words (labels, messages): keyed by language too.
    def attention(self, dashboard_key: str, as_of: dt.date) -> list[dict]:
        key = (dashboard_key, as_of, translation.get_language())
        if key not in self.attentions:
            self.attentions[key] = layout_attention(layout_for_key(dashboard_key), "mtd", as_of)["items"]
        return self.attentions[key]

    def kpis(
        self,
        *,
        metrics: Iterable[str],
        window: Window,
        dimension: str | None = None,
        filters: dict[str, list[str]] | None = None,
    ) -> dict[str, dict]:
        metrics = tuple(dict.fromkeys(metrics))
        frozen = tuple(sorted((k, tuple(v)) for k, v in (filters or {}).items()))
        key = (metrics, window, dimension, frozen, translation.get_language())
        if key not in self.values:
            results = kpi_values(metrics=list(metrics), window=window, dimension=dimension, filters=filters)
            self.values[key] = {result["metric"]: result for result in results}
        return self.values[key]


def tone_style(tone: str) -> dict[str, str]:
    return TONES.get(tone, TONES["neutral"])


def _delta(result: dict, direction: str) -> dict:
    previous = (result.get("previous") or {}).get("value")
    delta = format_delta(result.get("value"), previous, direction)
    tone = {True: "good", False: "bad"}.get(delta["good"], "neutral")
    arrow = f"{delta['arrow']} " if delta["arrow"] else ""
    return {"text": arrow + delta["text"], "plain": delta["text"], "tone": tone, **tone_style(tone)}


def _target(result: dict, unit: str) -> dict | None:
    target = result.get("target")
    if not target or not target.get("status"):
        return None
    text, tone = status_text(target)
    detail = target_detail(result.get("value"), target, unit)
    return {"status": target["status"], "text": text, "detail": detail,
            "sentence": target_sentence(result.get("value"), target, unit),
            "tone": tone, **tone_style(tone)}


def _change_pct(result: dict) -> float | None:
    value = result.get("value")
    previous = (result.get("previous") or {}).get("value")
    if value is None or previous in (None, 0):
        return None
    return (float(value) - float(previous)) / abs(float(previous)) * 100


def _label(key: str, result: dict | None = None) -> str:
    return str((result or {}).get("label") or metric_get(key).label)


def _formatter(unit: str) -> Callable[[float | None], str]:
    return lambda value: format_value(value, unit)


def _filters_text(filters: dict[str, tuple[str, ...]] | None) -> str:
    return filters_text(filters)


class SectionBuilder:
    """Turns one dashboard layout into template context, charts and attention items."""

    def __init__(self, *, dashboard: Dashboard, as_of: dt.date, cache: ComposeCache, weekly: bool = False) -> None:
        self.dashboard = dashboard
        self.as_of = as_of
        self.cache = cache
        self.mtd = window_for("mtd", as_of=as_of)
        self.ytd = window_for("ytd", as_of=as_of)
        # A tile's second figure: the year to date, or for a weekly digest the last complete week.
        self.second = last_complete_week(as_of) if weekly else self.ytd
        day = pgettext("date format: day, month", "j M")
        self.second_label, self.second_short = (
            (_("Last week ({start}–{end})").format(start=date_format(self.second.start, day),
                                                  end=date_format(self.second.end, day)), _("Last week"))
            if weekly else (_("Year to date"), _("YTD")))
        self.images: list[InlineImage] = []

    def chart(self, name: str, draw: Callable[[], charts.Chart], alt: str) -> dict | None:
        if not self.cache.render_charts:
            return None
        try:
            chart = draw()
        except Exception:
            # The digest goes out without this picture rather than not at all.
            logger.exception("digest chart %s of dashboard %s failed to render", name, self.dashboard.key)
            return None
        # The language is part of the name: the run shares encoded parts by Content-ID.
        cid = f"{self.dashboard.key}-{name}-{self.as_of:%Y%m%d}-{translation.get_language()}@smarketing"
        self.images.append(InlineImage(cid=cid, png=chart.png, width=chart.width, height=chart.height))
        return {"cid": cid, "width": chart.width, "height": chart.height, "alt": alt}

    # --- panels -------------------------------------------------------------------------
    def tiles(self, index: int, panel: Panel) -> dict:
        filters = panel.filters_for_query
        window = panel_window(panel, self.mtd)
        mtd = self.cache.kpis(metrics=panel.metrics, window=window, filters=filters)
        # A panel fixed to the year to date shows it once, not twice.
        second = None if window == self.second else self.second
        ytd = self.cache.kpis(metrics=panel.metrics, window=second, filters=filters) if second else {}
        tiles = []
        for key in panel.metrics:
            meta = metric_get(key)
            now, year = mtd[key], ytd.get(key, {})
            note = ""
            if filters and now.get("filtered") is False:
                note = _("not split by {dimensions}: all records").format(
                    dimensions=", ".join(str(DIMENSION_LABELS.get(d, d)).lower() for d in filters))
            broken = not_meaningful(key, filters) if now.get("filtered", True) else None
            if broken:
                blank = {"value": None, "previous": None, "target": None}
                now, year, note = {**now, **blank}, {**year, **blank}, broken
            label = _label(key, now)
            tiles.append({
                "key": key,
                "label": label,
                "help": str(meta.help),
                "mtd": format_value(now.get("value"), meta.unit),
                "mtd_delta": _delta(now, meta.direction),
                "mtd_short": window_short(window),
                "mtd_versus": versus_text(window),
                "window_note": window.label if window != self.mtd else "",
                "ytd": format_value(year.get("value"), meta.unit) if second else None,
                "ytd_delta": _delta(year, meta.direction),
                "target": _target(now, meta.unit),
                "ytd_target": _target(year, meta.unit),
                "ytd_label": self.second_label,
                "ytd_short": self.second_short,
                "note": note,
            })
        rows = [tiles[i : i + 2] for i in range(0, len(tiles), 2)]
        return {"kind": "tiles", "title": panel.title, "subtitle": _filters_text(panel.filters), "rows": rows,
                "tiles": tiles}

    def breakdown(self, index: int, panel: Panel) -> dict:
        filters = panel.filters_for_query
        window = panel_window(panel, self.mtd)
        results = self.cache.kpis(metrics=panel.metrics, window=window, dimension=panel.dimension,
                                  filters=filters)
        results = {result["metric"]: result for result in blank_not_meaningful(
            list(results.values()), dimension=panel.dimension, filters=filters)}
        mature_note = ""
        if panel.mature:
            matured, mature_note = mature_only(list(results.values()))
            results = {result["metric"]: result for result in matured}
        by_metric = {
            key: {item["key"]: item for item in (results[key].get("breakdown") or [])} for key in panel.metrics
        }
        # Every key any of the panel's metrics has (last-touch credit may go where first-touch
        # did not), ranked by the first metric, then the next.
        merged: dict[str, dict] = {}
        for key in panel.metrics:
            for item_key, item in by_metric[key].items():
                merged.setdefault(item_key, item)

        def rank(item_key: str) -> tuple:
            values = [by_metric[m].get(item_key, {}).get("value") for m in panel.metrics]
            return tuple((v is None, -float(v or 0)) for v in values)

        ordered = sorted(merged, key=rank)
        total = len(ordered)
        items = [merged[key] for key in ordered[:BREAKDOWN_ROWS]]
        keys = [item["key"] for item in items]
        labels = [str(item.get("label") or item["key"]) for item in items]
        units = {metric_get(key).unit for key in panel.metrics}
        metas = {key: metric_get(key) for key in panel.metrics}
        chart_metrics = list(panel.metrics) if len(units) == 1 else [panel.metrics[0]]
        targets = None
        first = by_metric[panel.metrics[0]]
        if len(chart_metrics) == 1 and any(first.get(k, {}).get("target") for k in keys):
            targets = []
            for k in keys:
                target = first.get(k, {}).get("target") or {}
                targets.append(target.get("pace") if target.get("pace") is not None else target.get("value"))
        image = None
        if items:
            unit = metas[chart_metrics[0]].unit
            image = self.chart(
                f"p{index}",
                lambda: charts.bar_chart(
                    labels=labels,
                    series=[
                        (_label(m, results[m]), [by_metric[m].get(k, {}).get("value") for k in keys])
                        for m in chart_metrics
                    ],
                    fmt=_formatter(unit),
                    targets=targets,
                    target_label=_("Target pace"),
                    integer=unit == "count",
                ),
                alt=_("{title}, {window}").format(title=panel.title, window=window_phrase(window)),
            )
        with_target = {m for m in panel.metrics if any(i.get("target") for i in by_metric[m].values())}
        columns = [_("{label} / target").format(label=_label(m, results[m])) if m in with_target
                   else _label(m, results[m]) for m in panel.metrics]
        rows = []
        for key, label in zip(keys, labels, strict=True):
            cells = []
            for m in panel.metrics:
                item = by_metric[m].get(key, {})
                target = item.get("target")
                texts = format_values([item.get("value"), (target or {}).get("value")], metas[m].unit)
                cell = texts[0]
                if target and target.get("value") is not None:
                    cell += f" / {texts[1]}"
                cells.append(cell)
            rows.append({"label": label, "cells": cells})
        # A table next to the chart only says something new when the chart cannot hold every metric.
        table = {"columns": columns, "rows": rows} if (image is None or len(chart_metrics) < len(panel.metrics)
                                                       or targets) else None
        more = _("top {shown} of {total}").format(shown=BREAKDOWN_ROWS, total=total) if total > BREAKDOWN_ROWS else ""
        by = _("by {dimension}").format(dimension=str(DIMENSION_LABELS.get(panel.dimension, panel.dimension)).lower())
        subtitle = " · ".join(part for part in (by, window_phrase(window) if window != self.mtd else "", more,
                                                _filters_text(panel.filters), mature_note,
                                                *(f"{r['label']}: {r['not_meaningful']}" for r in results.values()
                                                  if r.get("not_meaningful"))) if part)
        return {"kind": "breakdown", "title": panel.title, "subtitle": subtitle, "image": image, "table": table,
                "columns": columns, "all_rows": rows, "empty": not items}

    def sla(self, index: int, panel: Panel) -> dict:
        window = panel_window(panel, self.mtd)
        results = self.cache.kpis(metrics=panel.metrics, window=window, dimension=panel.dimension)
        delivered = results.get("leads_delivered") or {}
        others = {key: {i["key"]: i for i in (results[key].get("breakdown") or [])}
                  for key in panel.metrics if key != "leads_delivered"}
        items = sorted(delivered.get("breakdown") or [], key=lambda i: str(i.get("label") or i["key"]))
        rows = []
        for item in items:
            target = item.get("target") or {}
            # Two sides, never one verdict: a rep given too few leads is marketing's shortfall.
            marketing_text, marketing_tone = side_status([target.get("status")])
            worked = others.get("leads_worked_rate", {}).get(item["key"], {})
            compliance = others.get("sla_attempt_compliance", {}).get(item["key"], {})
            sales_text, sales_tone = side_status([(worked.get("target") or {}).get("status"),
                                                  (compliance.get("target") or {}).get("status")])
            rows.append({
                "label": str(item.get("label") or item["key"]),
                "delivered": format_value(item.get("value"), "count"),
                "pace": format_value(target.get("pace"), "count"),
                "target": format_value(target.get("value"), "count"),
                "worked": format_value(worked.get("value"), "percent"),
                "compliance": format_value(compliance.get("value"), "percent"),
                "marketing_status": marketing_text, "marketing_style": tone_style(marketing_tone),
                "sales_status": sales_text, "sales_style": tone_style(sales_tone),
                "status": _("marketing: {marketing}, sales: {sales}").format(
                    marketing=_lower_first(marketing_text), sales=_lower_first(sales_text)),
                **tone_style(marketing_tone if marketing_tone == "bad" else sales_tone),
            })
        image = None
        if items:
            image = self.chart(
                f"p{index}",
                lambda: charts.bar_chart(
                    labels=[str(i.get("label") or i["key"]) for i in items],
                    series=[(_label("leads_delivered"), [i.get("value") for i in items])],
                    fmt=_formatter("count"),
                    targets=[(i.get("target") or {}).get("pace") for i in items],
                    target_label=_("SLA pace"),
                    integer=True,
                ),
                alt=_("Leads delivered per rep against the SLA pace"),
            )
        team = [
            {"label": _label(key, results[key]), "value": format_value(results[key].get("value"),
                                                                        metric_get(key).unit),
             "target": _target(results[key], metric_get(key).unit)}
            for key in panel.metrics
        ]
        return {"kind": "sla", "title": panel.title,
                "subtitle": _("{window}, by rep").format(window=window_phrase(window)), "image": image,
                "rows": rows, "team": team, "empty": not items}

    def funnel(self, index: int, panel: Panel) -> dict:
        window = panel_window(panel, self.mtd)
        mtd = self.cache.kpis(metrics=panel.metrics, window=window)
        labels = [_label(key, mtd[key]) for key in panel.metrics]
        current = [mtd[key].get("value") for key in panel.metrics]
        previous = [(mtd[key].get("previous") or {}).get("value") for key in panel.metrics]
        weakest = funnel_weakest_step(cache=self.cache, mtd=window, ytd=self.ytd) \
            if tuple(panel.metrics) == FUNNEL_METRICS else None
        image = self.chart(
            f"p{index}",
            lambda: charts.funnel_chart(
                stages=labels, current=current, previous=previous, fmt=_formatter("count"),
                weakest=list(panel.metrics).index(weakest["metric"]) if weakest else None,
                head=panel.metrics[0] == "visits"),
            alt=_("Funnel, {window} {versus}").format(window=window_phrase(window), versus=versus_text(window)),
        )
        steps = []
        for i, key in enumerate(panel.metrics):
            rate = figures.step_ratio(current[i - 1], current[i]) if i else None
            step = figures.step_ratio_text(rate, labels[i - 1], labels[i]) if i else ""
            steps.append({"label": labels[i], "value": format_value(current[i], "count"),
                          "previous": format_value(previous[i], "count"),
                          "delta": _delta(mtd[key], "up"), "step": step,
                          "weakest": bool(weakest and weakest["metric"] == key)})
        return {"kind": "funnel", "title": panel.title,
                "subtitle": _("{window} {versus}").format(window=window_phrase(window), versus=versus_text(window)),
                "image": image, "steps": steps}

    def velocity(self, index: int, panel: Panel) -> dict:
        window = panel_window(panel, self.mtd)
        mtd = self.cache.kpis(metrics=panel.metrics, window=window)
        ytd = self.cache.kpis(metrics=panel.metrics, window=self.ytd)
        labels = [_label(key, mtd[key]) for key in panel.metrics]
        image = self.chart(
            f"p{index}",
            lambda: charts.bar_chart(
                labels=labels,
                series=[(window.label, [mtd[k].get("value") for k in panel.metrics]),
                        (_("Year to date"), [ytd[k].get("value") for k in panel.metrics])],
                fmt=_formatter("days"),
            ),
            alt=_("Days between funnel stages, {window} and year to date").format(window=window_phrase(window)),
        )
        rows = [{"label": _label(k, mtd[k]), "cells": [format_value(mtd[k].get("value"), "days"),
                                                        format_value(ytd[k].get("value"), "days")]}
                for k in panel.metrics]
        columns = [window.label, _("Year to date")]
        table = None if image else {"columns": columns, "rows": rows}
        return {"kind": "velocity", "title": panel.title,
                "subtitle": _("{window} vs year to date").format(window=window_phrase(window)),
                "image": image, "table": table, "columns": columns, "all_rows": rows}

    def series(self, index: int, panel: Panel) -> dict:
        # Whole weeks only: a week that began this morning would plot as a collapse to zero.
        this_monday = self.as_of - dt.timedelta(days=self.as_of.weekday())
        start = this_monday - dt.timedelta(weeks=SERIES_WEEKS)
        if panel.window:
            # The whole weeks of the panel's own window (at least the last one).
            fixed = window_for(panel.window, as_of=self.as_of).start
            start = min(fixed - dt.timedelta(days=fixed.weekday()), this_monday - dt.timedelta(weeks=1))
        window = window_for("custom", start=start, end=this_monday - dt.timedelta(days=1))
        weeks = (this_monday - start).days // 7
        filters = panel.filters_for_query
        lines = []
        buckets: list[str] = []
        series = kpi_series_many(metrics=list(panel.metrics), window=window, grain="week", filters=filters)
        for key in panel.metrics:
            points = series[key]
            buckets = [date_format(_day(point["start"]), pgettext("chart axis date: day, month", "j M"))
                       for point in points]
            lines.append((_label(key), [point.get("value") for point in points]))
        unit = metric_get(panel.metrics[0]).unit
        marks = _note_marks(series[panel.metrics[0]], annotations_for(start=window.start, end=window.end,
                                                                       filters=filters))
        image = None
        if buckets:
            # Never set while the window ends before this Monday; kept so a window reaching
            # today would draw its bucket as "so far" like the dashboard does.
            partial = figures.partial_index(series[panel.metrics[0]], company_today())
            image = self.chart(f"p{index}", lambda: charts.line_chart(labels=buckets, series=lines,
                                                                      fmt=_formatter(unit), partial=partial,
                                                                      partial_label=_("this week so far"), marks=marks),
                               alt=_("{title}, weekly over the last {weeks} weeks").format(
                                   title=panel.title, weeks=weeks))
        latest = [{"label": name, "value": format_value(values[-1] if values else None, unit)}
                  for name, values in lines]
        return {"kind": "series", "title": panel.title, "latest": latest, "image": image,
                "subtitle": _("weekly, the last {weeks} full weeks").format(weeks=weeks)}

    # --- summaries ----------------------------------------------------------------------
    def attention(self) -> list[dict]:
        """The dashboard's one attention list (the banner's and the API's), month to date."""
        items = self.cache.attention(self.dashboard.key, self.as_of)
        return [{"tone": ATTENTION_TONES[item["kind"]], "title": str(ATTENTION_TITLES[item["kind"]]),
                 "detail": item["message"], "item": item} for item in items]

    def build(self) -> Section:
        panels = []
        for index, panel in enumerate(self.dashboard.panels):
            try:
                panels.append(getattr(self, panel.kind)(index, panel))
            except Exception:
                # One panel's failure (a metric the engine cannot answer) must not cost the
                # reader the rest of the morning's numbers; the log says what broke.
                logger.exception("digest panel %r of dashboard %s failed", panel.title, self.dashboard.key)
                panels.append({"kind": panel.kind, "title": str(panel.title), "subtitle": "", "failed": True})
        attention = self.attention()
        sla = sla_status(cache=self.cache, mtd=self.mtd)
        url = dashboard_url(self.dashboard.key)
        context = {
            "dashboard": self.dashboard, "panels": panels, "attention": attention, "sla": sla, "url": url,
            "tones": TONES, "mtd": self.mtd, "ytd": self.ytd,
        }
        return Section(
            key=self.dashboard.key,
            title=str(self.dashboard.title),
            url=url,
            html=render_to_string("digests/email/section.html", context),
            text=render_to_string("digests/email/section.txt", context),
            headline=self.headline(),
            images=self.images,
            attention_count=sum(1 for item in attention if item["tone"] in ("bad", "warn")),
            attention=attention,
        )

    def headline(self) -> list[str]:
        metrics = self.dashboard.metrics
        chosen = [key for key in HEADLINE_PREFERENCE if key in metrics]
        if len(chosen) < 2:
            tiles = [key for panel in self.dashboard.panels if panel.kind == "tiles" for key in panel.metrics]
            chosen = list(dict.fromkeys([*chosen, *tiles, *metrics]))[:2]
        results = self.cache.kpis(metrics=chosen, window=self.mtd)
        parts = []
        for key in chosen:
            meta = metric_get(key)
            result = results[key]
            value = compact_value(result.get("value"), meta.unit)
            target = result.get("target") or {}
            if target.get("status"):
                note = status_text(target)[0].lower()
                if target.get("pace") is not None:
                    note = {"behind": _("behind target"), "ahead": _("ahead of target")}.get(target["status"], note)
            else:
                change = _change_pct(result)
                note = f"{change:+.0f} %" if change is not None else ""
            label = _label(key, result)
            label = label if label.isupper() else label[:1].lower() + label[1:]
            parts.append(_("{label} {value} ({note})").format(label=label, value=value, note=note) if note
                         else _("{label} {value}").format(label=label, value=value))
        return parts


def _lower_first(text: str) -> str:
    """"Short of SLA" → "short of SLA"; a leading acronym keeps its capitals ("SLA missed")."""
    first = text.split(" ", 1)[0]
    if len(first) > 1 and first.isupper():
        return text
    return text[:1].lower() + text[1:]


def _day(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def compact_value(value: float | int | None, unit: str) -> str:
    """Subject-line numbers: money in thousands ("$84k") where the page would say "$84,120"."""
    if value is not None and unit == "currency" and 10_000 <= abs(float(value)) < 1_000_000:
        text = format_value(round(float(value) / 1000) * 1000, unit)
        return text.replace(",000", "k")
    return format_value(value, unit)


def window_short(window: Window) -> str:
    """The tile's short name of its window: "MTD", "QTD", "YTD", or the window's words."""
    return str({"mtd": _("MTD"), "qtd": _("QTD"), "ytd": _("YTD")}.get(window.name, window.label))


def window_phrase(window: Window) -> str:
    """The window in a sentence: "month to date", "last 30 days"."""
    return _lower_first(window.label)


def versus_text(window: Window) -> str:
    """What a window's change compares with (the engine's default: the same span one period back)."""
    if window.name in ("mtd", "qtd", "ytd"):
        return str({"mtd": _("vs same days last month"), "qtd": _("vs same days last quarter"),
                    "ytd": _("vs same days last year")}[window.name])
    return _("vs the {days} days before").format(days=window.days)


def funnel_weakest_step(*, cache: ComposeCache, mtd: Window, ytd: Window) -> dict | None:
    """The dashboards' weakest step (figures.weakest_step): furthest below its year-to-date ratio."""
    now = cache.kpis(metrics=FUNNEL_METRICS, window=mtd)
    year = cache.kpis(metrics=FUNNEL_METRICS, window=ytd)
    counts = [now[key].get("value") for key in FUNNEL_METRICS]
    norms = [year[key].get("value") for key in FUNNEL_METRICS]
    index = figures.weakest_step(counts, norms)
    if index is None:
        return None
    before, after = FUNNEL_METRICS[index - 1], FUNNEL_METRICS[index]
    rate = figures.step_ratio(counts[index - 1], counts[index])
    norm = figures.step_ratio(norms[index - 1], norms[index])
    step = f"{_label(before, now[before])} → {_label(after, now[after])}"
    detail = _("{ratio} this month").format(
        ratio=figures.step_ratio_text(rate, _label(before, now[before]), _label(after, now[after])))
    if norm is not None:
        detail = _("{detail} against {norm} year to date").format(detail=detail, norm=number_format(norm, 1))
    return {"step": step, "detail": detail, "rate": rate, "norm": norm, "metric": after}


def sla_status(*, cache: ComposeCache, mtd: Window) -> dict:
    """The lead handover SLA in two lines: marketing's deliveries and sales' follow-up."""
    results = cache.kpis(metrics=("leads_delivered", "leads_worked_rate", "sla_attempt_compliance"),
                         window=mtd, dimension="owner")
    reps = [rep for rep in results["leads_delivered"].get("breakdown") or [] if rep["key"] != NONE_KEY]
    judged = [rep for rep in reps if (rep.get("target") or {}).get("status")]
    short = [rep for rep in judged if rep["target"]["status"] in ("behind", "missed")]
    worked, compliance = results["leads_worked_rate"], results["sla_attempt_compliance"]
    sales = [(worked.get("target") or {}).get("status"), (compliance.get("target") or {}).get("status")]
    sales_text, sales_tone = side_status(sales)
    worked_target = (worked.get("target") or {}).get("value")
    marketing = _("{short} of {judged} reps short of their delivery SLA").format(
        short=len(short), judged=len(judged)) if judged else _("no rep has a delivery SLA")
    worked_text = format_value(worked.get("value"), "percent")
    compliance_text = format_value(compliance.get("value"), "percent")
    if worked_target is not None:
        sales_line = _("{worked} of delivered leads worked (SLA {target}), attempt compliance {compliance}: "
                       "{verdict}").format(worked=worked_text, target=format_value(worked_target, "percent"),
                                           compliance=compliance_text, verdict=_lower_first(sales_text))
    else:
        sales_line = _("{worked} of delivered leads worked, attempt compliance {compliance}: {verdict}").format(
            worked=worked_text, compliance=compliance_text, verdict=_lower_first(sales_text))
    ok = not short and sales_tone != "bad"
    judged_any = bool(judged) or sales_tone == "good"
    tone = "bad" if not ok else "good" if judged_any else "neutral"
    label = {"bad": _("SLA at risk"), "good": _("SLA met"), "neutral": _("SLA not judged yet")}[tone]
    text = _("Marketing: {marketing} · Sales: {sales}").format(marketing=marketing, sales=sales_line)
    return {"ok": ok, "text": text, "marketing": marketing,
            "sales": sales_line, "label": label, "tone": tone, **tone_style(tone)}


def dashboard_url(key: str) -> str:
    return f"{settings.SITE_URL}{layout_path(key)}?window=mtd"


def last_complete_week(as_of: dt.date) -> Window:
    """Monday to Sunday of the last week that ended before `as_of`'s day."""
    end = as_of - dt.timedelta(days=as_of.weekday() + 1)
    return window_for("custom", start=end - dt.timedelta(days=6), end=end)


def section_compose(*, dashboard_key: str, as_of: dt.date, cache: ComposeCache, weekly: bool = False) -> Section:
    # Sections are words: one per language in a run that writes to readers of both.
    cache_key = (dashboard_key, as_of, weekly, translation.get_language())
    if cache_key not in cache.sections:
        builder = SectionBuilder(dashboard=layout_for_key(dashboard_key), as_of=as_of, cache=cache, weekly=weekly)
        cache.sections[cache_key] = builder.build()
    return cache.sections[cache_key]


def covered_days(window: Window) -> str:
    """"1–29 Nov 2026" ("2026年11月1日–29日"): the complete days a digest reports (as_of is yesterday)."""
    if window.start == window.end:
        return format_date(window.end)
    if window.start.month == window.end.month:
        return _("{start}–{end}").format(
            start=date_format(window.start, pgettext("date range start within one month", "j")),
            end=date_format(window.end, pgettext("date range end within one month", "j M Y")))
    return _("{start} – {end}").format(
        start=date_format(window.start, pgettext("date range start across months", "j M")),
        end=format_date(window.end))


def greeting_for(hour: int) -> str:
    if hour < 12:
        return _("Good morning")
    return _("Good afternoon") if hour < 18 else _("Good evening")


def digest_subject(*, sections: list[Section], local_date: dt.date) -> str:
    title = sections[0].title if len(sections) == 1 else f"{sections[0].title} +{len(sections) - 1}"
    day = date_format(local_date, pgettext("date format: short weekday, day, month", "D j M"))
    parts = [title, day, *sections[0].headline]
    return " · ".join(parts)[:250]


def digest_compose(
    *,
    dashboards: list[str],
    as_of: dt.date,
    local_date: dt.date,
    recipient_name: str,
    local_hour: int = 8,
    settings_url: str,
    unsubscribe_url: str,
    cache: ComposeCache | None = None,
    weekly: bool = False,
) -> Digest:
    """The whole email for one subscriber: shared sections inside a personal envelope."""
    cache = cache or ComposeCache()
    sections = [section_compose(dashboard_key=key, as_of=as_of, cache=cache, weekly=weekly) for key in dashboards]
    freshness = facts_as_of()
    attention = sum(section.attention_count for section in sections)
    context = {
        "sections": [{"section": s, "html": mark_safe(s.html), "text": s.text} for s in sections],
        "recipient_name": recipient_name,
        "greeting": greeting_for(local_hour),
        "local_date": local_date,
        "as_of": as_of,
        "covers": covered_days(window_for("mtd", as_of=as_of)),
        "facts_as_of": freshness,
        "settings_url": settings_url,
        "unsubscribe_url": unsubscribe_url,
        "site_url": settings.SITE_URL,
        "attention": attention,
        "preheader": _(", ").join(sections[0].headline),
        "weekly": weekly,
        "week": last_complete_week(as_of) if weekly else None,
    }
    images: dict[str, InlineImage] = {}
    for section in sections:
        for image in section.images:
            images.setdefault(image.cid, image)
    return Digest(
        subject=digest_subject(sections=sections, local_date=local_date),
        html=render_to_string("digests/email/digest.html", context),
        text=render_to_string("digests/email/digest.txt", context),
        images=list(images.values()),
        as_of=as_of,
        local_date=local_date,
        sections=sections,
    )


def digest_chat_payload(*, digest: Digest, settings_url: str) -> dict:
    """What a Slack or Teams destination gets of a digest: per dashboard, the headline tiles and
    the items that need attention (alerts.senders renders it as Block Kit or an Adaptive Card)."""
    return {
        "kind": "digest",
        "title": digest.subject,
        "url": digest.sections[0].url if digest.sections else settings.SITE_URL,
        "footer": _("Data as of {day} · change or stop this digest: {url}").format(
            day=format_date(digest.as_of), url=settings_url),
        "sections": [
            {"title": section.title, "url": section.url, "headline": list(section.headline),
             "attention": [{"title": item["title"], "detail": item["detail"]} for item in section.attention
                           if item["tone"] in ("bad", "warn")]}
            for section in digest.sections
        ],
    }


def _note_marks(points: list[dict], notes: list[dict]) -> list[tuple[int, str]]:
    """Each note at the index of the weekly bucket holding its day."""
    marks = []
    for note in notes:
        for index, point in enumerate(points):
            if _day(point["start"]) <= note["day"] <= _day(point["end"]):
                marks.append((index, note["text"]))
                break
    return marks
