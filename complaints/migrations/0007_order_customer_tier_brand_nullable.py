from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("complaints", "0006_order_queue_by_deadline_index")]

    operations = [
        migrations.AddField(
            model_name="workorder",
            name="customer_tier",
            field=models.CharField(max_length=16, null=True, verbose_name="customer tier at intake", choices=[
                ("diamond", "Diamond VIP"), ("gold", "Gold VIP"), ("silver", "Silver VIP"),
                ("group", "Group customer"), ("ordinary", "Ordinary")]),
        ),
        migrations.AddField(
            model_name="workorder",
            name="customer_brand",
            field=models.CharField(max_length=16, null=True, verbose_name="brand at intake", choices=[
                ("gotone", "GoTone (全球通)"), ("mzone", "M-Zone (动感地带)"), ("easyown", "Easyown (神州行)"),
                ("other", "Other")]),
        ),
    ]
