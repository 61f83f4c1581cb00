"""The record of changes to customers' data becomes append-only in PostgreSQL, as its docstring always said and as
every audit table is (core.audit.AppendOnly): the one update allowed is the database's own ON DELETE SET NULL of
the actor."""

from django.db import migrations

from core.audit import AppendOnly


class Migration(migrations.Migration):
    dependencies = [("complaints", "0017_order_numbers_on_core_counter")]
    operations = [AppendOnly("complaints.CustomerChange")]
