import datetime

from django.db import migrations


def fill_from_month(apps, schema_editor):
    """A department's yearly target made before targets stepped by month is in force from the year's January."""
    IndicatorTarget = apps.get_model("accountability", "IndicatorTarget")
    for target in IndicatorTarget.objects.filter(from_month__isnull=True).select_related("indicator"):
        target.from_month = datetime.date(target.indicator.year, 1, 1)
        target.save(update_fields=["from_month"])


class Migration(migrations.Migration):
    dependencies = [("accountability", "0004_indicator_target_steps_and_changes")]

    operations = [migrations.RunPython(fill_from_month, migrations.RunPython.noop)]
