"""The orders' audit trail is guarded by the same trigger function as every other audit table
(core.audit.AppendOnly) instead of its own copy (migration 0004), which named each column of workflow_orderevent.
Both refuse the same things with the same message: any DELETE, any UPDATE but the database's own ON DELETE SET NULL
of the actor."""

import importlib

from django.db import migrations

from core.audit import AppendOnly

OWN = """
DROP TRIGGER IF EXISTS workflow_orderevent_append_only ON workflow_orderevent;
DROP FUNCTION IF EXISTS workflow_orderevent_append_only();
"""


def drop_own(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(OWN, params=None)


def restore_own(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        own = importlib.import_module("workflow.migrations.0004_audit_trail_append_only")
        schema_editor.execute(own.CREATE, params=None)


class Migration(migrations.Migration):
    dependencies = [("workflow", "0017_notification_delivery_and_queue_arrivals")]
    operations = [
        migrations.RunPython(drop_own, restore_own),
        AppendOnly("workflow.OrderEvent"),
    ]
