"""Own boards: the one board JSON schema, who may see and change a board, and saved views.

A board is stored as its validated JSON and rendered as a `layouts.Dashboard`, the same
object the eleven role dashboards are, so both go through `selectors.dashboard_page`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import transaction
from django.http import QueryDict
from django.urls import reverse
from django.utils.translation import gettext as _

from smarketing.dashboards.layouts import DASHBOARDS, Dashboard, Panel, dashboard_get
from smarketing.dashboards.models import Board, SavedView
from smarketing.dashboards.params import FILTER_DIMENSIONS, DashboardState, state_from_query
from smarketing.funnel.selectors import is_data_manager, user_team
from smarketing.kpis.registry import METRICS
from smarketing.kpis.windows import WINDOW_NAMES

MAX_PANELS = 24
MAX_METRICS_PER_PANEL = 12
# The JSON's kind names; role layouts call a tile group "tiles".
KINDS = {"tile": "tiles", "series": "series", "breakdown": "breakdown", "funnel": "funnel", "sla": "sla",
         "velocity": "velocity"}
JSON_KINDS = {layout: name for name, layout in KINDS.items()}
NEEDS_DIMENSION = ("breakdown", "sla")
FIXED_WINDOWS = tuple(name for name in WINDOW_NAMES if name != "custom")
WIDTHS = (1, 2, 3)
VISIBILITIES = tuple(value for value, _label in Board.Visibility.choices)
BOARD_KEY_PREFIX = "board-"


@dataclass
class BoardError(Exception):
    """One thing wrong with a board's JSON: where (`field`, e.g. "panels[2].dimension") and what."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _text(data: dict, name: str, *, limit: int, required: bool) -> str:
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BoardError(name, _("must be text"))
    value = value.strip()
    if required and not value:
        raise BoardError(name, _("is required"))
    if len(value) > limit:
        raise BoardError(name, _("is longer than %(limit)d characters") % {"limit": limit})
    return value


