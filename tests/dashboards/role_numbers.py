"""The numbers each role dashboard's panels show, as plain JSON, for comparing two renderers.

`tests/dashboards/fixtures/role_numbers.json` was captured from the renderer before role
dashboards became board definitions (commit 5adf1dc, branch `judge`: main plus the mature
close-rate panels and the demo's new targets) with

    CAPTURE_ROLE_NUMBERS=1 .venv/bin/python -m pytest -q -p no:cacheprovider \
        tests/dashboards/test_role_numbers.py

on `demo_seed(contacts=400, seed=1, today=2026-03-15)`. The demo data generator
(smarketing/funnel/demo.py) is part of the input: if it changes, check out the pre-board
commit, run the command above there, and copy the fixture over.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "role_numbers.json"
TODAY = dt.date(2026, 3, 15)
WINDOWS = ("mtd", "ytd")


def _plain(value):
    """JSON-safe and stable: Decimals and floats rounded to 6 places."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return round(value, 6)
    try:
        return round(float(value), 6)
    except (TypeError, ValueError):
        return str(value)


def panel_numbers(panel: dict) -> dict:
    """What a reader reads off one rendered panel: values, their texts, table cells."""
    out: dict = {"kind": panel["kind"], "title": panel["title"], "values": [_plain(v) for v in panel["values"]]}
    if panel["kind"] == "tiles":
        out["tiles"] = [
            {"metric": tile["metric"],
             "columns": [[column["value_text"], column["previous_text"], _plain(column["numerator"]),
                          _plain(column["denominator"]), (column["target"] or {}).get("detail")]
                         for column in tile["columns"]]}
            for tile in panel["tiles"]
        ]
    if panel["kind"] == "breakdown":
        out["totals"] = [column["total_text"] for column in panel["columns"]]
        out["rows"] = [[row["label"], *[(cell["text"], cell["target_text"]) for cell in row["cells"]]]
                       for row in panel["rows"]]
    if panel["kind"] == "sla":
        out["summary"] = [item["value_text"] for item in panel["summary"]]
        out["rows"] = [[row["label"], row["delivered_text"], row["sla_text"], row["worked_text"],
                        row["compliance_text"], row["marketing_status"], row["sales_status"]]
                       for row in panel["rows"]]
    if panel["kind"] == "funnel":
        out["steps"] = [[step["value_text"], step["previous_text"], _plain(step.get("rate"))]
                        for step in panel["steps"]]
    if panel["kind"] == "velocity":
        out["stages"] = [stage["value_text"] for stage in panel["stages"]]
    if panel.get("export"):
        out["export"] = [[_plain(cell) for cell in line] for line in panel["export"]["rows"]]
    return out


def page_numbers(page: dict) -> list[dict]:
    return [panel_numbers(panel) for panel in page["panels"]]


def load() -> dict:
    return json.loads(FIXTURE.read_text())


def save(numbers: dict) -> None:
    FIXTURE.write_text(json.dumps(numbers, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
