"""Every past rating judged by the workflow policy in force when its order was received (before any policy: 1–2
dissatisfied, 4–5 satisfied), then the cubes counted again: their satisfied and dissatisfied sums change (the
dissatisfied used to be the 1s only). As in 0005, the rollup task recounts the queued orders (or run
`manage.py rollups_rebuild` at once)."""

import datetime
from zoneinfo import ZoneInfo

from django.db import migrations
from django.db.models import Case, Q, Value, When

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _verdict(dissatisfied_at_or_below, satisfied_at_or_above):
    return Case(When(rating__lte=dissatisfied_at_or_below, then=Value("dissatisfied")),
                When(rating__gte=satisfied_at_or_above, then=Value("satisfied")), default=Value("neutral"))


def fill(apps, schema_editor):
    Survey = apps.get_model("quality", "CallbackSurvey")
    policies = list(apps.get_model("workflow", "WorkflowPolicy").objects.order_by("effective_from"))
    if not Survey.objects.exists():
        return
    starts = [datetime.datetime.combine(p.effective_from, datetime.time(), SHANGHAI) for p in policies]
    windows = [(None, starts[0] if starts else None, 2, 4)]
    for i, policy in enumerate(policies):
        end = starts[i + 1] if i + 1 < len(starts) else None
        windows.append((starts[i], end, policy.dissatisfied_at_or_below, policy.satisfied_at_or_above))
    for start, end, low, high in windows:
        q = Q()
        if start is not None:
            q &= Q(order__received_at__gte=start)
        if end is not None:
            q &= Q(order__received_at__lt=end)
        Survey.objects.filter(q, verdict__isnull=True).update(verdict=_verdict(low, high))
    recount(apps)


def recount(apps):
    for name in ("OrderFact", "RollupDaily", "RollupHourly", "RollupCategory", "RollupCustomer", "RollupDepartment",
                 "RollupChannel", "RollupCategoryAll"):
        apps.get_model("quality", name).objects.all().delete()
    FactQueue = apps.get_model("quality", "FactQueue")
    FactQueue.objects.all().delete()
    WorkOrder = apps.get_model("complaints", "WorkOrder")
    batch = []
    for pk in WorkOrder.objects.order_by("id").values_list("id", flat=True).iterator(chunk_size=5000):
        batch.append(FactQueue(order_id=pk))
        if len(batch) == 5000:
            FactQueue.objects.bulk_create(batch)
            batch = []
    FactQueue.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [("quality", "0009_callback_survey_verdict"), ("workflow", "0011_policy_rating_thresholds")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
