"""The follow-up history takes the shape of every audit table (core.audit.AuditEvent): its time column is renamed
`created_at` (data kept), it gains the empty from/to status columns, its action column is as wide as the others', and
from now on PostgreSQL refuses UPDATE and DELETE of its rows."""

from django.db import migrations, models

from core.audit import AppendOnly


class Migration(migrations.Migration):

    dependencies = [
        ('quality', '0011_callback_survey_verdict_required'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='followupevent',
            options={'ordering': ['created_at', 'id'], 'verbose_name': 'follow-up event', 'verbose_name_plural': 'follow-up events'},
        ),
        migrations.RenameField(
            model_name='followupevent',
            old_name='at',
            new_name='created_at',
        ),
        migrations.AddField(
            model_name='followupevent',
            name='from_status',
            field=models.CharField(blank=True, max_length=24, verbose_name='from'),
        ),
        migrations.AddField(
            model_name='followupevent',
            name='to_status',
            field=models.CharField(blank=True, max_length=24, verbose_name='to'),
        ),
        migrations.AlterField(
            model_name='followupevent',
            name='action',
            field=models.CharField(choices=[('opened', 'Opened'), ('triggered_again', 'Dissatisfied again'), ('taken', 'Taken'), ('contacted', 'Contact attempt'), ('closed', 'Closed')], max_length=32, verbose_name='action'),
        ),
        AppendOnly("quality.FollowUpEvent"),
    ]
