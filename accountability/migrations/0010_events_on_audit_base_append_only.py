"""The accountability history takes the shape of every audit table (core.audit.AuditEvent): its time column is
renamed `created_at` (data kept), it gains the empty from/to status columns, and from now on PostgreSQL refuses
UPDATE and DELETE of its rows."""

from django.db import migrations, models

from core.audit import AppendOnly


class Migration(migrations.Migration):

    dependencies = [
        ('accountability', '0009_score_recomputation'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='accountabilityevent',
            options={'ordering': ['created_at', 'id'], 'verbose_name': 'accountability event', 'verbose_name_plural': 'accountability events'},
        ),
        migrations.RenameField(
            model_name='accountabilityevent',
            old_name='at',
            new_name='created_at',
        ),
        migrations.AddField(
            model_name='accountabilityevent',
            name='from_status',
            field=models.CharField(blank=True, max_length=24, verbose_name='from'),
        ),
        migrations.AddField(
            model_name='accountabilityevent',
            name='to_status',
            field=models.CharField(blank=True, max_length=24, verbose_name='to'),
        ),
        AppendOnly("accountability.AccountabilityEvent"),
    ]
