from django.db import migrations

# Roles whose work is calling the customer on the order in front of them see full numbers; the quality team and
# administrators see them masked and may reveal one (logged). Superusers hold every permission.
FULL = ["frontline_agent", "dispatcher", "department_handler", "department_lead", "emergency_group",
        "channel_system"]
UNMASK = ["quality_manager", "admin"]
NAMES = {"view_full_phone": "Can see customers' full phone numbers",
         "unmask_phone": "Can reveal a masked phone number (each reveal is logged)"}


def grant(apps, schema_editor):
    # The permissions are created after the migrations otherwise; the grant needs them now.
    ContentType = apps.get_model("contenttypes", "ContentType")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    customer, _ = ContentType.objects.get_or_create(app_label="complaints", model="customer")
    for codename, names in (("view_full_phone", FULL), ("unmask_phone", UNMASK)):
        permission, _ = Permission.objects.get_or_create(content_type=customer, codename=codename,
                                                         defaults={"name": NAMES[codename]})
        for group in Group.objects.filter(name__in=names):
            group.permissions.add(permission)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(content_type__app_label="complaints",
                              codename__in=["view_full_phone", "unmask_phone"]).delete()


class Migration(migrations.Migration):
    dependencies = [("complaints", "0012_phone_permissions_and_disclosure"), ("org", "0003_emergency_group_role"),
                    ("auth", "0012_alter_user_first_name_max_length"), ("contenttypes", "0002_remove_content_type_name")]
    operations = [migrations.RunPython(grant, revoke)]
