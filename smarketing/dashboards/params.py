"""A dashboard's state as it lives in the URL: window, comparison, filter, record key.

`?window=mtd|qtd|ytd|last_30|custom&start=&end=&as_of=&compare=complete|last_year&filter=channel:email`
A link carries the whole state, so it can be shared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils.translation import gettext

from smarketing.kpis.windows import (
    COMPARISON_ALIASES,
    COMPARISON_LABELS,
    Window,
    WindowError,
    comparison_for,
    window_for,
)

SWITCHER_WINDOWS = ("mtd", "qtd", "ytd", "last_30", "custom")
FILTER_DIMENSIONS = ("channel", "campaign", "owner")
DEFAULT_WINDOW = "mtd"


@dataclass(frozen=True)
class DashboardState:
    window: Window
    compare: str = "previous_period"  # one of windows.COMPARISONS
    filter_dimension: str | None = None
    filter_values: tuple[str, ...] = ()
    as_of: str = ""  # the as_of the reader pinned ("" = today)
    errors: tuple[str, ...] = field(default=())

    @property
    def compare_complete(self) -> bool:
        return self.compare == "complete_previous_period"

    @property
    def compare_label(self) -> str:
        return COMPARISON_LABELS[self.compare]

    @property
    def compare_param(self) -> str:
        """The comparison as the URL spells it ("" for the default)."""
        if self.compare == "previous_period":
            return ""
        return next(alias for alias, name in COMPARISON_ALIASES.items() if name == self.compare)

    @property
    def filters(self) -> dict[str, list[str]] | None:
        if not self.filter_dimension or not self.filter_values:
            return None
        return {self.filter_dimension: list(self.filter_values)}

    def params(self, **overrides: object) -> list[tuple[str, str]]:
        """The state as query parameters; `overrides` replace (None drops) a parameter."""
        values: dict[str, object] = {"window": self.window.name}
        if self.window.name == "custom":
            values["start"] = self.window.start.isoformat()
            values["end"] = self.window.end.isoformat()
        if self.as_of and self.window.name != "custom":
            values["as_of"] = self.as_of
        if self.compare_param:
            values["compare"] = self.compare_param
        if self.filter_dimension:
            values["filter"] = [f"{self.filter_dimension}:{value}" for value in self.filter_values]
        values.update(overrides)
        pairs: list[tuple[str, str]] = []
        for name, value in values.items():
            if value is None or value == "":
                continue
            if isinstance(value, list | tuple):
                pairs.extend((name, str(item)) for item in value)
            else:
                pairs.append((name, str(value)))
        return pairs

    def query(self, **overrides: object) -> str:
        return urlencode(self.params(**overrides))

    def filter_tokens(self) -> list[str]:
        return [f"{self.filter_dimension}:{value}" for value in self.filter_values]


def state_from_query(query: QueryDict, *, default_window: str = DEFAULT_WINDOW) -> DashboardState:
    """Read the state; a bad window or filter falls back to the default and says why."""
    errors: list[str] = []
    name = query.get("window") or default_window
    as_of = query.get("as_of") or ""
    try:
        window = window_for(name, as_of=as_of or None, start=query.get("start"), end=query.get("end"))
    except WindowError as error:
        errors.append(str(error))
        as_of = ""
        window = window_for(default_window)

    try:
        compare = comparison_for(query.get("compare") or None)
    except WindowError as error:
        errors.append(str(error))
        compare = "previous_period"

    dimension: str | None = None
    values: list[str] = []
    for token in query.getlist("filter"):
        if not token:
            continue
        found, _, value = token.partition(":")
        if found not in FILTER_DIMENSIONS or not value:
            errors.append(gettext("filter {token}: use channel:<code>, campaign:<id> or owner:<email>").format(
                token=repr(token)))
            continue
        if dimension and found != dimension:
            # The engine restricts by one dimension at a time (kpi_values `filters`).
            errors.append(gettext("filter by one dimension at a time: kept {kept}, left out {token}").format(
                kept=dimension, token=repr(token)))
            continue
        dimension = found
        if value not in values:
            values.append(value)
    return DashboardState(
        window=window,
        compare=compare,
        filter_dimension=dimension,
        filter_values=tuple(values),
        as_of=as_of,
        errors=tuple(errors),
    )
