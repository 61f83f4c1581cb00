"""Earlier installations authenticated channel systems with DRF's plain tokens (rest_framework.authtoken): each
becomes an ApiToken with every scope, keeping its key (now kept only as a hash), and the plain keys are dropped."""

import hashlib

from django.db import migrations

SCOPES = ["orders:read", "orders:write", "orders:act", "support:read", "support:write"]


def import_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("org", "ApiToken")
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id, created FROM authtoken_token")
        rows = cursor.fetchall()
    for key, user_id, created in rows:
        ApiToken.objects.get_or_create(key_hash=hashlib.sha256(key.encode()).hexdigest(), defaults={
            "name": "imported DRF token", "user_id": user_id, "prefix": key[:10], "scopes": SCOPES,
            "created_at": created})
    schema_editor.execute("DROP TABLE authtoken_token")


class Migration(migrations.Migration):
    dependencies = [("org", "0005_apitoken")]
    operations = [migrations.RunPython(import_tokens, migrations.RunPython.noop)]
