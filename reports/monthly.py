"""The monthly quality report (质量月报) of the province and of each city: headline KPIs against last month and
target, six-month trends, hot spots, the department ranking and notable cases. Generated as HTML (inline SVG
charts, no script) and printed to PDF with WeasyPrint; both are kept unchanged in the archive.

A Celery beat job runs every morning: from the first working day of a month on, every province and city without a
scheduled report for the month before gets one (so a missed morning is caught up, and nothing is made twice).
Generating on demand adds a new version.
"""

from __future__ import annotations

import datetime
import logging

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from complaints.models import Severity, WorkOrder
from complaints.phone import mask
from org.models import Department, Region
from quality import analysis
from quality.kpis import KPIS, Context, Period, Slice, kpi_target, measure_sums, subscribers_of
from quality.services import quality_policy
from reports import svg
from reports.models import MonthlyReport

log = logging.getLogger(__name__)

HEADLINE = ("volume", "per_10k", "on_spot_rate", "timeliness", "timeliness_original", "overdue_rate", "avg_handling",
            "p90_handling", "satisfaction", "dissatisfaction", "repeat_rate", "escalation_rate", "callback_rate",
            "closed_loop_rate")
TREND_MONTHS = 6


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def previous_month(day: datetime.date) -> datetime.date:
    return month_start(month_start(day) - datetime.timedelta(days=1))


def _fmt(value, unit):
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "h":
        return f"{value:.1f} h"
    return f"{value:,.2f}" if not float(value).is_integer() else f"{value:,.0f}"


def report_figures(*, region: Region, month: datetime.date) -> dict:
    """Every number of the report, as plain data (kept with the report)."""
    ctx = Context()
    period = Period.month(month.year, month.month)
    last = period.previous()
    slice_ = Slice(regions=region)
    now_sums = measure_sums(period=period, slice_=slice_, ctx=ctx)
    last_sums = measure_sums(period=last, slice_=slice_, ctx=ctx)
    subscribers_now = subscribers_of(region, month=period.start, ctx=ctx)
    subscribers_last = subscribers_of(region, month=last.start, ctx=ctx)
    headline = []
    for code in HEADLINE:
        kpi = KPIS[code]
        value = now_sums.kpi(code, subscribers=subscribers_now)
        before = last_sums.kpi(code, subscribers=subscribers_last)
        target = kpi_target(code, region=region, on_date=period.end)
        met = None
        if target is not None and value.value is not None and kpi.higher_is_better is not None:
            met = value.value >= float(target) if kpi.higher_is_better else value.value <= float(target)
        change = None if value.value is None or before.value is None else value.value - before.value
        trend = "same"
        if change and kpi.higher_is_better is not None:
            trend = "better" if (change > 0) == kpi.higher_is_better else "worse"
        headline.append({"code": code, "label": str(kpi.label), "unit": kpi.unit, "value": value.value,
                         "last": before.value, "target": float(target) if target is not None else None, "met": met,
                         "change": change, "trend": trend, "display": _fmt(value.value, kpi.unit),
                         "last_display": _fmt(before.value, kpi.unit),
                         "target_display": _fmt(float(target), kpi.unit) if target is not None else "—",
                         "change_display": "" if change is None else
                         (f"{change:+.1f} pp" if kpi.unit == "%" else f"{change:+,.2f}" if code == "per_10k"
                          else f"{change:+,.1f}")})
    trend_start = month
    for _i in range(TREND_MONTHS - 1):
        trend_start = previous_month(trend_start)
    by_month = measure_sums(period=Period(trend_start, period.end), slice_=slice_, group_by=["month"], ctx=ctx)
    months = []
    day = trend_start
    while day <= month:
        months.append(day)
        day = (day + datetime.timedelta(days=32)).replace(day=1)
    trends = {code: [by_month.kpi(code, (m,)).value for m in months]
              for code in ("volume", "timeliness", "satisfaction", "repeat_rate")}
    policy = quality_policy(on_date=period.end)
    baseline = Period(previous_month(previous_month(previous_month(month))), last.end)
    spots = analysis.hotspots(window=period, baseline=baseline, slice_=slice_, category_level=3,
                              region_level=2 if region.level == 1 else 3, min_count=policy.hotspot_min_count,
                              max_p=float(policy.hotspot_max_p), ctx=ctx)[:10]
    group = "region2" if region.level == 1 else "region3"
    hot = [{"category": ctx.categories.label(s.category_id), "region": ctx.regions.label(s.region_id),
            "count": s.count, "baseline": round(s.baseline, 1), "p": s.p} for s in spots]
    departments = _department_ranking(period=period, slice_=slice_, ctx=ctx)
    top = measure_sums(period=period, slice_=slice_, group_by=["category3"], ctx=ctx)
    top_categories = sorted(((ctx.categories.label(k[0]), top.kpi("volume", k).value) for k in top.keys()),
                            key=lambda item: -item[1])[:10]
    return {
        "region": region.name, "region_id": region.pk, "month": month.isoformat(),
        "period": str(period), "last_period": str(last), "headline": headline,
        "trend_months": [m.strftime("%Y-%m") for m in months], "trends": trends, "hotspots": hot,
        "hotspot_group": group, "departments": departments, "top_categories": top_categories,
        "cases": _notable_cases(region=region, period=period),
    }


