"""Celery tasks of accountability: thin wrappers, safe to run twice."""

from celery import shared_task


@shared_task(ignore_result=True)
def accountability_sweep() -> dict:
    from accountability.services import accountability_sweep as sweep

    return sweep()


@shared_task(ignore_result=True)
def monthly_cycle() -> str:
    from accountability.scoring import monthly_cycle_due

    return str(monthly_cycle_due())
