import datetime

from django.core.management.base import BaseCommand, CommandError

from accountability.scoring import month_close


class Command(BaseCommand):
    help = ("Score a month (default: the last one) for every department, send the notices and open, update or close "
            "the improvement orders. Running it again for a month replaces its scores.")

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM; default: last month")

    def handle(self, *args, month=None, **options):
        from django.utils import timezone

        if month:
            try:
                day = datetime.datetime.strptime(month, "%Y-%m").date()
            except ValueError:
                raise CommandError("--month takes YYYY-MM, e.g. 2026-11.") from None
        else:
            day = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
        if day >= timezone.localdate().replace(day=1):
            raise CommandError("Only a month that has ended can be scored.")
        self.stdout.write(self.style.SUCCESS(f"{day:%Y-%m}: {month_close(month=day)}."))
