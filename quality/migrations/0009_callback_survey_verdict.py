from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("quality", "0008_batch_alerts_incidents_bulletins")]

    operations = [
        migrations.AddField(
            model_name="callbacksurvey", name="verdict",
            field=models.CharField(choices=[("satisfied", "Satisfied"), ("neutral", "Neutral"),
                                            ("dissatisfied", "Dissatisfied")],
                                   max_length=16, null=True, verbose_name="verdict"),
        ),
        migrations.AlterField(
            model_name="callbacksurvey", name="rating",
            field=models.PositiveSmallIntegerField(
                choices=[(5, "Very satisfied"), (4, "Satisfied"), (3, "Neutral"), (2, "Dissatisfied"),
                         (1, "Very dissatisfied")],
                verbose_name="satisfaction (1–5)"),
        ),
    ]
