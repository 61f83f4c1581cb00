"""Every row of the audit trail queues its order for the KPI rollups, in the same transaction, whoever writes it
(a service, the deadline sweep's bulk inserts, an import): a trigger, on PostgreSQL and on SQLite alike."""

from django.db import migrations

POSTGRES = """
CREATE OR REPLACE FUNCTION quality_queue_audited_order() RETURNS trigger AS $$
BEGIN
    INSERT INTO quality_factqueue (order_id, queued_at) VALUES (NEW.order_id, now());
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER quality_queue_audited_order AFTER INSERT ON workflow_orderevent
    FOR EACH ROW EXECUTE FUNCTION quality_queue_audited_order();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS quality_queue_audited_order ON workflow_orderevent;
DROP FUNCTION IF EXISTS quality_queue_audited_order();
"""
SQLITE = """
CREATE TRIGGER quality_queue_audited_order AFTER INSERT ON workflow_orderevent
BEGIN
    INSERT INTO quality_factqueue (order_id, queued_at) VALUES (NEW.order_id, strftime('%Y-%m-%d %H:%M:%f', 'now'));
END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS quality_queue_audited_order;"


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE, params=None)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("quality", "0006_fact_queue_order_index"), ("workflow", "0006_seed_calendar_and_time_limits")]
    operations = [migrations.RunPython(create, drop)]
