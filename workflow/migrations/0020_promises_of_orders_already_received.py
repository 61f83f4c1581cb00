"""The customer's promise of every order received before it had its own clock, from what its history recorded.

Until now the promise was the deadline of the order's latest handling stage, so a transfer or a return moved it.
Each order that went through the workflow gets the promise it was given at the time: from its received time to
the original deadline of its first handling stage (the rules of that day, as that stage recorded them), moved on
by what moved its first handling stage (time waiting for the customer, an approved extension) and by any later
approved extension past it. It ends when the order was first replied (or closed, or cancelled) and is judged
against that moment. Warnings and breaches already in the past are stamped as seen, so the sweep does not
announce history; `promised_at` follows the rebuilt promise.
"""

from django.db import migrations
from django.db.models import Max

BATCH = 2000


def rebuild(apps, schema_editor):
    WorkOrder = apps.get_model("complaints", "WorkOrder")
    OrderStage = apps.get_model("workflow", "OrderStage")
    ExtensionRequest = apps.get_model("workflow", "ExtensionRequest")
    from django.utils import timezone

    now = timezone.now()
    with_promise = OrderStage.objects.filter(kind="promise").values("order_id")
    first_handles = (OrderStage.objects.filter(kind="handle").exclude(order_id__in=with_promise)
                     .order_by("order_id", "started_at", "id"))
    last_id = 0
    while True:
        stages = list(first_handles.filter(order_id__gt=last_id)[:BATCH])
        if not stages:
            break
        first = {}
        for stage in stages:
            first.setdefault(stage.order_id, stage)
        last_id = stages[-1].order_id
        ids = list(first)
        orders = {o.pk: o for o in WorkOrder.objects.filter(pk__in=ids).only(
            "pk", "received_at", "replied_at", "closed_at", "cancelled_at", "promised_at")}
        extended = dict(ExtensionRequest.objects.filter(order_id__in=ids, status="approved")
                        .values("order_id").annotate(until=Max("until")).values_list("order_id", "until"))
        promises, moved = [], []
        for order_id, handle in first.items():
            order = orders[order_id]
            start = min(order.received_at, handle.started_at)
            due = handle.due_at
            if extended.get(order_id) and extended[order_id] > due:
                due = extended[order_id]
            warn = start + (due - start) * 0.8
            end = order.replied_at or order.closed_at or order.cancelled_at
            promises.append(OrderStage(
                order_id=order_id, kind="promise", cause="receipt", department=None, started_at=start,
                due_at=due, warn_at=min(warn, due), original_due_at=handle.original_due_at, policy_id=handle.policy_id,
                limit_amount=handle.limit_amount, limit_unit=handle.limit_unit, calendar_id=handle.calendar_id,
                calendar_unconfirmed=handle.calendar_unconfirmed, extended=due != handle.original_due_at and (
                    handle.extended or bool(extended.get(order_id))),
                ended_at=end, outcome=("late" if due < end else "in_time") if end else "",
                warned_at=warn if warn <= now else None, overdue_at=due if due <= now else None))
            if order.promised_at != due:
                order.promised_at = due
                moved.append(order)
        OrderStage.objects.bulk_create(promises)
        WorkOrder.objects.bulk_update(moved, ["promised_at"])


class Migration(migrations.Migration):

    dependencies = [
        ("workflow", "0019_customer_promise"),
        ("complaints", "0018_customer_changes_append_only"),
    ]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
