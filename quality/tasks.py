"""Celery tasks of the quality app: thin wrappers, safe to run twice or at once (one applier holds the lease)."""

from celery import shared_task


@shared_task(ignore_result=True)
def rollups_apply() -> str:
    from quality.facts import rollups_apply as apply

    return str(apply())


@shared_task(ignore_result=True)
def open_orders_snapshot() -> int:
    from quality.facts import open_orders_snapshot as snapshot

    return snapshot()


@shared_task(ignore_result=True)
def batch_detect() -> str:
    from quality.batch import batch_detect as detect

    return str(detect())


@shared_task(ignore_result=True)
def incidents_sweep() -> dict:
    from quality.batch import incidents_sweep as sweep

    return sweep()


@shared_task(ignore_result=True)
def incident_attach(incident_id: int) -> int:
    from quality.batch import incident_attach_open_orders

    return incident_attach_open_orders(incident_id=incident_id)


@shared_task(ignore_result=True)
def incident_answer(incident_id: int) -> int:
    from quality.batch import incident_answer_children

    return incident_answer_children(incident_id=incident_id)
