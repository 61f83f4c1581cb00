from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("quality", "0010_fill_callback_survey_verdicts")]

    operations = [
        migrations.AlterField(
            model_name="callbacksurvey", name="verdict",
            field=models.CharField(choices=[("satisfied", "Satisfied"), ("neutral", "Neutral"),
                                            ("dissatisfied", "Dissatisfied")],
                                   max_length=16, verbose_name="verdict"),
        ),
    ]
