"""The history of support requests cannot be edited or deleted, even by SQL from the application's own account
(PostgreSQL), like the orders' audit trail (workflow migration 0004). That trigger function names the columns of
workflow_orderevent, so it cannot serve another table; this one compares whole rows as JSON and so fits any
audit table with an `actor_id` column. The one update allowed is the database's own ON DELETE SET NULL of the
actor: the actor's name stays."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_row_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL AND
       (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'The audit trail is append-only: % of % is not allowed', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER support_supportevent_append_only BEFORE UPDATE OR DELETE ON support_supportevent
    FOR EACH ROW EXECUTE FUNCTION audit_row_append_only();
"""
# The function stays when other tables' triggers still use it.
DROP = """
DROP TRIGGER IF EXISTS support_supportevent_append_only ON support_supportevent;
DO $$ BEGIN
    DROP FUNCTION IF EXISTS audit_row_append_only();
EXCEPTION WHEN dependent_objects_still_exist THEN NULL;
END $$;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("support", "0001_support_requests_flow_policy_events")]
    operations = [migrations.RunPython(create, drop)]
