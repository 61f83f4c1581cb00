"""The single writer of the audit trail. Every change of an order is audited, and a database trigger queues each
audited order for the KPI rollups in the same transaction (quality migration 0006): a change is never lost and
never counted before it commits."""

from django.utils import timezone

from workflow.models import OrderEvent


def event_record(*, order, actor, action: str, from_status: str = "", to_status: str = "", comment: str = "",
                 data: dict | None = None, at=None) -> OrderEvent:
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
