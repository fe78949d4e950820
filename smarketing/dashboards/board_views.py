"""Own boards' pages: the board (through the role dashboards' renderer), its editor, duplicate,
export and import, and saved views. Rules live in dashboards.boards; here only HTTP."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smarketing.dashboards.boards import (
    FIXED_WINDOWS,
    KINDS,
    MAX_PANELS,
    NEEDS_DIMENSION,
    BoardError,
    board_can_edit,
    board_duplicate,
    board_layout,
    board_save,
    layout_path,
    role_definition,
    saved_view_save,
    saved_view_set_default,
)
from smarketing.dashboards.layouts import DASHBOARDS
from smarketing.dashboards.models import Board, SavedView
from smarketing.dashboards.params import FILTER_DIMENSIONS, state_from_query
from smarketing.dashboards.selectors import DIMENSION_LABELS
from smarketing.dashboards.views import board_visible as _visible
from smarketing.dashboards.views import layout_for, render_board
from smarketing.kpis.registry import METRICS

IMPORT_MAX_BYTES = 256 * 1024


@login_required
def board(request: HttpRequest, pk: int) -> HttpResponse:
    found = _visible(request, pk)
    return render_board(request, board_layout(found), found)


def _catalogue() -> list[dict]:
    """The metric picker's list: every registry metric with its formula and what it may be cut by."""
    return [{"key": metric.key, "label": str(metric.label), "help": str(metric.help), "unit": metric.unit,
             "dimensions": list(metric.dimensions)} for metric in METRICS.values()]


def _editor(request: HttpRequest, found: Board | None) -> HttpResponse:
    definition = found.as_json() if found else {"title": "", "description": "", "visibility": "private", "panels": []}
    context = {
        "board": found,
        "definition": definition,
        "editor_config": {
            "api": reverse("api-boards"),
            "board_id": found.pk if found else None,
            "kinds": [{"value": name, "needs_dimension": KINDS[name] in NEEDS_DIMENSION} for name in KINDS],
            "windows": list(FIXED_WINDOWS),
            "filter_dimensions": list(FILTER_DIMENSIONS),
            "dimension_labels": {key: str(label) for key, label in DIMENSION_LABELS.items()},
            "max_panels": MAX_PANELS,
            "text": {
                "panels": _("%(count)s of at most %(limit)s panels"),
                "adding_to": _("Click metrics to add them to the highlighted panel."),
                "adding_new": _("Click a metric to add it as a new panel."),
                "remove_metric": _("Remove"),
                "not_saved": _("The board was not saved; try again."),
                "not_deleted": _("The board was not deleted; try again."),
                "too_many": _("A board has at most %(limit)d panels.") % {"limit": MAX_PANELS},
            },
        },
        "metrics": _catalogue(),
        "visibilities": Board.Visibility.choices,
        "dashboards": DASHBOARDS.values(),
    }
    return render(request, "dashboards/board_edit.html", context)


@login_required
def board_new(request: HttpRequest) -> HttpResponse:
    return _editor(request, None)


@login_required
def board_edit(request: HttpRequest, pk: int) -> HttpResponse:
    found = _visible(request, pk)
    if not board_can_edit(user=request.user, board=found):
        messages.error(request, _("Only the board's owner or a data manager can change it; duplicate it to make your own."))
        return redirect("dashboards:board", pk=found.pk)
    return _editor(request, found)


@login_required
@require_POST
def board_copy(request: HttpRequest, pk: int) -> HttpResponse:
    found = _visible(request, pk)
    copy = board_duplicate(user=request.user, definition=found.as_json())
    messages.success(request, _("Board duplicated: this copy is yours to change."))
    return redirect("dashboards:board_edit", pk=copy.pk)


@login_required
@require_POST
def dashboard_copy(request: HttpRequest, key: str) -> HttpResponse:
    if key not in DASHBOARDS:
        raise Http404(f"no dashboard {key!r}")
    copy = board_duplicate(user=request.user, definition=role_definition(key))
    messages.success(request, _("Dashboard duplicated: this copy is yours to change."))
    return redirect("dashboards:board_edit", pk=copy.pk)


@login_required
def board_export(request: HttpRequest, pk: int) -> HttpResponse:
    found = _visible(request, pk)
    response = JsonResponse(found.as_json(), json_dumps_params={"indent": 2, "ensure_ascii": False})
    name = slugify(found.title) or f"board-{found.pk}"
    response["Content-Disposition"] = f'attachment; filename="{name}.board.json"'
    return response


@login_required
@require_POST
def board_import(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise BoardError("file", _("choose a board JSON file"))
        if upload.size > IMPORT_MAX_BYTES:
            raise BoardError("file", _("larger than %(limit)d KB") % {"limit": IMPORT_MAX_BYTES // 1024})
        try:
            data = json.loads(upload.read().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise BoardError("file", _("not a JSON file (%(error)s)") % {"error": error}) from None
        created = board_save(user=request.user, data=data)
    except BoardError as error:
        messages.error(request, _("The board was not imported: %(error)s") % {"error": error})
        return redirect("dashboards:board_new")
    messages.success(request, _("Board imported."))
    return redirect("dashboards:board", pk=created.pk)


@login_required
@require_POST
def view_save(request: HttpRequest, key: str) -> HttpResponse:
    """Save the state the page shows (its query travels in the form) under a name."""
    layout, _own = layout_for(request, key)
    state = state_from_query(request.POST)
    try:
        view = saved_view_save(user=request.user, board_key=layout.key, name=request.POST.get("name", ""),
                               state=state, default=bool(request.POST.get("default")))
    except BoardError as error:
        messages.error(request, _("The view was not saved: %(error)s") % {"error": error})
        return redirect(f"{layout_path(layout.key)}?{state.query()}")
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(f"{layout_path(layout.key)}?{view.query}")


@login_required
@require_POST
def view_change(request: HttpRequest, pk: int) -> HttpResponse:
    view = get_object_or_404(SavedView, pk=pk, owner=request.user)
    if request.POST.get("delete"):
        view.delete()
        messages.success(request, _("View deleted."))
        return redirect(layout_path(view.board_key))
    saved_view_set_default(view=view)
    messages.success(request, _("“%(name)s” now opens when you open this board.") % {"name": view.name})
    return redirect(f"{layout_path(view.board_key)}?{view.query}")


@login_required
def view_link(request: HttpRequest, token: str) -> HttpResponse:
    """A shared view's link: the board with the view's window, comparison and filter (the board's
    own visibility still decides who can open it)."""
    view = get_object_or_404(SavedView, token=token)
    layout_for(request, view.board_key)
    return redirect(f"{layout_path(view.board_key)}?{view.query}" if view.query else layout_path(view.board_key))
