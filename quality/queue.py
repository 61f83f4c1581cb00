"""Mark orders whose KPI facts must be recomputed. Called in the same transaction as the change (by the audit
trail's writer and the deadline sweep), so a change is never lost and never counted before it commits."""

from collections.abc import Iterable

from quality.models import FactQueue


def facts_queue(*, order_ids: Iterable[int]) -> None:
    FactQueue.objects.bulk_create([FactQueue(order_id=pk) for pk in dict.fromkeys(order_ids)])
