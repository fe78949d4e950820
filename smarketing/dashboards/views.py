"""Dashboard pages: parse the URL state, ask the selectors, render. No KPI logic here."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smarketing.dashboards.annotations import AnnotationError, annotation_can_edit, annotation_save
from smarketing.dashboards.boards import (
    board_can_edit,
    board_for_reader,
    board_layout,
    board_pk,
    boards_visible,
    default_state,
    saved_views,
)
from smarketing.dashboards.exports import (
    export_filename,
    records_csv_lines,
    records_page,
    table_lines,
    table_xlsx,
)
from smarketing.dashboards.layouts import DASHBOARDS, Dashboard, dashboard_get
from smarketing.dashboards.models import Annotation, Board
from smarketing.dashboards.params import SWITCHER_WINDOWS, state_from_query
from smarketing.dashboards.selectors import (
    dashboard_page_cached,
    filters_text,
)
from smarketing.dashboards.sla import sla_in_force
from smarketing.funnel.models import Campaign, Channel
from smarketing.kpis.formatting import format_date
from smarketing.kpis.judgement import MATURITY_DAYS
from smarketing.kpis.limits import HeavyQueryRefused, heavy_query_check
from smarketing.kpis.registry import DIMENSIONS, METRICS
from smarketing.kpis.selectors import key_labels
from smarketing.kpis.windows import (
    COMPARISON_ALIASES,
    COMPARISON_LABELS,
    COMPARISONS,
    WINDOW_LABELS,
)
from smarketing.redirects import safe_next


def _role_dashboard(request: HttpRequest) -> str:
    member = getattr(request.user, "team_member", None)
    role = getattr(member, "role", "") or ""
    return role if role in DASHBOARDS else "shared"


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """`/` opens the reader's role dashboard (the shared view when they have no role)."""
    url = reverse("dashboards:dashboard", args=[_role_dashboard(request)])
    query = request.GET.urlencode()
    return redirect(f"{url}?{query}" if query else url)


def _switcher(state) -> list[dict]:
    return [
        {"name": name, "label": WINDOW_LABELS[name],
         "short": {"mtd": _("MTD"), "qtd": _("QTD"), "ytd": _("YTD"), "last_30": _("Last 30"),
                   "custom": _("Custom")}[name],
         "active": state.window.name == name,
         "query": state.query(window=name, start=None, end=None) if name != "custom" else ""}
        for name in SWITCHER_WINDOWS
    ]


def _compare_options(state) -> list[dict]:
    aliases = {name: alias for alias, name in COMPARISON_ALIASES.items()}
    return [{"value": "" if name == "previous_period" else aliases[name], "label": COMPARISON_LABELS[name],
             "active": state.compare == name} for name in COMPARISONS]


def board_visible(request: HttpRequest, pk: int) -> Board:
    """The board, if the reader may see it; another's private board is not found (404)."""
    board = board_for_reader(user=request.user, pk=pk)
    if board is None:
        raise Http404(f"no board {pk}")
    return board


def layout_for(request: HttpRequest, key: str) -> tuple[Dashboard, Board | None]:
    """A role dashboard by its key or an own board by "board-<id>", if the reader may see it."""
    pk = board_pk(key)
    if pk is not None:
        board = board_visible(request, pk)
        return board_layout(board), board
    return role_layout(key), None


def role_layout(key: str) -> Dashboard:
    """A role dashboard's layout by its key; 404 for any other key."""
    try:
        return dashboard_get(key)
    except KeyError:
        raise Http404(f"no dashboard {key!r}") from None


@login_required
def dashboard(request: HttpRequest, key: str) -> HttpResponse:
    return render_board(request, role_layout(key))


def render_board(request: HttpRequest, layout: Dashboard, board: Board | None = None) -> HttpResponse:
    """One page for a role dashboard and an own board: the same state, cache, panels and template."""
    state, default_view = default_state(user=request.user, board_key=layout.key, query=request.GET)
    try:
        # Only a page computed for this request counts against the rate: one cached for an
        # earlier reader costs nothing.
        page = dashboard_page_cached(dashboard=layout, state=state, on_compute=lambda: heavy_query_check(
            user_id=request.user.pk, window=state.window, filtered=bool(state.filters), pinned=bool(state.as_of)))
    except HeavyQueryRefused as refused:
        response = render(request, "unavailable.html", status=429, context={"status": 429, "message": _(
            "You opened many custom windows or filtered views in a short time. Wait %(wait)s seconds, "
            "or use one of the standard windows (MTD, QTD, YTD, last 30 days), which open at once.")
            % {"wait": refused.wait}})
        response["Retry-After"] = str(refused.wait)
        return response
    context = {
        "dashboard": layout,
        "board": board,
        "can_edit": board is not None and board_can_edit(user=request.user, board=board),
        "dashboards": DASHBOARDS.values(),
        "boards": boards_visible(request.user)[:100],
        "saved_views": saved_views(user=request.user, board_key=layout.key),
        "default_view": default_view,
        "role_dashboard": _role_dashboard(request),
        "state": state,
        "switcher": _switcher(state),
        "compare_options": _compare_options(state),
        "filter_tokens": state.filter_tokens(),
        "filter_text": filters_text(state.filters),
        "clear_filter_query": state.query(filter=None),
        "annotation_channels": Channel.choices,
        **page,
    }
    return render(request, "dashboards/dashboard.html", context)


@login_required
def sla(request: HttpRequest) -> HttpResponse:
    """The lead-handover SLA in force this month, in words."""
    context = {"sla": sla_in_force(as_of=timezone.localdate()), "dashboards": DASHBOARDS.values()}
    return render(request, "dashboards/sla.html", context)


