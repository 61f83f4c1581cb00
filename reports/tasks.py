"""Celery tasks of the reports app."""

from celery import shared_task

from reports.monthly import monthly_reports_due


@shared_task(ignore_result=True)
def monthly_reports() -> list[str]:
    return [str(report) for report in monthly_reports_due()]
