"""The default business calendar (Monday–Friday 08:30–12:00 and 13:30–17:30; the day table of 2024–2027 from the
`holidays` package, years with an official notice confirmed) and the reference time limits of the design:
claim within 15 minutes, an ordinary complaint answered within 24 hours, a difficult one within 3 working days,
VIP, group and major orders faster."""

import datetime

from django.db import migrations

EFFECTIVE = datetime.date(2020, 1, 1)
YEARS = [2024, 2025, 2026, 2027]
OFFICE = [(datetime.time(8, 30), datetime.time(12, 0)), (datetime.time(13, 30), datetime.time(17, 30))]

# name, criteria, {stage: (amount, unit)}
POLICIES = [
    ("默认时限 Default", {}, {"dispatch": (30, "clock_minutes"), "claim": (15, "clock_minutes"),
                            "handle": (24, "clock_hours"), "review": (4, "working_hours"),
                            "callback": (2, "working_days")}),
    ("疑难投诉 Difficult", {"severity": "difficult"}, {"handle": (3, "working_days")}),
    ("重大投诉 Major", {"severity": "major"}, {"claim": (10, "clock_minutes"), "handle": (12, "clock_hours"),
                                             "review": (2, "working_hours")}),
    ("钻石卡VIP Diamond VIP", {"customer_tier": "diamond"}, {"claim": (10, "clock_minutes"),
                                                          "handle": (8, "clock_hours")}),
    ("金卡VIP Gold VIP", {"customer_tier": "gold"}, {"claim": (10, "clock_minutes"), "handle": (12, "clock_hours")}),
    ("银卡VIP Silver VIP", {"customer_tier": "silver"}, {"claim": (10, "clock_minutes"),
                                                      "handle": (12, "clock_hours")}),
    ("集团客户 Group customer", {"customer_tier": "group"}, {"claim": (10, "clock_minutes"),
                                                         "handle": (12, "clock_hours")}),
    ("咨询 Inquiry", {"kind": "inquiry"}, {"handle": (8, "working_hours")}),
    ("建议 Suggestion", {"kind": "suggestion"}, {"handle": (5, "working_days")}),
]


def seed(apps, schema_editor):
    import holidays

    BusinessCalendar = apps.get_model("workflow", "BusinessCalendar")
    WorkingPeriod = apps.get_model("workflow", "WorkingPeriod")
    CalendarDay = apps.get_model("workflow", "CalendarDay")
    CalendarYear = apps.get_model("workflow", "CalendarYear")
    TimeLimitPolicy = apps.get_model("workflow", "TimeLimitPolicy")
    StageLimit = apps.get_model("workflow", "StageLimit")

    calendar, created = BusinessCalendar.objects.get_or_create(
        code="default", defaults={"name": "默认营业日历", "is_default": True})
    if created:
        WorkingPeriod.objects.bulk_create([
            WorkingPeriod(calendar=calendar, weekday=weekday, start=start, end=end)
            for weekday in range(5) for start, end in OFFICE
        ])
        try:
            from holidays.countries.china import ChinaStaticHolidays

            official = set(ChinaStaticHolidays.special_public_holidays)
        except (ImportError, AttributeError):
            official = set()
        for year in YEARS:
            known = holidays.CN(years=[year])
            entries = {day: (False, name) for day, name in known.items()}
            entries.update({day: (True, "调休上班 make-up working day") for day in known.weekend_workdays
                            if day.year == year})
            CalendarDay.objects.bulk_create([
                CalendarDay(calendar=calendar, date=day, is_working=working, source="package", note=str(name)[:200])
                for day, (working, name) in sorted(entries.items())
            ])
            CalendarYear.objects.create(calendar=calendar, year=year, confirmed=year in official,
                                        note="official notice" if year in official else "rule-based only")
    for name, criteria, limits in POLICIES:
        policy, created = TimeLimitPolicy.objects.get_or_create(
            name=name, effective_from=EFFECTIVE,
            defaults={"kind": "", "severity": "", "customer_tier": "", **criteria, "warn_percent": 80,
                      "note": "reference default"})
        if created:
            StageLimit.objects.bulk_create([
                StageLimit(policy=policy, stage=stage, amount=amount, unit=unit)
                for stage, (amount, unit) in limits.items()
            ])


class Migration(migrations.Migration):
    dependencies = [("workflow", "0005_time_limits_calendars_stages"), ("complaints", "0005_order_nearest_deadline")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
