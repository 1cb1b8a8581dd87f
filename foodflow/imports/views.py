"""Pages of imports: the jobs, the upload, the column mapping with a preview, the check and its
problems, the import with its progress, and the report of problems. They parse input and call
the import services (``services.py``), which hold every rule; the run itself is started in the
background by ``tasks.import_start``."""

from __future__ import annotations

from itertools import islice

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from foodflow.accounts.permissions import USERS_MANAGE, has_perm
from foodflow.core.api import row_id
from foodflow.core.audit import audit_record
from foodflow.core.errors import DomainError
from foodflow.core.exports import XLSX
from foodflow.core.forms import form_show_error
from foodflow.core.views import client_ip, paginate, require

from . import services, tasks
from .forms import MappingForm, NewImportForm, RunForm
from .kinds import REGISTRY, Kind
from .models import ImportJob
from .permissions import can_import
from .readers import MAX_BYTES, read_table

PREVIEW_ROWS = 20
ISSUES_PER_PAGE = 50


def _sees_every_job(user) -> bool:
    """Administrators see everybody's imports; everyone else their own."""
    return has_perm(user, USERS_MANAGE)


def _job_of(request, pk: int) -> tuple[ImportJob, Kind]:
    """The job if this user may see it (404 otherwise) and import its kind (403 otherwise)."""
    jobs = ImportJob.objects.select_related("preset", "created_by")
    if not _sees_every_job(request.user):
        jobs = jobs.filter(created_by=request.user)
    job = get_object_or_404(jobs, pk=pk)
    kind = REGISTRY.get(job.kind)
    if kind is None:
        raise Http404
    if not kind.allowed(request.user):
        raise PermissionDenied
    return job, kind


@require(can_import)
def jobs_view(request):
    jobs = ImportJob.objects.select_related("created_by").order_by("-created_at", "-id")
    if not _sees_every_job(request.user):
        jobs = jobs.filter(created_by=request.user)
    page = paginate(request, jobs)
    for job in page:
        kind = REGISTRY.get(job.kind)
        job.kind_label = kind.label if kind else job.kind
    return render(request, "imports/job_list.html", {"page": page, "sees_all": _sees_every_job(request.user)})


