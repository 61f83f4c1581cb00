"""The customer's promise kept, the departments' holdings judged and in time, and ping-pong orders, as measures of
every fact and cube. Orders already closed are queued so the rollup task counts them (or run `manage.py
rollups_rebuild` at once); their clocks were rebuilt by the workflow's migrations 0020 and 0021 first."""

from django.db import migrations, models


def queue_closed(apps, schema_editor):
    FactQueue = apps.get_model("quality", "FactQueue")
    WorkOrder = apps.get_model("complaints", "WorkOrder")
    batch = []
    for pk in WorkOrder.objects.filter(closed_at__isnull=False).order_by("id").values_list("id", flat=True).iterator(
            chunk_size=5000):
        batch.append(FactQueue(order_id=pk))
        if len(batch) == 5000:
            FactQueue.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    FactQueue.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ('workflow', '0021_department_clocks'),
        ('quality', '0012_follow_up_events_on_audit_base_append_only'),
    ]

    operations = [
        migrations.AddField(
            model_name='orderfact',
            name='holdings',
            field=models.SmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='orderfact',
            name='holdings_in_time',
            field=models.SmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='orderfact',
            name='ping_pong',
            field=models.SmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='orderfact',
            name='promise_kept',
            field=models.SmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupcategory',
            name='holdings',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupcategory',
            name='holdings_in_time',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupcategory',
            name='ping_pong',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupcategory',
            name='promise_kept',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupcategoryall',
            name='holdings',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupcategoryall',
            name='holdings_in_time',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupcategoryall',
            name='ping_pong',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupcategoryall',
            name='promise_kept',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupchannel',
            name='holdings',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupchannel',
            name='holdings_in_time',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupchannel',
            name='ping_pong',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupchannel',
            name='promise_kept',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupcustomer',
            name='holdings',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupcustomer',
            name='holdings_in_time',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupcustomer',
            name='ping_pong',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupcustomer',
            name='promise_kept',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupdaily',
            name='holdings',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupdaily',
            name='holdings_in_time',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupdaily',
            name='ping_pong',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupdaily',
            name='promise_kept',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupdepartment',
            name='holdings',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupdepartment',
            name='holdings_in_time',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupdepartment',
            name='ping_pong',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rollupdepartment',
            name='promise_kept',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rolluphourly',
            name='holdings',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rolluphourly',
            name='holdings_in_time',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rolluphourly',
            name='ping_pong',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='rolluphourly',
            name='promise_kept',
            field=models.IntegerField(default=0),
        ),
        migrations.RunPython(queue_closed, migrations.RunPython.noop),
    ]
