"""Celery tasks of support requests: thin wrappers, safe to run twice (or twice at once)."""

from celery import shared_task

from support.services import support_sweep as sweep


@shared_task(ignore_result=True)
def support_sweep() -> dict:
    return sweep()
