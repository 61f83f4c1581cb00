from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from workflow.sweep import sweep


class Command(BaseCommand):
    help = ("Run the deadline sweep once (what Celery beat runs every SLA_SWEEP_SECONDS): warnings, breaches, "
            "escalations, then their notifications. --at sweeps as of another moment (e.g. to catch up or test).")

    def add_arguments(self, parser):
        parser.add_argument("--at", help="ISO time to sweep as of (default now; without a zone: Asia/Shanghai).")

    def handle(self, *args, at=None, **options):
        now = timezone.now()
        if at:
            try:
                now = datetime.fromisoformat(at)
            except ValueError:
                raise CommandError(f"--at {at!r} is not an ISO time such as 2026-11-25T14:30.") from None
            if timezone.is_naive(now):
                now = timezone.make_aware(now, timezone.get_current_timezone())
        report = sweep(now=now)
        self.stdout.write(f"Sweep as of {timezone.localtime(now):%Y-%m-%d %H:%M:%S}: {report}.")
