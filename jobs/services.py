"""Writes on background jobs. A job is created by a page (as a draft, or queued at once), dispatched to Celery when
its transaction commits, claimed by exactly one worker with a compare-and-set, and updated as it goes; a beat task
re-dispatches jobs the broker lost and jobs whose worker died. Each kind's work is a runner function that must be
safe to run again from the start (it finds what an earlier attempt committed and skips it)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from jobs.models import Job

log = logging.getLogger("jobs")

# What runs each kind: runner(job=Job, progress=Progress) -> dict (stored as the job's result).
RUNNERS = {
    Job.Kind.IMPORT_ORDERS: "workflow.order_import.job_run_import",
    Job.Kind.ACCOUNTABILITY_MONTH: "accountability.scoring.job_run_month_close",
}
# A queued job no worker has taken after this long is sent again; a running one without progress for this long has
# lost its worker and starts again (its runner skips what was committed).
REDISPATCH_AFTER = timedelta(seconds=60)
STALE_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 3


class Progress:
    """What a runner calls as it goes: written at once (outside the runner's transactions) for the page to poll."""

    def __init__(self, job: Job):
        self.job = job

    def __call__(self, done: int, total: int | None = None, step: str | None = None) -> None:
        values = {"done": done, "heartbeat_at": timezone.now()}
        if total is not None:
            values["total"] = total
            values["done"] = min(done, total)
        if step is not None:
            values["step"] = step[:200]
        Job.objects.filter(pk=self.job.pk, status=Job.Status.RUNNING).update(**values)
        for name, value in values.items():
            setattr(self.job, name, value)


def job_create(*, actor, kind: str, title: str, params: dict | None = None, key: str = "", input_file=None,
               input_name: str = "", queue: bool = True) -> Job:
    """A new job; queued for a worker when `queue`, else a draft that `job_queue` starts later."""
    if kind not in RUNNERS:
        raise ValidationError({"kind": [_("Unknown kind of job.")]})
    job = Job(kind=kind, title=title[:200], params=params or {}, key=key[:64], created_by=actor,
              created_by_name=str(actor)[:64], input_name=input_name[:255])
    if input_file is not None:
        job.input_file.save(input_name or "input", input_file, save=False)
    try:
        with transaction.atomic():
            job.save(force_insert=True)
            if queue:
                _queue(job)
    except IntegrityError:
        raise ValidationError(_("The same work is already running (%(title)s); wait for it to finish.")
                              % {"title": title}) from None
    return job


def job_queue(*, actor, job: Job) -> Job:
    """Start a draft, or start a failed job again (its runner skips what was committed): only its creator may."""
    if job.created_by_id != actor.pk and not actor.is_superuser:
        raise PermissionDenied(_("Only the person who prepared this job may start it."))
    try:
        with transaction.atomic():
            locked = Job.objects.select_for_update().get(pk=job.pk)
            if locked.status not in (Job.Status.DRAFT, Job.Status.FAILED):
                raise ValidationError(_("This job was already started (%(status)s).")
                                      % {"status": locked.get_status_display()})
            if locked.status == Job.Status.FAILED:
                locked.attempts, locked.error, locked.finished_at = 0, "", None
                locked.save(update_fields=["attempts", "error", "finished_at"])
            _queue(locked)
    except IntegrityError:
        raise ValidationError(_("The same work is already running; wait for it to finish.")) from None
    return locked


def _queue(job: Job) -> None:
    job.status = Job.Status.QUEUED
    job.queued_at = timezone.now()
    job.save(update_fields=["status", "queued_at"])
    transaction.on_commit(lambda: _dispatch(job.pk))


def _dispatch(job_id: int) -> None:
    from jobs.tasks import job_run as task  # local: jobs.tasks imports this module

    try:
        task.delay(job_id)
    except Exception:  # the broker is down: the beat task sends it again once it is back
        log.warning("job %s could not be sent to the broker; it will be re-sent", job_id, exc_info=True)


def job_run(*, job_id: int) -> str:
    """Claim the job (one worker only, whatever the broker redelivers) and run it to the end."""
    now = timezone.now()
    claimed = (Job.objects.filter(pk=job_id)
               .filter(Q(status=Job.Status.QUEUED) | Q(status=Job.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER))
               .update(status=Job.Status.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1))
    if not claimed:
        return "not claimed"
    job = Job.objects.select_related("created_by").get(pk=job_id)
    if job.attempts > MAX_ATTEMPTS:
        _finish(job, status=Job.Status.FAILED,
                error=_("Stopped after %(count)s attempts that did not finish.") % {"count": MAX_ATTEMPTS})
        return "failed"
    runner: Callable = import_string(RUNNERS[job.kind])
    try:
        result = runner(job=job, progress=Progress(job))
    except (ValidationError, PermissionDenied) as exc:
        messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        _finish(job, status=Job.Status.FAILED, error="\n".join(messages))
        return "failed"
    except Exception as exc:
        log.exception("job %s (%s) failed", job.pk, job.kind)
        _finish(job, status=Job.Status.FAILED,
                error=_("An internal error stopped the job (%(error)s); what was committed stays, and starting it "
                        "again continues from there.") % {"error": type(exc).__name__})
        return "failed"
    _finish(job, status=Job.Status.SUCCEEDED, result=result or {})
    return "succeeded"


def _finish(job: Job, *, status: str, result: dict | None = None, error: str = "") -> None:
    values = {"status": status, "finished_at": timezone.now(), "heartbeat_at": timezone.now(), "error": error[:5000]}
    if result is not None:
        values["result"] = result
    if status == Job.Status.SUCCEEDED:
        values["done"] = job.total if job.total is not None else job.done
    Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(**values)
    for name, value in values.items():
        setattr(job, name, value)
    log.info("job %s (%s) %s", job.pk, job.kind, status)


def job_output_save(*, job: Job, name: str, content) -> None:
    """A file the job produced for its reader (e.g. the rejected rows), replacing one of an earlier attempt."""
    if job.output_file:
        job.output_file.delete(save=False)
    job.output_file.save(name, content, save=False)
    job.output_name = name[:255]
    Job.objects.filter(pk=job.pk).update(output_file=job.output_file.name, output_name=job.output_name)


def jobs_redispatch(*, now=None) -> int:
    """Beat's safety net: send again the queued jobs nobody took and the running ones whose worker died."""
    now = now or timezone.now()
    lost = list(Job.objects.filter(
        Q(status=Job.Status.QUEUED, queued_at__lt=now - REDISPATCH_AFTER)
        | Q(status=Job.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER)).values_list("pk", flat=True)[:100])
    for job_id in lost:
        _dispatch(job_id)
    return len(lost)
