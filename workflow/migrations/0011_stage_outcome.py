from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("workflow", "0010_heartbeat"),
    ]

    operations = [
        migrations.AddField(
            model_name="orderstage",
            name="outcome",
            field=models.CharField(blank=True, choices=[("in_time", "in time"), ("late", "late")], default="",
                                   max_length=8, verbose_name="outcome"),
        ),
    ]