def _records_args(request: HttpRequest, metric: str):
    if metric not in METRICS:
        raise Http404(f"no metric {metric!r}")
    state = state_from_query(request.GET)
    key = request.GET.get("key") or None
    dimension = request.GET.get("dim") or None
    if dimension is not None and dimension not in DIMENSIONS:
        raise Http404(f"no dimension {dimension!r}")
    source = request.GET.get("from") or ""
    return state, key, dimension, source if source in DASHBOARDS else ""


@login_required
def records(request: HttpRequest, metric: str) -> HttpResponse:
    """The records behind a number, paged."""
    state, key, dimension, source = _records_args(request, metric)
    try:
        page_number = int(request.GET.get("page") or 1)
    except ValueError:
        page_number = 1
    page = records_page(metric=metric, window=state.window, filters=state.filters, key=key,
                        dimension=dimension, page=page_number)
    # A mature close rate's drill-down: its cohort's entries old enough to have converted.
    mature_days = MATURITY_DAYS.get(metric) if request.GET.get("part") == "mature" else None
    base = state.params(key=key, dim=dimension, part="mature" if mature_days else None,
                        **{"from": source or None})
    key_dimension = dimension or state.filter_dimension
    context = {
        "state": state,
        "mature_days": mature_days,
        "key": key,
        # a rep's name and a channel's label, as the dashboard shows them
        "key_label": key_labels(dimension=key_dimension, keys=[key]).get(key, key) if key and key_dimension else key,
        "filter_text": filters_text(state.filters),
        "source": DASHBOARDS.get(source),
        "back_query": state.query(filter=None) if source else "",
        "base_query": base,
        **page,
    }
    return render(request, "dashboards/records.html", context)


class _Echo:
    """csv.writer writes into this and gets the line back, so rows can stream."""

    def write(self, value: str) -> str:
        return value


@login_required
def records_csv(request: HttpRequest, metric: str) -> StreamingHttpResponse:
    state, key, dimension, _source = _records_args(request, metric)
    writer = csv.writer(_Echo())
    lines = records_csv_lines(metric=metric, window=state.window, filters=state.filters, key=key,
                              dimension=dimension)
    response = StreamingHttpResponse((writer.writerow(line) for line in lines), content_type="text/csv; charset=utf-8")
    suffix = f"-{key}" if key else ""
    safe_suffix = "".join(char if char.isalnum() or char in "-_." else "_" for char in suffix)
    filename = f"{metric}-{state.window.start}-{state.window.end}{safe_suffix}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def panel_table(request: HttpRequest, key: str, panel: str, fmt: str) -> HttpResponse:
    """One panel's table (what the page shows, as raw numbers) as CSV or XLSX."""
    board, _own = layout_for(request, key)
    if fmt not in ("csv", "xlsx"):
        raise Http404(f"no export format {fmt!r}: use csv or xlsx")
    state = state_from_query(request.GET)
    page = dashboard_page_cached(dashboard=board, state=state)
    found = next((item for item in page["panels"] if item["id"] == panel and item.get("export")), None)
    if found is None:
        raise Http404(f"dashboard {key!r} has no table {panel!r}")
    name = export_filename(board.key, found["title"], state.window.name, state.window.start, state.window.end,
                           extension=fmt)
    if fmt == "csv":
        writer = csv.writer(_Echo())
        response = HttpResponse("".join(writer.writerow(line) for line in table_lines(found["export"])),
                                content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(table_xlsx(found["export"], title=found["title"]),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _back(request: HttpRequest) -> str:
    return safe_next(request, default=reverse("dashboards:annotations"))


@login_required
def annotations(request: HttpRequest) -> HttpResponse:
    """Every note (visible to all), with edit and delete for its author and data managers;
    a POST adds one (the dashboard's click-a-date form posts here)."""
    if request.method == "POST":
        fields = {name: request.POST.get(name, "") for name in ("day", "end_day", "text", "channel", "campaign")}
        try:
            note = annotation_save(author=request.user, **fields)
        except AnnotationError as error:
            messages.error(request, _("The note was not saved: {field}: {message}").format(
                field=error.field.replace("_", " "), message=error.message))
        else:
            messages.success(request, _("Note added on {day}.").format(
                day=format_date(note.day)))
        return redirect(_back(request))
    rows = Annotation.objects.select_related("author", "campaign")[:500]
    context = {
        "rows": [{"note": row, "can_edit": annotation_can_edit(user=request.user, annotation=row)} for row in rows],
        "channels": Channel.choices,
        "campaigns": Campaign.objects.order_by("name").values_list("external_id", "name")[:500],
    }
    return render(request, "dashboards/annotations.html", context)


@login_required
@require_POST
def annotation_change(request: HttpRequest, pk: int) -> HttpResponse:
    note = get_object_or_404(Annotation, pk=pk)
    if not annotation_can_edit(user=request.user, annotation=note):
        messages.error(request, _("Only its author or a data manager can change this note."))
        return redirect("dashboards:annotations")
    if request.POST.get("delete"):
        note.delete()
        messages.success(request, _("Note deleted."))
        return redirect("dashboards:annotations")
    fields = {name: request.POST.get(name, "") for name in ("day", "end_day", "text", "channel", "campaign")}
    try:
        annotation_save(author=request.user, annotation=note, **fields)
    except AnnotationError as error:
        messages.error(request, _("The note was not saved: {field}: {message}").format(
            field=error.field.replace("_", " "), message=error.message))
    else:
        messages.success(request, _("Note saved."))
    return redirect("dashboards:annotations")
