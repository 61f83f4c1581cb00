"""One meaning of a callback rating: "reopen at or below" becomes "dissatisfied at or below" (the same value now
also drives the follow-ups and the KPIs), beside "satisfied at or above"; in between is neutral."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("workflow", "0010_heartbeat")]

    operations = [
        migrations.RemoveConstraint(model_name="workflowpolicy", name="policy_reopen_threshold_1_to_4"),
        migrations.RenameField(model_name="workflowpolicy", old_name="reopen_at_or_below",
                               new_name="dissatisfied_at_or_below"),
        migrations.AlterField(
            model_name="workflowpolicy", name="dissatisfied_at_or_below",
            field=models.PositiveSmallIntegerField(
                default=2, verbose_name="dissatisfied at or below",
                help_text="A callback rating (1–5) at or below this is a dissatisfied customer: the order is reopened, "
                          "a follow-up opens and the satisfaction KPIs count it as dissatisfied."),
        ),
        migrations.AddField(
            model_name="workflowpolicy", name="satisfied_at_or_above",
            field=models.PositiveSmallIntegerField(
                default=4, verbose_name="satisfied at or above",
                help_text="A callback rating at or above this counts as satisfied; ratings in between are neutral."),
        ),
        migrations.AddConstraint(
            model_name="workflowpolicy",
            constraint=models.CheckConstraint(
                condition=models.Q(("dissatisfied_at_or_below__gte", 1),
                                   ("dissatisfied_at_or_below__lt", models.F("satisfied_at_or_above")),
                                   ("satisfied_at_or_above__lte", 5)),
                name="policy_rating_thresholds_ordered"),
        ),
    ]
