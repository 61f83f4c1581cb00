from django.core.management.base import BaseCommand

from quality.facts import open_orders_snapshot, rollups_rebuild


class Command(BaseCommand):
    help = ("Recompute every order's KPI facts and every rollup table from the orders (after an upgrade, a change "
            "of the region tree, or to check the incremental rollups). Dashboards keep the old numbers until it "
            "commits.")

    def add_arguments(self, parser):
        parser.add_argument("--chunk", type=int, default=250_000, help="Orders per INSERT of facts.")

    def handle(self, *args, chunk, **options):
        timings = rollups_rebuild(chunk=chunk, progress=lambda message: self.stdout.write(f"  {message}"))
        open_orders_snapshot()
        self.stdout.write(self.style.SUCCESS(
            "Rebuilt: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())))
