"""The audit-event base: who did what to which record, when, from which status to which, with what details.

Each domain's history (orders, support requests, accountability, follow-ups…) is a concrete subclass with its own
foreign key to the record it tells about and its own `Action` choices. Its table is append-only: the migration that
creates it ends with `AppendOnly("app.Model")`, a PostgreSQL trigger refusing UPDATE and DELETE even to SQL from the
application's own account. The one update allowed is the database's own ON DELETE SET NULL of the actor, so that
deleting an account keeps its history: the actor's name stays. Schema changes (ALTER TABLE) are not row updates
and stay possible.
"""

from django.conf import settings
from django.db import models
from django.db.migrations.operations.base import Operation
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SYSTEM = "system"
ACTOR_NAME_LENGTH = 64


def actor_fields(actor, *, system_name=SYSTEM) -> dict:
    """The actor columns of an event: the account (none for the system or an unsaved user) and the name shown."""
    return {
        "actor": actor if actor is not None and actor.pk else None,
        "actor_name": str(actor if actor is not None else system_name)[:ACTOR_NAME_LENGTH],
    }


class AuditEventManager(models.Manager):
    def build(self, *, actor, action: str, system_name=SYSTEM, at=None, data: dict | None = None, **fields):
        """An unsaved event (for bulk_create); `fields` name the subject and any of from/to status and comment."""
        return self.model(action=action, **actor_fields(actor, system_name=system_name), data=data or {},
                          created_at=at or timezone.now(), **fields)

    def record(self, *, actor, action: str, system_name=SYSTEM, at=None, data: dict | None = None, **fields):
        """Write one event: the only way rows get into an audit table."""
        event = self.build(actor=actor, action=action, system_name=system_name, at=at, data=data, **fields)
        event.save(force_insert=True)
        return event


class AuditEvent(models.Model):
    """One step in the history of a record. Subclasses add the subject's foreign key and redeclare `action` with
    their own choices; their table is made append-only by `AppendOnly` in its migration."""

    action = models.CharField(_("action"), max_length=32)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(_("actor name"), max_length=ACTOR_NAME_LENGTH)
    from_status = models.CharField(_("from"), max_length=24, blank=True)
    to_status = models.CharField(_("to"), max_length=24, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    objects = AuditEventManager()

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]


# One trigger function for every audit table: it compares whole rows as JSON, so it fits any table with an
# `actor_id` column. Its name and body are those support migration 0002 first created.
FUNCTION = """
CREATE OR REPLACE FUNCTION audit_row_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL AND
       (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'The audit trail is append-only: % of % is not allowed', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""
TRIGGER = """
CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION audit_row_append_only();
"""
# The function stays while other tables' triggers still use it.
DROP = """
DROP TRIGGER IF EXISTS {trigger} ON {table};
DO $$ BEGIN
    DROP FUNCTION IF EXISTS audit_row_append_only();
EXCEPTION WHEN dependent_objects_still_exist THEN NULL;
END $$;
"""


class AppendOnly(Operation):
    """Migration operation: the model's table refuses UPDATE and DELETE (PostgreSQL; nothing on SQLite, the
    zero-setup default). Backwards drops the trigger (and the shared function once no table uses it)."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, model: str):
        self.model = model  # "app_label.ModelName"

    def deconstruct(self):
        return self.__class__.__name__, [self.model], {}

    def state_forwards(self, app_label, state):
        pass

    def _names(self, state, schema_editor) -> dict:
        table = state.apps.get_model(self.model)._meta.db_table
        quote = schema_editor.quote_name
        return {"table": quote(table), "trigger": quote(f"{table}_append_only")}

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(FUNCTION, params=None)
            schema_editor.execute(TRIGGER.format(**self._names(to_state, schema_editor)), params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(DROP.format(**self._names(from_state, schema_editor)), params=None)

    def describe(self):
        return f"Make the table of {self.model} append-only"

    @property
    def migration_name_fragment(self):
        return f"{self.model.split('.')[-1].lower()}_append_only"
