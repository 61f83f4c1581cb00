"""Order numbers are taken from the kernel's day counter (series "order"): today's per-day rows are copied there,
so the numbers continue without repeating, and the app's own counter table goes."""

from django.db import migrations

SERIES = "order"


def rows_to_core(apps, schema_editor):
    old = apps.get_model("complaints", "OrderNumberCounter")
    DayCounter = apps.get_model("core", "DayCounter")
    DayCounter.objects.bulk_create(
        [DayCounter(series=SERIES, day=row.day, last=row.last) for row in old.objects.iterator()], batch_size=1000)


def rows_from_core(apps, schema_editor):
    old = apps.get_model("complaints", "OrderNumberCounter")
    DayCounter = apps.get_model("core", "DayCounter")
    rows = DayCounter.objects.filter(series=SERIES)
    old.objects.bulk_create([old(day=row.day, last=row.last) for row in rows.iterator()], batch_size=1000)
    rows.delete()


def forget_the_old_model(apps, schema_editor):
    """Its content type and permissions go with the table (admin would list them, untranslated, on every group)."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="complaints", model="ordernumbercounter").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("complaints", "0016_customer_change"),
        ("core", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(rows_to_core, rows_from_core),
        migrations.DeleteModel(name="OrderNumberCounter"),
        migrations.RunPython(forget_the_old_model, migrations.RunPython.noop),
    ]
