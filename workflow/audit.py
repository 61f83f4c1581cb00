"""The single writer of the audit trail."""

from django.utils import timezone

from quality.queue import facts_queue
from workflow.models import OrderEvent


def event_record(*, order, actor, action: str, from_status: str = "", to_status: str = "", comment: str = "",
                 data: dict | None = None, at=None) -> OrderEvent:
    facts_queue(order_ids=[order.pk])  # every change of an order is audited, so every change reaches the KPIs
    return OrderEvent.objects.create(
        order=order,
        action=action,
        actor=actor if actor is not None and actor.pk else None,
        actor_name=(str(actor) if actor is not None else "system")[:64],
        from_status=from_status,
        to_status=to_status,
        comment=comment,
        data=data or {},
        created_at=at or timezone.now(),
    )
