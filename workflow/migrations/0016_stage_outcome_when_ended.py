from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("workflow", "0015_stage_outcome_fill"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="orderstage",
            constraint=models.CheckConstraint(
                condition=models.Q(models.Q(("ended_at__isnull", True), ("outcome", "")),
                                   models.Q(("ended_at__isnull", False), ("outcome__in", ["in_time", "late"])),
                                   _connector="OR"),
                name="stage_outcome_when_ended"),
        ),
    ]
