"""Business calendars from the database: the WorkCalendar values the deadline arithmetic works on, the day table
loaded from the `holidays` package (which follows the State Council's notices, make-up working days included,
and computes rule-based holidays for years not announced yet), and telling administrators about years whose
official notice is still missing."""

import logging
from datetime import date, time

import holidays
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from holidays.countries.china import ChinaStaticHolidays

from core.memo import cached_for
from org import roles
from org.models import User
from workflow.calendar import WorkCalendar
from workflow.models import BusinessCalendar, CalendarDay, CalendarYear, OrderStage, WorkingPeriod

log = logging.getLogger(__name__)

STANDARD_HOURS = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))
# Built in for a database with no calendar at all (a fresh install before its data migration ran, or a test):
# Monday to Friday office hours, the package's holidays.
FALLBACK_CODE = "builtin"


def official_years() -> set[int]:
    """Years for which the installed `holidays` package carries the official notice (not only rules)."""
    try:
        return set(ChinaStaticHolidays.special_public_holidays)
    except (ImportError, AttributeError):  # a future package layout: fall back to years with make-up days
        known = holidays.CN(years=range(timezone.localdate().year - 2, timezone.localdate().year + 2))
        return {day.year for day in known.weekend_workdays}


def _rule_holidays(years) -> frozenset[date]:
    return frozenset(holidays.CN(years=list(years)))


@cached_for(60)
def work_calendar(calendar_id: int | None) -> tuple[WorkCalendar, int | None]:
    """The calendar with this id (None: the default one), as a WorkCalendar, and its id."""
    calendar = (
        BusinessCalendar.objects.filter(pk=calendar_id).first() if calendar_id
        else BusinessCalendar.objects.filter(is_default=True).first()
    )
    this_year = timezone.localdate().year
    rule_years = range(this_year - 1, this_year + 3)
    if calendar is None:
        known = holidays.CN(years=list(rule_years))
        days = {day: False for day in known}
        days.update({day: True for day in known.weekend_workdays})
        return WorkCalendar(periods={weekday: STANDARD_HOURS for weekday in range(5)}, days=days,
                            confirmed_years=frozenset(official_years()),
                            rule_holidays=_rule_holidays(rule_years)), None
    periods: dict[int, list] = {}
    for period in WorkingPeriod.objects.filter(calendar=calendar).order_by("weekday", "start"):
        periods.setdefault(period.weekday, []).append((period.start, period.end))
    days = dict(CalendarDay.objects.filter(calendar=calendar).values_list("date", "is_working"))
    confirmed = frozenset(CalendarYear.objects.filter(calendar=calendar, confirmed=True).values_list("year", flat=True))
    value = WorkCalendar(periods={k: tuple(v) for k, v in periods.items()}, days=days, confirmed_years=confirmed,
                         rule_holidays=_rule_holidays(rule_years))
    return value, calendar.pk


@transaction.atomic
def calendar_load_official(*, calendar: BusinessCalendar, years: list[int]) -> dict[int, str]:
    """Put the package's holidays and make-up working days of these years into the day table. Days an
    administrator entered are left alone. A year is confirmed only when the package has its official notice."""
    official = official_years()
    report = {}
    for year in years:
        known = holidays.CN(years=[year], language="en_US")
        names_zh = holidays.CN(years=[year], language="zh_CN")
        entries = {day: (False, names_zh.get(day, name), name) for day, name in known.items()}
        entries.update({day: (True, "调休上班", "make-up working day") for day in known.weekend_workdays
                        if day.year == year})
        admin_days = set(CalendarDay.objects.filter(calendar=calendar, date__year=year,
                                                    source=CalendarDay.Source.ADMIN).values_list("date", flat=True))
        CalendarDay.objects.filter(calendar=calendar, date__year=year, source=CalendarDay.Source.PACKAGE).delete()
        CalendarDay.objects.bulk_create([
            CalendarDay(calendar=calendar, date=day, is_working=working, source=CalendarDay.Source.PACKAGE,
                        note=str(name_zh)[:200], note_en=str(name_en)[:200])
            for day, (working, name_zh, name_en) in sorted(entries.items()) if day not in admin_days
        ])
        confirmed = year in official
        CalendarYear.objects.update_or_create(
            calendar=calendar, year=year,
            defaults={"confirmed": confirmed,
                      "note": f"holidays {holidays.__version__}："
                              + ("已录入国务院节假日通知" if confirmed else "仅按规则推算，节假日通知尚未发布"),
                      "note_en": f"holidays {holidays.__version__}: "
                                 + ("official notice" if confirmed else "rule-based only, notice not published yet")},
        )
        report[year] = "confirmed" if confirmed else "rule-based (unconfirmed)"
    work_calendar.cache_clear()
    return report


def calendars_tell_admins_of_unconfirmed_years(*, now=None) -> list[str]:
    """Once per calendar and year: when open deadlines fall in a year without its official notice, or the next
    year is less than 60 days away without one, e-mail the administrators."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    told = []
    for calendar in BusinessCalendar.objects.all():
        years = {stage.due_at.astimezone(timezone.get_current_timezone()).year for stage in
                 OrderStage.objects.filter(ended_at__isnull=True, calendar_unconfirmed=True).only("due_at")[:200]}
        if (date(today.year + 1, 1, 1) - today).days <= 60:
            years.add(today.year + 1)
        for year in sorted(years):
            entry, _created = CalendarYear.objects.get_or_create(calendar=calendar, year=year)
            if entry.confirmed or entry.admins_told_at is not None:
                continue
            _mail_admins(calendar, year)
            entry.admins_told_at = now
            entry.save(update_fields=["admins_told_at"])
            told.append(f"{calendar.code} {year}")
    return told


def _mail_admins(calendar: BusinessCalendar, year: int) -> None:
    addresses = list(
        User.objects.filter(is_active=True).filter(Q(is_superuser=True) | Q(groups__name=roles.ADMIN))
        .exclude(email="").values_list("email", flat=True).distinct()
    )
    log.warning("Calendar %s has no official holiday notice for %s yet; deadlines there are provisional.",
                calendar.code, year)
    if addresses:
        send_mail(
            f"[投诉工单平台] {calendar.name}: {year} 年节假日安排尚未录入 / {year} holiday notice missing",
            f"{year} 年的法定节假日与调休安排尚未录入日历“{calendar.name}”，涉及该年的时限暂按周末与规则节假日计算，"
            f"并标记为“日历未确认”。请在管理后台录入官方通知（或运行 manage.py calendar_load --year {year}）。\n\n"
            f"The official holiday notice for {year} is not in calendar “{calendar.name}” yet: deadlines in {year} "
            f"are computed from weekdays and rule-based holidays and marked 'calendar unconfirmed'.",
            settings.DEFAULT_FROM_EMAIL, addresses,
        )
