"""The single writer of the audit trail. Every change of an order is audited, and a database trigger queues each
audited order for the KPI rollups in the same transaction (quality migration 0006): a change is never lost and
never counted before it commits."""

from workflow.models import OrderEvent


def event_record(*, order, actor, action: str, from_status: str = "", to_status: str = "", comment: str = "",
                 data: dict | None = None, at=None) -> OrderEvent:
    return OrderEvent.objects.record(order=order, actor=actor, action=action, from_status=from_status,
                                     to_status=to_status, comment=comment, data=data, at=at)


def event_build(*, order, actor, action: str, from_status: str = "", to_status: str = "", comment: str = "",
                data: dict | None = None, at=None) -> OrderEvent:
    """An event not yet written: several of one step go in together (events_record)."""
    return OrderEvent.objects.build(order=order, actor=actor, action=action, from_status=from_status,
                                    to_status=to_status, comment=comment, data=data, at=at)


def events_record(events: list[OrderEvent]) -> list[OrderEvent]:
    """Write built events in one INSERT, in their order (a new order's intake and its workflow start)."""
    return OrderEvent.objects.bulk_create(events) if events else []
