"""The design's reference values: a problem answered within 5 working days, a requirement within 10, a deferral at
most 30 working days, warning at 80 per cent, 5 working days to rate, a rating of 2 or lower may reopen once."""

import datetime

from django.db import migrations


def seed(apps, schema_editor):
    apps.get_model("support", "SupportPolicy").objects.get_or_create(
        effective_from=datetime.date(2020, 1, 1),
        defaults={"problem_working_days": 5, "requirement_working_days": 10, "max_deferral_working_days": 30,
                  "warn_percent": 80, "rating_window_working_days": 5, "reopen_at_or_below": 2},
    )


class Migration(migrations.Migration):
    dependencies = [("support", "0002_event_history_append_only")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
