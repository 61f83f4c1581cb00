from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from quality.batch import batch_detect


class Command(BaseCommand):
    help = "Run the batch-complaint detector once (what Celery beat does every minute)."

    def add_arguments(self, parser):
        parser.add_argument("--at", help="ISO time to detect as of (default: now)")

    def handle(self, *args, at=None, **options):
        now = None
        if at:
            now = parse_datetime(at)
            if now is None or now.tzinfo is None:
                raise CommandError("--at takes an ISO time with its zone, e.g. 2026-12-01T10:00:00+08:00.")
        self.stdout.write(str(batch_detect(now=now)))
