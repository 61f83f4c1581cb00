"""The support history on the audit base (core.audit.AuditEvent): its from/to status columns are as wide as the
orders' (a widening, no row is rewritten)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('support', '0004_numbers_on_core_counter'),
    ]

    operations = [
        migrations.AlterField(
            model_name='supportevent',
            name='from_status',
            field=models.CharField(blank=True, max_length=24, verbose_name='from'),
        ),
        migrations.AlterField(
            model_name='supportevent',
            name='to_status',
            field=models.CharField(blank=True, max_length=24, verbose_name='to'),
        ),
    ]
