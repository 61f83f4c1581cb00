from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accountability", "0005_fill_target_step_months")]

    operations = [
        migrations.AlterField(
            model_name="indicatortarget",
            name="from_month",
            field=models.DateField(help_text="The first day of the first month the target is in force.",
                                   verbose_name="from month"),
        ),
    ]
