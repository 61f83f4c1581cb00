"""The audit trail cannot be edited or deleted, even by SQL from the application's own account (PostgreSQL).
The one update allowed is the database's own ON DELETE SET NULL of the actor: the actor's name stays."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION workflow_orderevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL AND
       (NEW.id, NEW.order_id, NEW.action, NEW.actor_name, NEW.from_status, NEW.to_status, NEW.comment,
        NEW.data::text, NEW.created_at) IS NOT DISTINCT FROM
       (OLD.id, OLD.order_id, OLD.action, OLD.actor_name, OLD.from_status, OLD.to_status, OLD.comment,
        OLD.data::text, OLD.created_at) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'The audit trail is append-only: % of workflow_orderevent is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER workflow_orderevent_append_only BEFORE UPDATE OR DELETE ON workflow_orderevent
    FOR EACH ROW EXECUTE FUNCTION workflow_orderevent_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS workflow_orderevent_append_only ON workflow_orderevent;
DROP FUNCTION IF EXISTS workflow_orderevent_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("workflow", "0003_seed_workflow_policy")]
    operations = [migrations.RunPython(create, drop)]
