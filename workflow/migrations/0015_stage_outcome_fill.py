"""Record the outcome of every stage that has already ended, judged as the clock said when it ended: a stage
ended while paused stopped its clock when the pause began (and that pause ends with it)."""

from django.db import migrations
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce


def fill(apps, schema_editor):
    OrderStage = apps.get_model("workflow", "OrderStage")
    StagePause = apps.get_model("workflow", "StagePause")
    ended = OrderStage.objects.filter(ended_at__isnull=False, outcome="")
    ended.filter(due_at__lt=Coalesce("paused_at", "ended_at")).update(outcome="late")
    ended.filter(outcome="").update(outcome="in_time")
    StagePause.objects.filter(ended_at__isnull=True, stage__ended_at__isnull=False).update(
        ended_at=Subquery(OrderStage.objects.filter(pk=OuterRef("stage_id")).values("ended_at")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ("workflow", "0014_stage_outcome"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
