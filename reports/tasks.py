"""Celery tasks of the reports app."""

from celery import shared_task


@shared_task(ignore_result=True)
def monthly_reports() -> list[str]:
    from reports.monthly import monthly_reports_due

    return [str(report) for report in monthly_reports_due()]
