"""The data manager's import page: upload, dry-run preview, confirm, progress; CSV templates."""

from __future__ import annotations

import json
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from smarketing.funnel import importing, jobs
from smarketing.funnel.forms import ZIP, UploadForm
from smarketing.funnel.mapping import FORMATS
from smarketing.funnel.models import ImportJob, ImportLog, SavedMapping
from smarketing.funnel.presets import PRESETS
from smarketing.funnel.schemas import RESOURCES
from smarketing.funnel.selectors import is_data_manager
from smarketing.funnel.uploads import UploadLimitHandler, size_error, upload_limit


def manager_required(view):
    """Signed in (else to the login page) and holding the data-manager permission (else 403)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_data_manager(request.user):
            return render(request, "funnel/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


def _resources() -> list[dict]:
    return [
        {
            "name": r.name,
            "label": r.label,
            "key": ", ".join(r.key),
            "required": [c for c in r.columns if c in r.required],
            "optional": [c for c in r.columns if c not in r.required],
        }
        for r in RESOURCES.values()
    ]


@csrf_exempt
def upload(request: HttpRequest) -> HttpResponse:
    # Before the body is read (the CSRF check reads it): an upload past the limit is not stored.
    request.upload_handlers.insert(0, UploadLimitHandler(request))
    return _upload(request)


@csrf_protect
@manager_required
def _upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None, initial={"resource": request.GET.get("resource")})
    if getattr(request, "upload_too_big", False):
        form = UploadForm(initial={"resource": request.POST.get("resource")})
        recent = ImportJob.objects.filter(created_by=request.user)[:10]
        return render(request, "funnel/upload.html", {
            "form": form, "resources": _resources(), "recent": recent,
            # Without a Content-Length the size is known only to be past the limit.
            "upload_error": size_error(max(getattr(request, "upload_size", 0), upload_limit() + 1)),
        }, status=413)
    if request.method == "POST" and form.is_valid():
        resource = form.cleaned_data["resource"]
        job = jobs.import_job_create(
            user=request.user, upload=form.cleaned_data["file"], resource="" if resource == ZIP else resource,
            mapping=form.cleaned_data["column_mapping"], save_as=form.cleaned_data["save_as"].strip(),
        )
        return redirect("funnel:job", pk=job.pk)
    recent = ImportJob.objects.filter(created_by=request.user)[:10]
    return render(request, "funnel/upload.html", {
        "form": form, "resources": _resources(), "recent": recent, "mapping_context": _mapping_context(),
    })


def _mapping_context() -> dict:
    """What the mapping step of the upload page needs: each resource's columns, the presets and
    saved mappings by resource, the date formats (handed to static/js/import_mapping.js)."""
    saved: dict[str, list[str]] = {}
    for resource, name in SavedMapping.objects.order_by("name").values_list("resource", "name"):
        saved.setdefault(resource, []).append(name)
    return {
        "preview_url": reverse("funnel:mapping_preview"),
        "formats": list(FORMATS),
        "resources": {
            r.name: {
                "columns": [
                    {"name": c, "required": c in r.required, "kind": r.col(c).kind, "choices": list(r.col(c).choices)}
                    for c in r.columns
                ],
                "presets": [{"name": p.name, "label": p.label} for p in PRESETS.values() if p.resource == r.name],
                "saved": saved.get(r.name, []),
            }
            for r in RESOURCES.values()
        },
    }


PREVIEW_MAX_CHARS = 1 << 20


@manager_required
@require_POST
def mapping_preview(request: HttpRequest) -> JsonResponse:
    """The mapping step's live check: the start of the chosen file, and the mapping to try."""
    try:
        body = json.loads(request.body)
        resource = RESOURCES[body["resource"]]
        text = str(body["text"])[:PREVIEW_MAX_CHARS]
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": _("send JSON with resource (a resource name) and text (the file's start)")},
                            status=400)
    spec = body.get("mapping")
    answer = importing.mapping_preview(
        resource=resource, text=text, truncated=bool(body.get("truncated")),
        spec=spec if isinstance(spec, dict) else None, name=str(body.get("name") or ""),
    )
    return JsonResponse(answer)


@manager_required
def history(request: HttpRequest) -> HttpResponse:
    """Every import, newest first: uploads, API bulk requests, folder imports, import_csv runs."""
    page = Paginator(ImportLog.objects.select_related("user"), 50).get_page(request.GET.get("page"))
    return render(request, "funnel/history.html", {"page": page, "logs": page.object_list, "zone": settings.TIME_ZONE})


@manager_required
def job(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=pk, created_by=request.user)
    report = job.report or {}
    errors = report.get("errors", [])
    retry = UploadForm(initial={"resource": job.resource or ZIP})
    return render(request, "funnel/job.html", {
        "job": job,
        "report": report,
        "errors": errors,
        "many": not job.resource,
        "progress": jobs.import_job_progress(job=job) if job.running else None,
        "form": retry,
        "S": ImportJob.Status,
    })


@manager_required
@require_POST
def job_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=pk, created_by=request.user)
    jobs.import_job_confirm(job=job)
    return redirect("funnel:job", pk=job.pk)


@manager_required
def job_status(request: HttpRequest, pk: int) -> JsonResponse:
    job = get_object_or_404(ImportJob, pk=pk, created_by=request.user)
    return JsonResponse({
        "status": job.status,
        "label": job.get_status_display(),
        "running": job.running,
        "progress": jobs.import_job_progress(job=job) if job.running else None,
    })


def _csv_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def csv_template(request: HttpRequest, resource: str) -> HttpResponse:
    if resource not in RESOURCES:
        raise Http404("no such resource")
    return _csv_response(importing.csv_template(RESOURCES[resource]), f"{resource}.csv")


@login_required
def csv_example(request: HttpRequest, resource: str) -> HttpResponse:
    if resource not in RESOURCES:
        raise Http404("no such resource")
    return _csv_response(importing.csv_example(RESOURCES[resource]), f"{resource}.csv")
