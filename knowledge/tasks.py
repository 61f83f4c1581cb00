"""Celery tasks of the knowledge base: thin wrappers, safe to run twice."""

from celery import shared_task


@shared_task(ignore_result=True)
def search_stats_refresh() -> bool:
    from knowledge.search import stats_refresh_if_stale

    return stats_refresh_if_stale()
