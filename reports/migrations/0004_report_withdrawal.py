"""Archived monthly reports may be withdrawn by an administrator, with the reason, and regenerated: the withdrawal
is recorded in an append-only table (core.audit.AppendOnly: the audit trigger function of support 0002, which fits
any table with an `actor_id`), and the archived report itself can no longer be changed or deleted from SQL either —
only its `withdrawn_at` is set, once (and `generated_by_id` may become NULL when the account is deleted)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from core.audit import AppendOnly


ARCHIVE = """
CREATE OR REPLACE FUNCTION reports_monthlyreport_archived() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (to_jsonb(NEW) - 'withdrawn_at' - 'generated_by_id') = (to_jsonb(OLD) - 'withdrawn_at' - 'generated_by_id')
       AND (NEW.generated_by_id IS NOT DISTINCT FROM OLD.generated_by_id OR NEW.generated_by_id IS NULL)
       AND (OLD.withdrawn_at IS NULL OR NEW.withdrawn_at IS NOT DISTINCT FROM OLD.withdrawn_at) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'An archived monthly report cannot be changed: % of % is not allowed', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER reports_monthlyreport_archived BEFORE UPDATE OR DELETE ON reports_monthlyreport
    FOR EACH ROW EXECUTE FUNCTION reports_monthlyreport_archived();
"""
DROP = """
DROP TRIGGER IF EXISTS reports_monthlyreport_archived ON reports_monthlyreport;
DROP FUNCTION IF EXISTS reports_monthlyreport_archived();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ARCHIVE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0003_exportrecord_unmasked'),
        ('support', '0002_event_history_append_only'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='monthlyreport',
            name='trigger',
            field=models.CharField(choices=[('scheduled', 'Scheduled (first working day)'), ('on_demand', 'On demand'), ('regenerated', 'Regenerated after a withdrawal')], max_length=16, verbose_name='generated'),
        ),
        migrations.AddField(
            model_name='monthlyreport',
            name='withdrawn_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='withdrawn at'),
        ),
        migrations.CreateModel(
            name='ReportWithdrawal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('actor_name', models.CharField(max_length=150, verbose_name='withdrawn by')),
                ('reason', models.TextField(verbose_name='reason')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='withdrawn at')),
                ('actor', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='withdrawn by')),
                ('replacement', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='replaces', to='reports.monthlyreport', verbose_name='version made in its place')),
                ('report', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='withdrawal', to='reports.monthlyreport', verbose_name='withdrawn version')),
            ],
            options={
                'verbose_name': 'report withdrawal',
                'verbose_name_plural': 'report withdrawals',
                'ordering': ['-created_at', '-id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('reason', ''), _negated=True), name='report_withdrawal_has_reason')],
            },
        ),
        migrations.RunPython(create, drop),
        AppendOnly("reports.ReportWithdrawal"),
    ]
