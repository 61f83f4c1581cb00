"""The cubes were regrouped: forget the old counts and queue every order, so the rollup task counts them again
(or run `manage.py rollups_rebuild` at once)."""

from django.db import migrations


def recount(apps, schema_editor):
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
    dependencies = [("quality", "0004_regroup_rollups_by_one_fine_dimension")]
    operations = [migrations.RunPython(recount, migrations.RunPython.noop)]