def _department_ranking(*, period: Period, slice_: Slice, ctx: Context) -> list[dict]:
    """Back-office departments ranked by timeliness, then satisfaction (ties: fewer overdue orders first)."""
    table = measure_sums(period=period, slice_=slice_, group_by=["department"], ctx=ctx)
    names = dict(Department.objects.filter(kind__in=[Department.Kind.BACK_OFFICE,
                                                     Department.Kind.COMPLAINT_CENTRE]).values_list("pk", "name"))
    rows = []
    for key in table.keys():
        if key[0] not in names:
            continue
        values = {code: table.kpi(code, key).value for code in
                  ("volume", "timeliness", "overdue_rate", "avg_handling", "satisfaction", "reopen_rate")}
        if not values["volume"] and not table.sums(key)["closed"]:
            continue
        rows.append({"department": names[key[0]], **values,
                     **{f"{code}_display": _fmt(value, KPIS[code].unit) for code, value in values.items()}})
    rows.sort(key=lambda r: (-(r["timeliness"] or 0), -(r["satisfaction"] or 0), r["overdue_rate"] or 0))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return rows


def _notable_cases(*, region: Region, period: Period, limit: int = 8) -> list[dict]:
    """Escalated and major complaints of the month (phone numbers masked, no names)."""
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(period.start, datetime.time.min, tz)
    end = datetime.datetime.combine(period.end + datetime.timedelta(days=1), datetime.time.min, tz)
    orders = (WorkOrder.objects.filter(region__path__startswith=region.path, received_at__gte=start,
                                       received_at__lt=end)
              .filter(Q(escalation_level__gt=0) | Q(severity=Severity.MAJOR))
              .select_related("category", "customer", "region")
              .order_by("-escalation_level", "-received_at")[:limit])
    return [{"number": o.number, "received": f"{timezone.localtime(o.received_at):%m-%d %H:%M}",
             "category": o.category.label, "region": o.region.name, "severity": str(o.get_severity_display()),
             "escalation": o.escalation_level, "status": str(o.get_status_display()),
             "customer": mask(o.customer.phone), "summary": o.description[:80],
             "answer": (o.answer or "")[:80]} for o in orders]


def report_html(figures: dict) -> str:
    headline = {row["code"]: row for row in figures["headline"]}
    charts = {
        "volume": svg.line_chart(figures["trend_months"], [(str(KPIS["volume"].label), figures["trends"]["volume"])]),
        "rates": svg.line_chart(figures["trend_months"], [
            (str(KPIS[c].label), figures["trends"][c]) for c in ("timeliness", "satisfaction", "repeat_rate")],
            unit="%"),
        "categories": svg.bar_chart([c for c, _n in figures["top_categories"]],
                                    [n for _c, n in figures["top_categories"]]),
    }
    return render_to_string("reports/monthly_report.html", {"f": figures, "headline": headline, "charts": charts,
                                                            "generated": timezone.localtime()})


class ReportError(Exception):
    """The report cannot be made on this machine; the message says what to install."""


def report_pdf(html: str) -> bytes:
    try:
        from weasyprint import HTML
    except OSError as exc:  # WeasyPrint loads Pango through its C library
        raise ReportError(_("PDF reports need the Pango library (Debian: apt-get install libpango-1.0-0 "
                            "libpangoft2-1.0-0) and a CJK font (fonts-noto-cjk).")) from exc
    return HTML(string=html).write_pdf()


def report_generate(*, region: Region, month: datetime.date, actor=None,
                    trigger: str = MonthlyReport.Trigger.ON_DEMAND) -> MonthlyReport:
    """Compute, render and archive one report (a new version when one exists). Rendered in Chinese: it is an
    official document of the operator."""
    month = month_start(month)
    if month >= month_start(timezone.localdate()) and trigger == MonthlyReport.Trigger.SCHEDULED:
        raise ValueError("A scheduled report is only made for a month that has ended.")
    with translation.override("zh-hans"):
        figures = report_figures(region=region, month=month)
        html = report_html(figures)
    pdf = report_pdf(html)
    with transaction.atomic():
        Region.objects.select_for_update().filter(pk=region.pk).first()  # versions of one region are numbered in turn
        version = (MonthlyReport.objects.filter(region=region, month=month).aggregate(v=Max("version"))["v"] or 0) + 1
        report = MonthlyReport(region=region, month=month, version=version, trigger=trigger,
                               generated_by=actor if actor is not None and actor.pk else None,
                               generated_by_name=str(actor or _("system"))[:64], html=html, data=figures)
        report.pdf.save(f"{region.code}-{month:%Y%m}-v{version}.pdf", ContentFile(pdf), save=False)
        report.save()
    return report


def report_regions() -> list[Region]:
    return list(Region.objects.filter(level__in=[Region.Level.PROVINCE, Region.Level.CITY]).order_by("path"))


def monthly_reports_due(*, today: datetime.date | None = None) -> list[MonthlyReport]:
    """From the first working day of the month on, make last month's scheduled report for every province and city
    that has none yet. Idempotent; catches up after a missed morning."""
    from workflow.calendars import work_calendar

    today = today or timezone.localdate()
    calendar, _id = work_calendar(None)
    first_working = month_start(today)
    while not calendar.is_working_day(first_working):
        first_working += datetime.timedelta(days=1)
    if today < first_working:
        return []
    month = previous_month(today)
    made = []
    for region in report_regions():
        if MonthlyReport.objects.filter(region=region, month=month, trigger=MonthlyReport.Trigger.SCHEDULED).exists():
            continue
        try:
            made.append(report_generate(region=region, month=month, trigger=MonthlyReport.Trigger.SCHEDULED))
        except Exception:  # one region's failure must not stop the others; the next morning retries it
            log.exception("monthly report of %s for %s failed", region, month)
    return made
