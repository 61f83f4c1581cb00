import datetime

from django.db import migrations


def seed(apps, schema_editor):
    apps.get_model("workflow", "WorkflowPolicy").objects.get_or_create(
        effective_from=datetime.date(2020, 1, 1),
        defaults={"callback_max_attempts": 3, "max_wait_days": 7},  # the rating thresholds: the fields' defaults
    )


class Migration(migrations.Migration):
    dependencies = [("workflow", "0002_process_task_notification_policy")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