def _panel(raw: object, index: int) -> dict:
    where = f"panels[{index}]"
    if not isinstance(raw, dict):
        raise BoardError(where, _("must be an object"))
    unknown = sorted(set(raw) - {"kind", "title", "metrics", "dimension", "filter", "window", "width",
                                  "mature"})
    if unknown:
        raise BoardError(f"{where}.{unknown[0]}", _("is not a panel field"))
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise BoardError(f"{where}.kind", _("%(value)r: use one of %(choices)s")
                         % {"value": kind, "choices": ", ".join(KINDS)})
    metrics = raw.get("metrics")
    if not isinstance(metrics, list) or not metrics:
        raise BoardError(f"{where}.metrics", _("must be a non-empty list of metric keys"))
    if len(metrics) > MAX_METRICS_PER_PANEL:
        raise BoardError(f"{where}.metrics", _("at most %(limit)d metrics in one panel")
                         % {"limit": MAX_METRICS_PER_PANEL})
    for number, key in enumerate(metrics):
        if not isinstance(key, str) or key not in METRICS:
            raise BoardError(f"{where}.metrics[{number}]", _("unknown metric %(key)r") % {"key": key})
    if len(set(metrics)) != len(metrics):
        raise BoardError(f"{where}.metrics", _("lists a metric twice"))
    dimension = raw.get("dimension") or None
    if dimension is not None and not isinstance(dimension, str):
        raise BoardError(f"{where}.dimension", _("must be a dimension name"))
    if kind in NEEDS_DIMENSION and not dimension:
        raise BoardError(f"{where}.dimension", _("a %(kind)s panel needs a dimension") % {"kind": kind})
    if dimension is not None:
        if kind not in NEEDS_DIMENSION:
            raise BoardError(f"{where}.dimension", _("only a breakdown or SLA panel has a dimension"))
        for key in metrics:
            if dimension not in METRICS[key].dimensions:
                raise BoardError(f"{where}.dimension", _(
                    "metric %(metric)r cannot be broken down by %(dimension)r (it allows: %(allowed)s)")
                    % {"metric": key, "dimension": dimension,
                       "allowed": ", ".join(METRICS[key].dimensions) or _("none")})
    panel = {"kind": kind, "metrics": list(metrics), "width": raw.get("width", 3)}
    if panel["width"] not in WIDTHS or isinstance(panel["width"], bool):
        raise BoardError(f"{where}.width", _("use 1, 2 or 3 (thirds of a row)"))
    title = raw.get("title")
    if title is not None:
        panel["title"] = _text(raw, "title", limit=120, required=False)
    if dimension:
        panel["dimension"] = dimension
    slice_ = raw.get("filter")
    if slice_ is not None:
        if not isinstance(slice_, dict) or set(slice_) != {"dimension", "key"}:
            raise BoardError(f"{where}.filter", _('must be {"dimension": ..., "key": ...}'))
        filter_dimension, keys = slice_["dimension"], slice_["key"]
        if filter_dimension not in FILTER_DIMENSIONS:
            raise BoardError(f"{where}.filter.dimension", _("%(value)r: use one of %(choices)s")
                             % {"value": filter_dimension, "choices": ", ".join(FILTER_DIMENSIONS)})
        for key in metrics:
            if filter_dimension not in METRICS[key].dimensions:
                raise BoardError(f"{where}.filter.dimension", _(
                    "metric %(metric)r cannot be filtered by %(dimension)r") % {"metric": key,
                                                                               "dimension": filter_dimension})
        if dimension and filter_dimension != dimension:
            # The engine narrows a breakdown only along its own dimension (kpi_values).
            raise BoardError(f"{where}.filter.dimension", _(
                "a breakdown by %(dimension)s can only be filtered by %(dimension)s")
                % {"dimension": dimension})
        # One key, or several of the same dimension ("social" and "paid_social").
        keys = [keys] if isinstance(keys, str) else keys
        if not isinstance(keys, list) or not keys or not all(isinstance(key, str) and key for key in keys):
            raise BoardError(f"{where}.filter.key", _("must be a key or a list of keys"))
        panel["filter"] = {"dimension": filter_dimension, "key": keys[0] if len(keys) == 1 else keys}
    window = raw.get("window") or None
    if window is not None:
        if window not in FIXED_WINDOWS:
            raise BoardError(f"{where}.window", _("%(value)r: use one of %(choices)s")
                             % {"value": window, "choices": ", ".join(FIXED_WINDOWS)})
        panel["window"] = window
    mature = raw.get("mature", False)
    if not isinstance(mature, bool):
        raise BoardError(f"{where}.mature", _("must be true or false"))
    if mature:
        if kind != "breakdown":
            raise BoardError(f"{where}.mature", _("only a breakdown reads its cohorts' mature part"))
        panel["mature"] = True
    return panel


def board_validate(data: object) -> dict:
    """The board JSON, checked and normalised; BoardError names the first thing wrong."""
    if not isinstance(data, dict):
        raise BoardError("board", _("must be a JSON object"))
    unknown = sorted(set(data) - {"title", "description", "visibility", "panels", "side_by_side",
                                  "id", "owner", "can_edit", "url"})
    if unknown:
        raise BoardError(unknown[0], _("is not a board field"))
    board = {
        "title": _text(data, "title", limit=120, required=True),
        "description": _text(data, "description", limit=500, required=False),
        "visibility": data.get("visibility") or "private",
    }
    if board["visibility"] not in VISIBILITIES:
        raise BoardError("visibility", _("%(value)r: use one of %(choices)s")
                         % {"value": board["visibility"], "choices": ", ".join(VISIBILITIES)})
    panels = data.get("panels")
    if not isinstance(panels, list):
        raise BoardError("panels", _("must be a list"))
    if len(panels) > MAX_PANELS:
        raise BoardError("panels", _("%(count)d panels: a board has at most %(limit)d")
                         % {"count": len(panels), "limit": MAX_PANELS})
    board["panels"] = [_panel(raw, index) for index, raw in enumerate(panels)]
    side = data.get("side_by_side") or []
    if not isinstance(side, list) or len(side) > 2 or any(name not in FIXED_WINDOWS for name in side):
        raise BoardError("side_by_side", _("at most two windows, each one of %(choices)s")
                         % {"choices": ", ".join(FIXED_WINDOWS)})
    if side:
        board["side_by_side"] = list(side)
    return board


