"""Digest chart images: today's bucket drawn apart, and the funnel readable next to visits."""

from __future__ import annotations

import io

from matplotlib.figure import Figure
from PIL import Image

from smarketing.digests import charts


def _pixels(chart: charts.Chart) -> Image.Image:
    return Image.open(io.BytesIO(chart.png)).convert("RGB")


def _texts(monkeypatch) -> list[str]:
    """Every text matplotlib draws (labels, annotations, tick labels), recorded at save time."""
    seen: list[str] = []
    real = Figure.savefig

    def record(self, *args, **kwargs):
        for axes in self.axes:
            seen.extend(child.get_text() for child in axes.get_children() if hasattr(child, "get_text"))
            seen.extend(label.get_text() for label in axes.get_yticklabels())
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", record)
    return seen


def test_line_chart_marks_the_bucket_so_far(monkeypatch):
    texts = _texts(monkeypatch)
    args = {"labels": ["1 Mar", "2 Mar", "3 Mar"], "series": [("Leads", [30, 32, 4])], "fmt": str}
    plain = charts.line_chart(**args)
    assert "today so far" not in texts
    marked = charts.line_chart(**args, partial=2, partial_label="today so far")
    assert "today so far" in texts
    assert _pixels(plain).tobytes() != _pixels(marked).tobytes()


def test_funnel_chart_shows_visits_as_a_number_and_step_ratios_in_words(monkeypatch):
    texts = _texts(monkeypatch)
    charts.funnel_chart(stages=["Visits", "Leads", "MQLs"], current=[10000, 400, 100], previous=[8000, 320, 90],
                        fmt=lambda value: f"{value:,.0f}", weakest=2, head=True)
    assert "Visits: 10,000" in texts
    assert "4.0 leads per 100 visits" in texts and "25.0 MQLs per 100 leads" in texts
    # visits are not a bar: only leads and MQLs are rows
    assert [text for text in texts if text in ("Visits", "Leads", "MQLs")] == ["Leads", "MQLs"]
