"""Every callback recorded before SMS surveys existed was an agent's call: the stored facts and the rollups count
them as callbacks by phone (the new columns started at 0)."""

from django.db import migrations

TABLES = ["OrderFact", "RollupDaily", "RollupCounty", "RollupHourly", "RollupCategory", "RollupCategoryAll",
          "RollupDepartment", "RollupChannel", "RollupCustomer"]


def by_phone(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # the rollup applier waits (its lease row) while the columns fill
            cursor.execute("SELECT 1 FROM quality_rollupstate FOR UPDATE")
        for name in TABLES:
            table = apps.get_model("quality", name)._meta.db_table
            cursor.execute(f"UPDATE {table} SET called_back_phone = called_back WHERE called_back <> 0")


class Migration(migrations.Migration):
    dependencies = [("quality", "0016_callbacks_by_sms_and_phone")]
    operations = [migrations.RunPython(by_phone, migrations.RunPython.noop)]