def _panel_title(panel: dict) -> str:
    if panel.get("title"):
        return panel["title"]
    labels = [str(METRICS[key].label) for key in panel["metrics"]]
    title = " · ".join(labels[:3]) + (" …" if len(labels) > 3 else "")
    if panel.get("dimension"):
        from smarketing.dashboards.selectors import DIMENSION_LABELS

        title = _("%(metrics)s by %(dimension)s") % {
            "metrics": title, "dimension": str(DIMENSION_LABELS.get(panel["dimension"], panel["dimension"])).lower()}
    return title


def definition_layout(definition: dict, *, key: str) -> Dashboard:
    """A validated board JSON as the layout object the renderer draws."""
    panels = []
    for panel in definition["panels"]:
        slice_ = panel.get("filter")
        keys = None
        if slice_:
            keys = (slice_["key"],) if isinstance(slice_["key"], str) else tuple(slice_["key"])
        panels.append(Panel(KINDS[panel["kind"]], _panel_title(panel), tuple(panel["metrics"]),
                            dimension=panel.get("dimension"),
                            filters={slice_["dimension"]: keys} if slice_ else None,
                            mature=panel.get("mature", False), window=panel.get("window"),
                            width=panel["width"]))
    return Dashboard(key=key, title=definition["title"], description=definition.get("description", ""),
                     panels=tuple(panels), side_by_side=tuple(definition.get("side_by_side") or ()))


def layout_definition(layout: Dashboard) -> dict:
    """A layout as board JSON (a role dashboard duplicated, a board exported)."""
    panels = []
    for panel in layout.panels:
        item: dict = {"kind": JSON_KINDS[panel.kind], "title": str(panel.title), "metrics": list(panel.metrics),
                      "width": panel.width or 3}
        if panel.dimension:
            item["dimension"] = panel.dimension
        if panel.filters:
            ((dimension, keys),) = panel.filters.items()
            item["filter"] = {"dimension": dimension, "key": keys[0] if len(keys) == 1 else list(keys)}
        if panel.window:
            item["window"] = panel.window
        if panel.mature:
            item["mature"] = True
        panels.append(item)
    out = {"title": str(layout.title), "description": str(layout.description), "panels": panels}
    if layout.side_by_side:
        out["side_by_side"] = list(layout.side_by_side)
    return out


# Who sees and changes what -----------------------------------------------------------------

def board_can_view(*, user, board: Board) -> bool:
    if board.owner_id == user.pk or board.visibility == Board.Visibility.EVERYONE or is_data_manager(user):
        return True
    return board.visibility == Board.Visibility.TEAM and bool(board.team) and board.team == user_team(user)


def board_can_edit(*, user, board: Board) -> bool:
    return board.owner_id == user.pk or is_data_manager(user)


def board_for_reader(*, user, pk: int) -> Board | None:
    """The board, if `user` may see it; None for a missing board and for another's private one
    alike (its existence is not revealed)."""
    board = Board.objects.select_related("owner").filter(pk=pk).first()
    return board if board is not None and board_can_view(user=user, board=board) else None


def boards_visible(user):
    """The boards a user may open, theirs first, then by title."""
    from django.db.models import Case, IntegerField, Q, Value, When

    boards = Board.objects.select_related("owner")
    if not is_data_manager(user):
        team = user_team(user)
        seen = Q(owner=user) | Q(visibility=Board.Visibility.EVERYONE)
        if team:
            seen |= Q(visibility=Board.Visibility.TEAM, team=team)
        boards = boards.filter(seen)
    mine = Case(When(owner=user, then=Value(0)), default=Value(1), output_field=IntegerField())
    return boards.annotate(mine=mine).order_by("mine", "title", "pk")


def board_layout(board: Board) -> Dashboard:
    return definition_layout(board.as_json(), key=f"{BOARD_KEY_PREFIX}{board.pk}")


def board_pk(key: str) -> int | None:
    """The id in a board key ("board-12" → 12); None for a role dashboard's key."""
    number = key.removeprefix(BOARD_KEY_PREFIX)
    return int(number) if key.startswith(BOARD_KEY_PREFIX) and number.isdigit() else None


def layout_path(key: str) -> str:
    """The page of a role dashboard ("/dashboards/shared/") or an own board ("/boards/12/")."""
    pk = board_pk(key)
    return reverse("dashboards:dashboard", args=[key]) if pk is None else reverse("dashboards:board", args=[pk])


