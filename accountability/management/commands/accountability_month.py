import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accountability.scoring import month_close
from accountability.services import month_scores_recompute


class Command(BaseCommand):
    help = ("Score a month (default: the last one) for every department, send the notices and open, update or close "
            "the improvement orders. A month already scored is archived: it is computed again only with --recompute, "
            "--reason and --user (an administrator or a quality manager), which is recorded.")

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM; default: last month")
        parser.add_argument("--recompute", action="store_true", help="compute an archived month again")
        parser.add_argument("--reason", default="", help="why the archived month is computed again (recorded)")
        parser.add_argument("--user", default="", help="the username of the administrator or quality manager "
                                                       "who asks for the recomputation")

    def handle(self, *args, month=None, recompute=False, reason="", user="", **options):
        if month:
            try:
                day = datetime.datetime.strptime(month, "%Y-%m").date()
            except ValueError:
                raise CommandError("--month takes YYYY-MM, e.g. 2026-11.") from None
        else:
            day = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
        if day >= timezone.localdate().replace(day=1):
            raise CommandError("Only a month that has ended can be scored.")
        try:
            if not recompute:
                self.stdout.write(self.style.SUCCESS(f"{day:%Y-%m}: {month_close(month=day)}."))
                return
            actor = get_user_model().objects.filter(username=user, is_active=True).first() if user else None
            if actor is None:
                raise CommandError("--recompute needs --user, the username of an active administrator or quality "
                                   "manager.")
            record = month_scores_recompute(actor=actor, month=day, reason=reason)
        except (ValidationError, PermissionDenied) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CommandError(" ".join(messages)) from None
        changed = sorted(code for code in set(record.old_totals) | set(record.new_totals)
                         if record.old_totals.get(code, {}).get("total") != record.new_totals.get(code, {}).get("total"))
        self.stdout.write(self.style.SUCCESS(f"{day:%Y-%m} recomputed (record {record.pk}); totals changed: "
                                             f"{', '.join(changed) or 'none'}."))
