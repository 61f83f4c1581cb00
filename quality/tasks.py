"""Celery tasks of the quality app: thin wrappers, safe to run twice or at once (one applier holds the lease)."""

from celery import shared_task

from quality import batch, facts


@shared_task(ignore_result=True)
def rollups_apply() -> str:
    return str(facts.rollups_apply())


@shared_task(ignore_result=True)
def open_orders_snapshot() -> int:
    return facts.open_orders_snapshot()


@shared_task(ignore_result=True)
def batch_detect() -> str:
    return str(batch.batch_detect())


@shared_task(ignore_result=True)
def incidents_sweep() -> dict:
    return batch.incidents_sweep()


@shared_task(ignore_result=True)
def incident_attach(incident_id: int) -> int:
    return batch.incident_attach_open_orders(incident_id=incident_id)


@shared_task(ignore_result=True)
def incident_answer(incident_id: int) -> int:
    return batch.incident_answer_children(incident_id=incident_id)
