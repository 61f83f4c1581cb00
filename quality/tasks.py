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
