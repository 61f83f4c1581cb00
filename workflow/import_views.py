"""The historical import in the browser: upload the export and its mapping, see a dry run of the first rows, start
it as a background job and follow its progress (jobs)."""

import json
from pathlib import Path

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from complaints.forms import OrderImportForm
from core.permissions import may_intake, staff_required
from jobs.models import Job
from jobs.selectors import job_visible_to, jobs_of
from jobs.services import job_queue
from workflow.order_import import order_import_prepare, order_import_preview_of


def _require_importer(user) -> None:
    if not may_intake(user):
        raise PermissionDenied(_("Only administrators and the accounts that log orders may import history."))


def _mapping_from(form) -> tuple[object, str]:
    upload = form.cleaned_data.get("mapping_file")
    try:
        if upload:
            return json.loads(upload.read().decode("utf-8-sig")), Path(upload.name or "mapping").stem
        return json.loads(form.cleaned_data["mapping_text"]), ""
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(_("The mapping is not valid JSON: %(error)s") % {"error": exc}) from None


@staff_required
@require_http_methods(["GET", "POST"])
def import_home(request):
    _require_importer(request.user)
    form = OrderImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            mapping, name = _mapping_from(form)
            job = order_import_prepare(actor=request.user, csv_upload=form.cleaned_data["csv_file"],
                                       mapping_data=mapping, mapping_name=name)
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            return redirect("complaints:import_detail", pk=job.pk)
    jobs = jobs_of(user=request.user, kind=Job.Kind.IMPORT_ORDERS)
    return render(request, "complaints/import.html", {"form": form, "jobs": jobs},
                  status=400 if form.errors else 200)


def _import_job(request, pk) -> Job:
    _require_importer(request.user)
    job = get_object_or_404(Job, pk=pk, kind=Job.Kind.IMPORT_ORDERS)
    if not job_visible_to(user=request.user, job=job):
        raise PermissionDenied(_("This import was prepared by someone else."))
    return job


@staff_required
@require_http_methods(["GET"])
def import_detail(request, pk):
    job = _import_job(request, pk)
    preview, error = [], ""
    if job.status == Job.Status.DRAFT:
        try:
            preview = order_import_preview_of(actor=request.user, job=job)
        except (ValidationError, OSError) as exc:
            error = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    return render(request, "complaints/import_detail.html", {"job": job, "preview": preview, "error": error})


@staff_required
@require_POST
def import_start(request, pk):
    job = _import_job(request, pk)
    try:
        job_queue(actor=request.user, job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("complaints:import_detail", pk=job.pk)
