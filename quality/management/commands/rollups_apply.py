from django.core.management.base import BaseCommand

from quality.facts import open_orders_snapshot, rollups_apply


class Command(BaseCommand):
    help = "Apply the queue of changed orders to the KPI rollups now (what Celery beat does every ROLLUP_SECONDS)."

    def add_arguments(self, parser):
        parser.add_argument("--max-seconds", type=float, default=600.0)

    def handle(self, *args, max_seconds, **options):
        report = rollups_apply(max_seconds=max_seconds)
        open_orders_snapshot()
        self.stdout.write(self.style.SUCCESS(f"Applied {report}."))
