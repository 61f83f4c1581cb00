"""Celery tasks of accountability: thin wrappers, safe to run twice."""

from celery import shared_task

from accountability.scoring import monthly_cycle_due
from accountability.services import accountability_sweep as sweep


@shared_task(ignore_result=True)
def accountability_sweep() -> dict:
    return sweep()


@shared_task(ignore_result=True)
def monthly_cycle() -> str:
    return str(monthly_cycle_due())
