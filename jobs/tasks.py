"""Celery tasks of background jobs: thin wrappers; a duplicate delivery claims nothing and does nothing."""

from celery import shared_task

from jobs.services import job_run as run
from jobs.services import jobs_redispatch as redispatch


@shared_task(ignore_result=True)
def job_run(job_id: int) -> str:
    return run(job_id=job_id)


@shared_task(ignore_result=True)
def jobs_redispatch() -> int:
    return redispatch()
