"""Orders received before the snapshot existed take their customer's tier and brand of today: the best we know."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    WorkOrder = apps.get_model("complaints", "WorkOrder")
    Customer = apps.get_model("complaints", "Customer")
    customer = Customer.objects.filter(pk=OuterRef("customer_id"))
    WorkOrder.objects.filter(customer_tier__isnull=True).update(
        customer_tier=Subquery(customer.values("tier")[:1]), customer_brand=Subquery(customer.values("brand")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [("complaints", "0007_order_customer_tier_brand_nullable")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
