"""Celery tasks of the workflow: thin wrappers around the services, safe to run twice."""

from celery import shared_task
from django.utils import timezone

from workflow.calendars import calendars_tell_admins_of_unconfirmed_years
from workflow.models import Heartbeat
from workflow.notifications import notifications_send_pending
from workflow.services import orders_resume_due
from workflow.sweep import sweep


def beat(name: str) -> None:
    """Stamp that the job `name` ran now (`/healthz` and `/metrics` read the stamps)."""
    Heartbeat.objects.update_or_create(name=name, defaults={"ran_at": timezone.now()})


@shared_task(ignore_result=True)
def notifications_send() -> int:
    return notifications_send_pending()


@shared_task(ignore_result=True)
def orders_resume_waiting() -> int:
    return orders_resume_due()


@shared_task(ignore_result=True)
def sla_sweep() -> str:
    report = str(sweep())
    beat("sla_sweep")
    return report


@shared_task(ignore_result=True)
def calendars_check() -> list[str]:
    return calendars_tell_admins_of_unconfirmed_years()


HEARTBEAT_SECONDS = 30


@shared_task(ignore_result=True)
def heartbeat() -> None:
    """Beat → broker → worker → database: the row `/healthz` reads to judge beat and the workers fresh."""
    beat("beat")
