import datetime
from decimal import Decimal

from django.db import migrations

CHANNELS = [
    ("hotline", "客服热线", "Hotline"),
    ("hall", "营业厅", "Retail hall"),
    ("web", "网上营业厅", "Web"),
    ("app", "手机客户端", "App"),
    ("sms", "短信营业厅", "SMS"),
    ("account_manager", "客户经理", "Account manager"),
    ("agent_outlet", "代办网点", "Agent outlet"),
]

# Reference authority (分层授权): agents settle ordinary cases with small compensation, dispatchers more.
AUTHORITY = [
    ("frontline_agent", ["complaint", "inquiry", "suggestion"], ["ordinary"], Decimal("50.00")),
    ("dispatcher", ["complaint", "inquiry", "suggestion"], ["ordinary", "difficult"], Decimal("200.00")),
]
EFFECTIVE = datetime.date(2020, 1, 1)


def seed(apps, schema_editor):
    Channel = apps.get_model("complaints", "Channel")
    Group = apps.get_model("auth", "Group")
    AuthorityLevel = apps.get_model("complaints", "AuthorityLevel")
    IntakePolicy = apps.get_model("complaints", "IntakePolicy")
    for code, name, name_en in CHANNELS:
        Channel.objects.get_or_create(code=code, defaults={"name": name, "name_en": name_en})
    for role, kinds, severities, limit in AUTHORITY:
        group = Group.objects.get(name=role)
        AuthorityLevel.objects.get_or_create(
            role=group,
            effective_from=EFFECTIVE,
            defaults={"kinds": kinds, "severities": severities, "max_compensation": limit,
                      "note": "reference default"},
        )
    IntakePolicy.objects.get_or_create(effective_from=EFFECTIVE, defaults={"repeat_window_days": 30})


class Migration(migrations.Migration):
    dependencies = [("complaints", "0002_order_relations"), ("org", "0002_create_roles")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