def layout_keys_unknown(keys: list[str]) -> list[str]:
    """The keys that name neither a role dashboard nor an existing board (one query)."""
    pks = {pk for key in keys if (pk := board_pk(key)) is not None}
    found = {f"{BOARD_KEY_PREFIX}{pk}" for pk in Board.objects.filter(pk__in=pks).values_list("pk", flat=True)}
    return [key for key in keys if key not in DASHBOARDS and key not in found]


def layout_for_key(key: str) -> Dashboard:
    """The layout of a role dashboard or an own board by key; KeyError when there is none."""
    pk = board_pk(key)
    if pk is None:
        return dashboard_get(key)
    board = Board.objects.filter(pk=pk).first()
    if board is None:
        raise KeyError(f"no board {key!r}")
    return board_layout(board)


def layout_choices(user=None) -> list[tuple[str, str]]:
    """(key, title) of the role dashboards, then of the boards `user` can see (a digest's choices)."""
    choices = [(key, str(layout.title)) for key, layout in DASHBOARDS.items()]
    if user is not None and user.is_authenticated:
        choices += [(f"{BOARD_KEY_PREFIX}{board.pk}", board.title) for board in boards_visible(user)]
    return choices


def layout_key_readable(*, user, key: str) -> bool:
    """Whether `user` may read this role dashboard or board (a board made private since is not)."""
    pk = board_pk(key)
    if pk is None:
        return key in DASHBOARDS
    return board_for_reader(user=user, pk=pk) is not None


def board_save(*, user, data: object, board: Board | None = None) -> Board:
    """Create (or, with `board`, replace) a board from its JSON; nothing is written on an error."""
    definition = board_validate(data)
    board = board or Board(owner=user)
    board.title = definition["title"]
    board.description = definition["description"]
    board.visibility = definition["visibility"]
    # The team the board is shared with is the owner's, as it is when the board is saved.
    board.team = user_team(board.owner)
    board.layout = {key: definition[key] for key in ("panels", "side_by_side") if key in definition}
    with transaction.atomic():
        board.save()
    return board


def board_duplicate(*, user, definition: dict, title_suffix: str | None = None) -> Board:
    """A private copy owned by `user` (of a board they can see, or of a role dashboard)."""
    copy = {**definition, "visibility": "private",
            "title": _("%(title)s (copy)") % {"title": definition["title"]} if title_suffix is None
            else definition["title"] + title_suffix}
    copy["title"] = copy["title"][:120]
    return board_save(user=user, data=copy)


def role_definition(key: str) -> dict:
    return layout_definition(DASHBOARDS[key])


# Saved views ---------------------------------------------------------------------------------

VIEW_PARAMS = ("window", "start", "end", "as_of", "compare", "filter")


def saved_views(*, user, board_key: str):
    return SavedView.objects.filter(owner=user, board_key=board_key).order_by("name")


def saved_view_save(*, user, board_key: str, name: str, state: DashboardState, default: bool = False) -> SavedView:
    """Save the page's window, comparison and filter (its query) under a name; a name saved
    again keeps its link and takes the new state."""
    name = _text({"name": name}, "name", limit=80, required=True)
    with transaction.atomic():
        view, _created = SavedView.objects.update_or_create(
            owner=user, board_key=board_key, name=name, defaults={"query": state.query()},
            create_defaults={"query": state.query(), "token": "v" + secrets.token_urlsafe(12)})
        if default:
            saved_view_set_default(view=view)
    return view


def saved_view_set_default(*, view: SavedView) -> None:
    with transaction.atomic():
        SavedView.objects.filter(owner=view.owner, board_key=view.board_key, is_default=True).update(is_default=False)
        view.is_default = True
        view.save(update_fields=["is_default"])


def default_state(*, user, board_key: str, query: QueryDict) -> tuple[DashboardState, SavedView | None]:
    """The reader's state: the URL's when it names one, else their default view for this board."""
    if not any(name in query for name in VIEW_PARAMS):
        view = SavedView.objects.filter(owner=user, board_key=board_key, is_default=True).first()
        if view is not None:
            return state_from_query(QueryDict(view.query)), view
    return state_from_query(query), None
