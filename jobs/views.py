"""A job's progress as a page fragment (polled by htmx while it runs) and the file it produced. Signed-in callers
only; who may follow which job is job_visible_to's (its creator, superusers, and the readers its kind names)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from jobs.models import Job
from jobs.selectors import job_visible_to


def _job(request, pk) -> Job:
    job = get_object_or_404(Job.objects.select_related("created_by"), pk=pk)
    if not job_visible_to(user=request.user, job=job):
        raise PermissionDenied(_("You may not follow this job."))
    return job


@login_required
@require_GET
def job_progress(request, pk):
    job = _job(request, pk)
    template = "jobs/_progress.html" if request.headers.get("HX-Request") else "jobs/job.html"
    return render(request, template, {"job": job})


@login_required
@require_GET
def job_output(request, pk):
    job = _job(request, pk)
    if not job.output_file:
        raise Http404(_("This job produced no file."))
    return FileResponse(job.output_file.open("rb"), as_attachment=True, filename=job.output_name or "output",
                        content_type="text/csv; charset=utf-8")
