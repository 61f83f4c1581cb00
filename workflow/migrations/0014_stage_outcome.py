from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("workflow", "0013_split_seeded_calendar_and_policy_texts"),
    ]

    operations = [
        migrations.AddField(
            model_name="orderstage",
            name="outcome",
            field=models.CharField(blank=True, choices=[("in_time", "in time"), ("late", "late")], default="",
                                   max_length=8, verbose_name="outcome"),
        ),
    ]
