from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from support.services import support_sweep


class Command(BaseCommand):
    help = ("Sweep support requests once: warnings, breaches of the promised date, unrated answers closed "
            "(what Celery beat does every 5 minutes).")

    def add_arguments(self, parser):
        parser.add_argument("--at", help="Sweep as of this ISO time (default: now).")

    def handle(self, *args, at=None, **options):
        now = None
        if at:
            now = parse_datetime(at)
            if now is None or now.tzinfo is None:
                raise CommandError("--at needs an ISO time with its offset, e.g. 2026-12-01T09:00:00+08:00.")
        self.stdout.write(str(support_sweep(now=now)))