@require(can_import)
def new_view(request):
    form = NewImportForm(
        request.POST or None, request.FILES or None, user=request.user, initial={"kind": request.GET.get("kind")}
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        # One byte past the limit is enough for the service to refuse a larger file: the
        # rest is never read into memory.
        data = upload.read(MAX_BYTES + 1)
        try:
            job = services.job_create(
                by=request.user,
                kind=form.cleaned_data["kind"],
                name=upload.name,
                data=data,
                preset=form.cleaned_data["preset"],
            )
        except DomainError as error:
            if error.code == "preset_kind":
                form.add_error("preset", error.message)
            else:
                form_show_error(form, error)
        else:
            return redirect("imports:job", pk=job.pk)
    return render(request, "imports/job_new.html", {"form": form})


def _file_table(job: ImportJob):
    with job.file.open("rb") as stored:
        return read_table(stored.read())


def _preview(job: ImportJob, kind: Kind, mapping: dict[str, str]) -> dict:
    """The first rows of the file as the mapping reads them: one column per field."""
    try:
        table = _file_table(job)
    except (OSError, DomainError):
        return {"error": True}
    position = {header: index for index, header in enumerate(table.headers)}
    columns = [(item, mapping.get(item.name, "")) for item in kind.fields]
    rows = []
    for number, cells in enumerate(islice(table.rows, PREVIEW_ROWS), start=2):  # the header is row 1
        rows.append((number, [cells[position[header]] if header in position else None for _item, header in columns]))
    return {"columns": columns, "rows": rows}


def _progress(job: ImportJob, seen: int = 0) -> dict:
    # The count lives in the cache of the process that runs the import; a poll answered by
    # another process shows at least what the page had seen (the bar never goes back).
    done = min(max(tasks.import_progress(job.pk), seen), job.rows_total)
    percent = done * 100 // job.rows_total if job.rows_total else 0
    return {"job": job, "done": done, "total": job.rows_total, "percent": percent}


@require(can_import)
def job_view(request, pk: int):
    job, kind = _job_of(request, pk)
    running = tasks.import_running(job)
    # A job left "importing" by a run that is gone (a server restart) saved nothing: it may be
    # checked and imported again.
    editable = not running and job.state != ImportJob.State.DONE
    form = MappingForm(request.POST or None, kind=kind, headers=job.headers, mapping=job.mapping) if editable else None
    mapping = job.mapping
    if request.method == "POST":
        if form is None:
            messages.error(request, _("This file is being imported or was imported already."))
            return redirect("imports:job", pk=job.pk)
        if form.is_valid():
            mapping = form.mapping()  # shown in the preview even when the service refuses it
            try:
                services.job_map(
                    by=request.user, job=job, mapping=mapping, preset_name=form.cleaned_data["preset_name"]
                )
                services.job_validate(by=request.user, job=job)
            except DomainError as error:
                form.show_error(error)
            else:
                return redirect(reverse("imports:job", kwargs={"pk": job.pk}) + "#result")
        job.refresh_from_db()
    valid_rows = max(job.rows_total - job.rows_invalid, 0)
    checked = job.state in services.STARTABLE
    context = {
        "job": job,
        "kind": kind,
        "form": form,
        "running": running,
        "interrupted": tasks.import_interrupted(job),
        "checked": checked,
        "valid_rows": valid_rows,
        "may_import_all": checked and job.rows_invalid == 0 and job.rows_total > 0,
        "may_import_valid": checked and job.rows_invalid > 0 and valid_rows > 0,
        "valid_only_form": RunForm(initial={"valid_only": True}),
        "issues": paginate(request, job.issues.all(), per_page=ISSUES_PER_PAGE),
        "preview": _preview(job, kind, mapping) if editable else None,
    }
    if running:
        context.update(_progress(job))
    return render(request, "imports/job_detail.html", context)


@require(can_import)
def preview_view(request, pk: int):
    """The preview table for the mapping being chosen (htmx, on each change of a select)."""
    job, kind = _job_of(request, pk)
    form = MappingForm(request.GET, kind=kind, headers=job.headers, mapping=job.mapping)
    mapping = form.mapping() if form.is_valid() else job.mapping
    return render(request, "imports/_preview.html", {"job": job, "preview": _preview(job, kind, mapping)})


@require_POST
@require(can_import)
def run_view(request, pk: int):
    job, _kind = _job_of(request, pk)
    form = RunForm(request.POST)
    form.is_valid()  # one optional checkbox: always valid
    valid_only = form.cleaned_data["valid_only"]
    if not tasks.import_start(job_id=job.pk, user_id=request.user.pk, valid_only=valid_only):
        job.refresh_from_db(fields=["state"])
        if job.state == ImportJob.State.IMPORTING:
            messages.error(request, _("This file is being imported already."))
        elif job.state == ImportJob.State.DONE:
            messages.error(request, _("This file was imported already."))
        else:
            messages.error(request, _("Check the rows before importing them."))
    return redirect("imports:job", pk=job.pk)


@require(can_import)
def progress_view(request, pk: int):
    """How far the run is (htmx, every second); once it has ended, the page reloads to show the
    outcome."""
    job, _kind = _job_of(request, pk)
    if not tasks.import_running(job):
        if request.htmx:
            return HttpResponseClientRefresh()
        return redirect("imports:job", pk=job.pk)
    seen = request.GET.get("seen", "")
    return render(request, "imports/_progress.html", _progress(job, row_id(seen) or 0))


@require(can_import)
def report_view(request, pk: int):
    job, _kind = _job_of(request, pk)
    content = services.report_workbook(job)
    audit_record(
        action="imports.report_downloaded",
        actor=request.user,
        obj=job,
        changes={"file": job.original_name, "rows_invalid": job.rows_invalid},
        ip_address=client_ip(request),
    )
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-problems.xlsx"'
    return response


urlpatterns = [
    path("", jobs_view, name="jobs"),
    path("new/", new_view, name="new"),
    path("<int:pk>/", job_view, name="job"),
    path("<int:pk>/preview/", preview_view, name="preview"),
    path("<int:pk>/run/", run_view, name="run"),
    path("<int:pk>/progress/", progress_view, name="progress"),
    path("<int:pk>/report.xlsx", report_view, name="report"),
]
