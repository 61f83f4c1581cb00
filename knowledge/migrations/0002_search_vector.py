"""The search index on PostgreSQL: a stored generated tsvector of the entry's tokens, built with
array_to_tsvector so no text-search parser or locale decides what a token is, and a GIN index on it. SQLite (the
zero-setup demo) searches in Python instead."""

from django.db import migrations

CREATE = """
ALTER TABLE knowledge_searchentry ADD COLUMN tsv tsvector
    GENERATED ALWAYS AS (array_to_tsvector(string_to_array(tokens, ' ', ''))) STORED;
CREATE INDEX knowledge_search_tsv ON knowledge_searchentry USING gin (tsv);
"""
DROP = """
DROP INDEX IF EXISTS knowledge_search_tsv;
ALTER TABLE knowledge_searchentry DROP COLUMN IF EXISTS tsv;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_articles_cases_search")]
    operations = [migrations.RunPython(create, drop)]
