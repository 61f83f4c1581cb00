from django.db import migrations


def create_emergency_role(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name="emergency_group")


class Migration(migrations.Migration):
    dependencies = [("org", "0002_create_roles")]
    operations = [migrations.RunPython(create_emergency_role, migrations.RunPython.noop)]
