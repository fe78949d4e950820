"""Valid rows of every resource (the schema's own example rows) and small helpers for tests."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

from smarketing.funnel import services
from smarketing.funnel.importing import example_rows
from smarketing.funnel.schemas import RESOURCES


def valid_rows(resource: str) -> list[dict[str, str]]:
    return example_rows(RESOURCES[resource])


def store_examples(*names: str) -> None:
    """Store the example rows of `names` (and nothing else), in dependency order."""
    for name in RESOURCES:
        if name in names:
            result = services.records_upsert(resource=name, rows=valid_rows(name))
            assert result.ok, result.errors


def to_csv(rows: list[dict[str, Any]], header: list[str] | None = None, *, bom: bool = False) -> bytes:
    header = header or list(rows[0])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(c, "") for c in header])
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


def write_csv(path: Path, rows: list[dict[str, Any]], header: list[str] | None = None, **kwargs) -> Path:
    path.write_bytes(to_csv(rows, header, **kwargs))
    return path


def catalogue_metric_keys() -> set[str]:
    """Metric keys: the KPI registry's when the engine is there, else kpi-catalogue.md's
    (shared/design/ sits beside the repository, or SMARKETING_DESIGN_DIR names it)."""
    try:
        from smarketing.kpis.registry import METRICS
    except ImportError:
        pass
    else:
        return set(METRICS)
    here = Path(__file__).resolve()
    places = [Path(os.environ["SMARKETING_DESIGN_DIR"])] if os.environ.get("SMARKETING_DESIGN_DIR") else []
    places += [parent / "shared" / "design" for parent in here.parents]
    for place in places:
        candidate = place / "kpi-catalogue.md"
        if candidate.exists():
            break
    else:
        raise AssertionError("kpi-catalogue.md not found beside the repository (set SMARKETING_DESIGN_DIR)")
    keys: set[str] = set()
    for line in candidate.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) >= 3 and cells[0] not in ("key", "") and cells[1] in (
            "count", "percent", "currency", "days", "ratio", "currency per day", "currency_per_day",
        ):
            keys.update(k.strip().strip("`") for k in cells[0].split(","))
    return keys
