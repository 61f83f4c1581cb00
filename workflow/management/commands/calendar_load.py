from django.core.management.base import BaseCommand, CommandError

from workflow.calendars import calendar_load_official
from workflow.models import BusinessCalendar


class Command(BaseCommand):
    help = ("Load a year's statutory holidays and make-up working days (调休) into a calendar's day table from the "
            "installed `holidays` package (upgrade it when the State Council publishes the next year's notice). "
            "Days entered by an administrator are kept.")

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, action="append", required=True, help="Year to load (repeatable).")
        parser.add_argument("--calendar", default=None, help="Calendar code (default: the default calendar).")

    def handle(self, *args, year, calendar, **options):
        cal = (BusinessCalendar.objects.filter(code=calendar).first() if calendar
               else BusinessCalendar.objects.filter(is_default=True).first())
        if cal is None:
            raise CommandError(f"No calendar {calendar or '(default)'}.")
        for loaded, state in calendar_load_official(calendar=cal, years=sorted(set(year))).items():
            self.stdout.write(f"{cal.code} {loaded}: {state}")
