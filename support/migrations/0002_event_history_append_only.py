"""The history of support requests cannot be edited or deleted, even by SQL from the application's own account
(PostgreSQL), like the orders' audit trail (workflow migration 0004). That trigger function names the columns of
workflow_orderevent, so it cannot serve another table; this one (core.audit.AppendOnly, which first lived here)
compares whole rows as JSON and so fits any audit table with an `actor_id` column. The one update allowed is the
database's own ON DELETE SET NULL of the actor: the actor's name stays."""

from django.db import migrations

from core.audit import AppendOnly


class Migration(migrations.Migration):
    dependencies = [("support", "0001_support_requests_flow_policy_events")]
    operations = [AppendOnly("support.SupportEvent")]
