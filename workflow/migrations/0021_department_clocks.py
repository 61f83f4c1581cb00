"""Department clocks: every holding names who held the order, and a return as the wrong department is judged as
such, for the orders already in the database, rebuilt from their audit trail.

Each order's holdings are its dispatch, handling, review and callback stages, which the workflow recorded with
the rules of their day (policy, limit, calendar, deadline, outcome): those stay as they were judged. What the
stages did not record until now is read from the events that ended them: the department of the dispatcher who
dispatched, of the reviewer who reviewed and of whoever answered an inquiry directly (the stage that ended within
a minute of the event, nearest first); and a return as "wrong department" makes the returning department's
holding `misrouted` and the routing before it (the dispatch, or another department's transfer) late.
"""

from datetime import timedelta

from django.db import migrations, models

BATCH = 2000
NEAR = timedelta(minutes=1)
HOLDINGS = ("dispatch", "handle", "review", "callback")
# event action -> the kind of stage it ended, whose holder is the event's actor's department
HOLDER_EVENTS = {"dispatched": "dispatch", "replied": "handle", "review_accepted": "review",
                 "review_rejected": "review"}


def _nearest(stages, kind, at):
    ended = [s for s in stages if s.kind == kind and s.ended_at is not None and abs(s.ended_at - at) <= NEAR]
    return min(ended, key=lambda s: abs(s.ended_at - at), default=None)


def rebuild(apps, schema_editor):
    OrderEvent = apps.get_model("workflow", "OrderEvent")
    OrderStage = apps.get_model("workflow", "OrderStage")
    events = (OrderEvent.objects.filter(action__in=[*HOLDER_EVENTS, "returned"])
              .select_related("actor").order_by("order_id", "created_at", "id"))
    last_order = 0
    while True:
        batch = list(events.filter(order_id__gt=last_order)[:BATCH])
        if not batch:
            break
        last_order = batch[-1].order_id
        if len(batch) == BATCH:  # the last order may continue past the batch: take it whole next time
            batch = [e for e in batch if e.order_id != last_order] or batch
            last_order = batch[-1].order_id
        by_order = {}
        for stage in OrderStage.objects.filter(order_id__in={e.order_id for e in batch}, kind__in=HOLDINGS):
            by_order.setdefault(stage.order_id, []).append(stage)
        changed = {}
        for event in batch:
            stages = by_order.get(event.order_id, [])
            if event.action in HOLDER_EVENTS:
                stage = _nearest(stages, HOLDER_EVENTS[event.action], event.created_at)
                if stage is not None and stage.department_id is None and event.actor is not None \
                        and event.actor.department_id is not None:
                    stage.department_id = event.actor.department_id
                    changed[stage.pk] = stage
            elif (event.data or {}).get("reason_kind") == "wrong_department":
                stage = _nearest(stages, "handle", event.created_at)
                if stage is None:
                    continue
                stage.outcome = "misrouted"
                changed[stage.pk] = stage
                before = [s for s in stages if s.pk != stage.pk and s.ended_at is not None
                          and s.ended_at <= stage.started_at]
                router = max(before, key=lambda s: (s.ended_at, s.pk), default=None)
                if router is not None and router.kind in ("dispatch", "handle") \
                        and router.department_id != stage.department_id:
                    router.outcome = "late"
                    changed[router.pk] = router
        OrderStage.objects.bulk_update(list(changed.values()), ["department_id", "outcome"])


class Migration(migrations.Migration):

    dependencies = [
        ('complaints', '0018_customer_changes_append_only'),
        ('org', '0007_department_queue_notice'),
        ('workflow', '0020_promises_of_orders_already_received'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='orderstage',
            name='stage_outcome_when_ended',
        ),
        migrations.AlterField(
            model_name='orderstage',
            name='outcome',
            field=models.CharField(blank=True, choices=[('in_time', 'in time'), ('late', 'late'), ('misrouted', 'returned as misrouted')], default='', max_length=12, verbose_name='outcome'),
        ),
        migrations.AddConstraint(
            model_name='orderstage',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('ended_at__isnull', True), ('outcome', '')), models.Q(('ended_at__isnull', False), ('outcome__in', ['in_time', 'late', 'misrouted'])), _connector='OR'), name='stage_outcome_when_ended'),
        ),
        migrations.RunPython(rebuild, migrations.RunPython.noop),
    ]
