"""Callback surveys from the audit trail of callbacks already made, and every existing order queued so the rollup
task computes its KPI facts (or run `manage.py rollups_rebuild` at once)."""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations


def backfill(apps, schema_editor):
    OrderEvent = apps.get_model("workflow", "OrderEvent")
    CallbackSurvey = apps.get_model("quality", "CallbackSurvey")
    FactQueue = apps.get_model("quality", "FactQueue")
    WorkOrder = apps.get_model("complaints", "WorkOrder")
    tz = ZoneInfo(settings.TIME_ZONE)
    rounds: dict[int, int] = {}
    surveys = []
    events = (OrderEvent.objects.filter(action__in=["called_back", "reopened"])
              .select_related("actor").order_by("order_id", "created_at", "id"))
    for event in events.iterator(chunk_size=2000):
        if event.action == "reopened":
            rounds[event.order_id] = rounds.get(event.order_id, 1) + 1
            continue
        rating = (event.data or {}).get("satisfaction")
        if not isinstance(rating, int):
            continue
        local = event.created_at.astimezone(tz)
        surveys.append(CallbackSurvey(
            order_id=event.order_id, at=event.created_at, day=local.date(), hour=local.hour, rating=rating,
            solved=bool((event.data or {}).get("solved")), comment=event.comment, agent_id=event.actor_id,
            agent_name=event.actor_name, unit_id=event.actor.department_id if event.actor_id else None,
            round=rounds.get(event.order_id, 1),
        ))
    CallbackSurvey.objects.bulk_create(surveys, batch_size=2000)
    ids = WorkOrder.objects.order_by("id").values_list("id", flat=True)
    batch = []
    for pk in ids.iterator(chunk_size=5000):
        batch.append(FactQueue(order_id=pk))
        if len(batch) == 5000:
            FactQueue.objects.bulk_create(batch)
            batch = []
    FactQueue.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("quality", "0001_callback_surveys_facts_rollups_followups"),
        ("workflow", "0006_seed_calendar_and_time_limits"),
        ("complaints", "0009_order_customer_tier_brand_required"),
    ]
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
