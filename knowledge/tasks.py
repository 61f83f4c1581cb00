"""Celery tasks of the knowledge base: thin wrappers, safe to run twice."""

from celery import shared_task

from knowledge.search import stats_refresh_if_stale


@shared_task(ignore_result=True)
def search_stats_refresh() -> bool:
    return stats_refresh_if_stale()
