"""Reads of background jobs."""

from django.utils.module_loading import import_string

from jobs.models import Job

# Besides its creator and administrators, who may follow a job of each kind: predicate(user, job) -> bool.
READERS = {
    Job.Kind.IMPORT_ORDERS: None,  # the rejected rows carry customers' data: only who ran it
    Job.Kind.ACCOUNTABILITY_MONTH: "accountability.selectors.may_follow_month_close",
}


def job_visible_to(*, user, job: Job) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser or job.created_by_id == user.pk:
        return True
    reader = READERS.get(job.kind)
    return bool(reader) and import_string(reader)(user, job)


def jobs_of(*, user, kind: str, limit: int = 20) -> list[Job]:
    qs = Job.objects.filter(kind=kind).order_by("-created_at", "-id")
    if not user.is_superuser:
        qs = qs.filter(created_by=user)
    return list(qs[:limit])


def job_latest(*, kind: str, key: str) -> Job | None:
    return Job.objects.filter(kind=kind, key=key).exclude(status=Job.Status.DRAFT).order_by("-created_at",
                                                                                             "-id").first()
