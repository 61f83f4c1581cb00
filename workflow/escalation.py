"""Escalation (升级): the one rule of raising an order a level, whether a person does it (services.order_escalate)
or the deadline sweep does on a breach (sweep), and the time the sweep waits between levels.

Levels: 1 the department's lead, 2 the complaint-centre manager, 3 the emergency group.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import connection

from complaints.models import OrderStatus, QueueLevel, WorkOrder

MAX_ESCALATION_LEVEL = 3

# The handle step's statuses in which nobody may hold the order yet (waiting for a claim, or on an incident).
_CLAIMABLE = (OrderStatus.QUEUED, OrderStatus.IN_INCIDENT)


class EscalationStep(NamedTuple):
    level: int
    into_lead_queue: bool


def escalation_step(order: WorkOrder) -> EscalationStep | None:
    """The order's next level; None when it cannot rise (finished, or at the top). An order nobody holds at the
    handle step moves to the lead's queue. Reads status, escalation_level and current_owner_id only."""
    if not order.is_open or order.escalation_level >= MAX_ESCALATION_LEVEL:
        return None
    unclaimed = order.status in _CLAIMABLE and order.current_owner_id is None
    return EscalationStep(order.escalation_level + 1, unclaimed)


def escalation_interval(level: int, policy) -> timedelta | None:
    """Time from reaching `level` to the next one, by the workflow policy; None at the top."""
    if level == 1:
        return timedelta(minutes=policy.escalate_level2_after_minutes)
    if level == 2:
        return timedelta(minutes=policy.escalate_level3_after_minutes)
    return None


def escalations_write(raised: dict[int, tuple[EscalationStep, datetime]]) -> None:
    """Write the steps of many orders at once (order id → step, when it happened): one statement on PostgreSQL
    whatever their number. The caller holds the orders' locks."""
    if not raised:
        return
    if connection.vendor != "postgresql":  # the zero-setup SQLite default: demo sizes
        for pk, (step, at) in raised.items():
            changes = {"escalation_level": step.level, "escalated_at": at}
            if step.into_lead_queue:
                changes["queue_level"] = QueueLevel.LEAD
            WorkOrder.objects.filter(pk=pk).update(**changes)
        return
    rows = [(pk, step.level, at, step.into_lead_queue) for pk, (step, at) in raised.items()]
    table = WorkOrder._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS o SET escalation_level = v.level, escalated_at = v.at, "
            f"queue_level = CASE WHEN v.to_lead THEN %s ELSE o.queue_level END "
            f"FROM (VALUES {', '.join(['(%s, %s, %s::timestamptz, %s)'] * len(rows))}) "
            f"AS v(id, level, at, to_lead) WHERE o.id = v.id",
            [QueueLevel.LEAD.value, *[value for row in rows for value in row]],
        )
