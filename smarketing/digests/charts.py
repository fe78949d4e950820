"""Digest charts as PNG bytes, drawn server-side with matplotlib's Agg canvas (no browser).

Figures use the object API (never pyplot's global state) so concurrent workers can draw
at once, and paint an opaque white background so dark-mode mail clients cannot invert
the plot area into unreadable black-on-black.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

from django.utils.translation import gettext as _
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullLocator
from matplotlib.transforms import blended_transform_factory
from PIL import Image

from smarketing.dashboards.figures import LABEL_CHARS, step_ratio, step_ratio_text

INK = "#1b2430"
MUTED = "#5b6675"
GRID = "#e6ebf1"
ACCENT = "#2f6fde"
ACCENT_LIGHT = "#c9dafa"
GOOD = "#1a7f37"
BAD = "#c62828"
TARGET = "#b26a00"
PALETTE = ("#2f6fde", "#1a9e8f", "#b26a00", "#8e44ad", "#c62828", "#5b6675")

# Chinese labels need a CJK font: Noto Sans CJK (Debian fonts-noto-cjk, installed by the
# Makefile and the Dockerfile), or the file SMARKETING_CJK_FONT names. Latin text keeps
# DejaVu Sans; matplotlib falls back glyph by glyph to the next family in the list.
CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
)


def _register_cjk_fonts() -> tuple[str, ...]:
    names: list[str] = []
    for path in (os.environ.get("SMARKETING_CJK_FONT", ""), *CJK_FONT_FILES):
        if path and os.path.exists(path):
            font_manager.fontManager.addfont(path)
            names.append(font_manager.FontProperties(fname=path).get_name())
    return tuple(dict.fromkeys(names))


CJK_FONTS = _register_cjk_fonts()
FONT_FAMILY = ["DejaVu Sans", *CJK_FONTS]

WIDTH_PX = 560  # shown at this width in the email; drawn at twice the density for sharp screens
# Timeline notes on a 13-week chart: a label every third bucket at most, cut to the
# dashboard's label length, which stays within those three buckets.
MARK_LABEL_GAP = 3
DPI = 200


@dataclass(frozen=True)
class Chart:
    png: bytes
    width: int
    height: int


Formatter = Callable[[float], str]


# Configuration, not drawing state: set once, read by every figure of every worker thread.
matplotlib.rcParams["font.family"] = FONT_FAMILY


def _figure(height_px: int) -> tuple[Figure, object]:
    figure = Figure(figsize=(WIDTH_PX / 100, height_px / 100), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1, facecolor="white")
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color(GRID)
    axes.tick_params(colors=MUTED, labelsize=7.5, length=0)
    return figure, axes


def _png(figure: Figure, height_px: int) -> Chart:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor="white", dpi=DPI)
    # A flat chart needs no 24-bit colour: a 256-colour palette keeps it sharp at about a
    # third of the bytes, and every subscriber's copy of every chart goes over SMTP.
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    small = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(small, format="PNG", optimize=True)
    return Chart(png=small.getvalue(), width=WIDTH_PX, height=height_px)


def _shorten(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bar_chart(
    *,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    fmt: Formatter,
    targets: Sequence[float | None] | None = None,
    target_label: str = "",
    integer: bool = False,
) -> Chart:
    """Horizontal bars, one row per label, one bar per series (grouped); optional target ticks."""
    rows = len(labels)
    groups = len(series)
    height_px = max(120, 34 + rows * (14 + 9 * groups))
    figure, axes = _figure(height_px)
    # One or two rows would otherwise stretch into slabs: keep bars about one text line thick.
    bar_height = (0.78 if rows > 2 else 0.5) / groups
    positions = list(range(rows))
    largest = 0.0
    for index, (name, values) in enumerate(series):
        numbers = [float(v) if v is not None else 0.0 for v in values]
        largest = max([largest, *numbers, *(float(t) for t in (targets or []) if t is not None)])
        offsets = [p + (index - (groups - 1) / 2) * bar_height for p in positions]
        color = PALETTE[index % len(PALETTE)]
        bars = axes.barh(offsets, numbers, height=bar_height * 0.9, color=color, label=name, zorder=2)
        for bar, value in zip(bars, values, strict=True):
            text = fmt(value) if value is not None else "—"
            axes.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {text}", va="center",
                      ha="left", fontsize=7, color=INK, zorder=3)
    if targets:
        for position, target in zip(positions, targets, strict=True):
            if target is None:
                continue
            axes.plot([target, target], [position - 0.45, position + 0.45], color=TARGET, linewidth=1.6,
                      zorder=4, solid_capstyle="butt")
        axes.plot([], [], color=TARGET, linewidth=1.6, label=target_label or _("Target pace"))
    axes.set_yticks(positions, [_shorten(label) for label in labels], fontsize=7.5, color=INK)
    axes.invert_yaxis()
    axes.set_xlim(0, (largest or 1) * 1.22)
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: fmt(value)))
    axes.xaxis.set_major_locator(MaxNLocator(4, integer=integer))  # no "0.4 deals"
    axes.grid(axis="x", color=GRID, linewidth=0.7, zorder=0)
    if groups > 1 or targets:
        axes.legend(loc="lower right", fontsize=7, frameon=False, ncol=min(4, groups + (1 if targets else 0)),
                    bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2)
    figure.tight_layout(pad=0.6)
    return _png(figure, height_px)


def funnel_chart(
    *, stages: Sequence[str], current: Sequence[float | None], previous: Sequence[float | None], fmt: Formatter,
    weakest: int | None = None, head: bool = False,
) -> Chart:
    """Stage counts this period (solid) over the previous period (pale), with each step's ratio.

    `head`: the first stage (visits, a thousand times the customers) is a number above the
    bars instead of a bar, so the later stages keep a readable, linear scale. `weakest`
    (an index into `stages`) is drawn in red, as the dashboard does.
    """
    first = 1 if head and len(stages) > 1 else 0
    rows = len(stages) - first
    height_px = 58 + rows * 30
    figure, axes = _figure(height_px)
    now = [float(v or 0) for v in current]
    before = [float(v or 0) for v in previous]
    largest = max([*now[first:], *before[first:], 1.0])
    positions = list(range(rows))
    axes.barh(positions, before[first:], height=0.78, color=ACCENT_LIGHT, zorder=1, label=_("Previous period"))
    colors = [BAD if index == weakest else ACCENT for index in range(first, len(stages))]
    axes.barh(positions, now[first:], height=0.5, color=colors, zorder=2, label=_("This period"))
    for position, value in zip(positions, current[first:], strict=True):
        text = fmt(value) if value is not None else "—"
        axes.text(max(now[first + position], before[first + position]), position, f"  {text}", va="center",
                  ha="left", fontsize=7.5, color=INK, fontweight="bold")
    # Step ratios in a column of their own at the right edge, on the row they lead into.
    column = blended_transform_factory(axes.transAxes, axes.transData)
    for position in positions:
        index = first + position
        rate = step_ratio(now[index - 1], now[index]) if index else None
        if rate is None:
            continue
        axes.text(1.0, position, step_ratio_text(rate, stages[index - 1], stages[index]), transform=column,
                  va="center", ha="right",
                  fontsize=7, color=BAD if index == weakest else INK)
    if first:
        axes.text(0.0, 1.0, f"{stages[0]}: {fmt(current[0])}", transform=axes.transAxes, ha="left", va="bottom",
                  fontsize=8, color=INK, fontweight="bold")
    axes.set_yticks(positions, list(stages[first:]), fontsize=7.5, color=INK)
    axes.invert_yaxis()
    axes.set_xlim(0, largest * 1.9)
    axes.xaxis.set_major_locator(NullLocator())
    axes.xaxis.set_minor_locator(NullLocator())
    axes.spines["bottom"].set_visible(False)
    axes.legend(loc="lower right", fontsize=7, frameon=False, ncol=2, bbox_to_anchor=(1.0, 1.0),
                borderaxespad=0.2)
    figure.tight_layout(pad=0.6)
    return _png(figure, height_px)


def line_chart(
    *, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], fmt: Formatter,
    partial: int | None = None, partial_label: str = "", marks: Sequence[tuple[int, str]] = (),
) -> Chart:
    """One line per series over shared buckets; gaps where a bucket has no value.

    The `partial` bucket (the day or week still running) is drawn apart: a dotted segment
    to a hollow marker labelled `partial_label`, never as the line dropping to zero.
    `marks`: timeline notes as (bucket index, short text), drawn as dotted lines.
    """
    height_px = 200
    figure, axes = _figure(height_px)
    xs = list(range(len(labels)))
    on_top = blended_transform_factory(axes.transData, axes.transAxes)
    notes: dict[int, list[str]] = {}
    for index, text in marks:
        notes.setdefault(index, []).append(text)
    labelled = None
    for index in sorted(notes):
        axes.axvline(index, color=TARGET, linestyle=":", linewidth=1, zorder=1)
        # A label needs room: notes of one week share one, and a week too close to the last
        # labelled one keeps only its line rather than writing over its neighbour.
        if labelled is not None and index - labelled < MARK_LABEL_GAP:
            continue
        texts = notes[index]
        label = texts[0][:LABEL_CHARS] + (f" +{len(texts) - 1}" if len(texts) > 1 else "")
        axes.text(index, 0.98, f" {label}", transform=on_top, fontsize=6, color=TARGET, va="top", ha="left")
        labelled = index
    for index, (name, values) in enumerate(series):
        ys = [float(v) if v is not None else float("nan") for v in values]
        solid = [float("nan") if i == partial else y for i, y in enumerate(ys)]
        color = PALETTE[index % len(PALETTE)]
        axes.plot(xs, solid, color=color, linewidth=1.8, marker="o", markersize=2.6, label=name, zorder=3)
        if index == 0:
            axes.fill_between(xs, solid, color=color, alpha=0.08, zorder=2)
        if partial is not None and partial < len(ys) and ys[partial] == ys[partial]:
            start = max(partial - 1, 0)
            axes.plot(xs[start:partial + 1], ys[start:partial + 1], color=color, linewidth=1.4, linestyle=":",
                      zorder=3)
            axes.plot([xs[partial]], [ys[partial]], marker="o", markersize=4.5, markerfacecolor="white",
                      markeredgecolor=color, markeredgewidth=1.3, linestyle="none", zorder=4)
            if index == 0:
                axes.annotate(partial_label or _("so far"), (xs[partial], ys[partial]), textcoords="offset points", xytext=(0, 6),
                              ha="center", fontsize=6.5, color=MUTED)
    step = max(1, len(labels) // 7)
    axes.set_xticks(xs[::step], list(labels)[::step], fontsize=7, color=MUTED)
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: fmt(value)))
    axes.yaxis.set_major_locator(MaxNLocator(4))
    axes.set_ylim(bottom=0)
    axes.grid(axis="y", color=GRID, linewidth=0.7, zorder=0)
    axes.legend(loc="lower right", fontsize=7, frameon=False, ncol=len(series), bbox_to_anchor=(1.0, 1.0),
                borderaxespad=0.2)
    figure.tight_layout(pad=0.6)
    return _png(figure, height_px)
