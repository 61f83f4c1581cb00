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

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from complaints.models import Kind, Severity, WorkOrder
from complaints.phone import mask
from complaints.redaction import redact
from core.permissions import is_admin, is_quality
from org.models import Department, Region
from quality import analysis
from quality.kpis import KPIS, Context, Period, Slice, Value, kpi_target, measure_sums, subscribers_of
from quality.models import QualityPolicy
from reports import svg
from reports.dashboards import UNIT_HOURS, UNIT_ORDERS, UNIT_PERCENTAGE_POINTS, unit_label
from reports.models import MonthlyReport, ReportWithdrawal
from workflow.calendars import work_calendar

log = logging.getLogger(__name__)

HEADLINE = ("volume", "per_10k", "on_spot_rate", "timeliness", "timeliness_original", "promise_timeliness",
            "department_on_time", "ping_pong_rate", "overdue_rate", "avg_handling", "p90_handling", "satisfaction",
            "dissatisfaction", "repeat_rate", "escalation_rate", "callback_rate", "closed_loop_rate")
TREND_MONTHS = 6


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def previous_month(day: datetime.date) -> datetime.date:
    return month_start(month_start(day) - datetime.timedelta(days=1))


def _fmt(value, unit):
    """A figure as the report writes it: per cent with its sign; other units are in the column's title."""
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "h":
        return f"{value:.1f}"
    return f"{value:,.2f}" if not float(value).is_integer() else f"{value:,.0f}"


class CaseChoiceError(ValueError):
    """Notable cases that cannot be in the report: {field: [message]} like a ValidationError."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for messages in errors.values() for m in messages))
        self.errors = errors


def report_figures(*, region: Region, month: datetime.date, cases: list[str] | None = None) -> dict:
    """Every number of the report, as plain data (kept with the report). `cases`: the order numbers a quality
    manager chose as the notable cases (in their order); None: the ones proposed."""
    ctx = Context()
    period = Period.month(month.year, month.month)
    last = period.previous()
    slice_ = Slice(regions=region)
    now_sums = measure_sums(period=period, slice_=slice_, ctx=ctx)
    last_sums = measure_sums(period=last, slice_=slice_, ctx=ctx)
    # A month without a single order counted is no data (the platform was not in use, or not yet imported): its
    # figures are blanks, never zeros.
    now_data, last_data = () in now_sums.groups, () in last_sums.groups
    subscribers_now = subscribers_of(region, month=period.start, ctx=ctx)
    subscribers_last = subscribers_of(region, month=last.start, ctx=ctx)
    headline = []
    for code in HEADLINE:
        kpi = KPIS[code]
        value = now_sums.kpi(code, subscribers=subscribers_now) if now_data else Value(KPIS[code], None)
        before = last_sums.kpi(code, subscribers=subscribers_last) if last_data else Value(KPIS[code], None)
        target = kpi_target(code, region=region, on_date=period.end)
        met = None
        if target is not None and value.value is not None and kpi.higher_is_better is not None:
            met = value.value >= float(target) if kpi.higher_is_better else value.value <= float(target)
        change = None if value.value is None or before.value is None else value.value - before.value
        trend = "same"
        if change and kpi.higher_is_better is not None:
            trend = "better" if (change > 0) == kpi.higher_is_better else "worse"
        headline.append({"code": code, "label": str(kpi.label), "unit": kpi.unit, "unit_label": unit_label(code),
                         "value": value.value,
                         "last": before.value, "target": float(target) if target is not None else None, "met": met,
                         "change": change, "trend": trend, "display": _fmt(value.value, kpi.unit),
                         "last_display": _fmt(before.value, kpi.unit),
                         "target_display": _fmt(float(target), kpi.unit) if target is not None else "—",
                         "change_display": "" if change is None else
                         (f"{change:+.1f} {UNIT_PERCENTAGE_POINTS}" if kpi.unit == "%" else f"{change:+,.2f}" if code == "per_10k"
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
    trends = {code: [by_month.kpi(code, (m,)).value if (m,) in by_month.groups else None for m in months]
              for code in ("volume", "timeliness", "satisfaction", "repeat_rate")}
    policy = QualityPolicy.in_force(on=period.end)
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
        **_cases_figures(region=region, period=period, chosen=cases),
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


PROPOSED_CASES = 8  # proposed to the quality manager, who may take others of the candidates or add any order
CANDIDATE_CASES = 30
MAX_CASES = 20
SUMMARY_CHARS = 200


def _month_orders(*, region: Region, period: Period):
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(period.start, datetime.time.min, tz)
    end = datetime.datetime.combine(period.end + datetime.timedelta(days=1), datetime.time.min, tz)
    return (WorkOrder.objects.filter(region__path__startswith=region.path, received_at__gte=start,
                                     received_at__lt=end, kind=Kind.COMPLAINT)
            .select_related("category", "customer", "region"))


def case_candidates(*, region: Region, month: datetime.date) -> list[dict]:
    """The escalated and major complaints of the month, most escalated first: the first PROPOSED_CASES of them
    are proposed as the report's notable cases."""
    period = Period.month(month.year, month.month)
    orders = (_month_orders(region=region, period=period)
              .filter(Q(escalation_level__gt=0) | Q(severity=Severity.MAJOR))
              .order_by("-escalation_level", "-received_at")[:CANDIDATE_CASES])
    return [{**_case_row(o), "proposed": index < PROPOSED_CASES} for index, o in enumerate(orders)]


def cases_check(*, region: Region, month: datetime.date, numbers: list[str]) -> list[str]:
    """The chosen order numbers, each once, checked: complaints of the region received in the month."""
    numbers = list(dict.fromkeys(n.strip().upper() for n in numbers if n and n.strip()))
    if len(numbers) > MAX_CASES:
        raise CaseChoiceError({"cases": [_("At most %(n)s notable cases.") % {"n": MAX_CASES}]})
    period = Period.month(month.year, month.month)
    found = set(_month_orders(region=region, period=period).filter(number__in=numbers)
                .values_list("number", flat=True))
    unknown = [n for n in numbers if n not in found]
    if unknown:
        raise CaseChoiceError({"cases": [_("Not a complaint of %(region)s received in %(month)s: %(numbers)s.") % {
            "region": region.name, "month": f"{month:%Y-%m}", "numbers": ", ".join(unknown)}]})
    return numbers


def _case_row(o: WorkOrder) -> dict:
    """A case as the archived report shows it: the customer's number masked, and the summary and the answer through
    the one personal-data check (names, numbers, ID numbers, addresses typed by agents taken out)."""
    summary = " ".join(redact(o.description, order=o).split())
    answer = " ".join(redact(o.answer or "", order=o).split())
    return {"number": o.number, "received": f"{timezone.localtime(o.received_at):%m-%d %H:%M}",
            "category": o.category.label, "region": o.region.name, "severity": str(o.get_severity_display()),
            "escalation": o.escalation_level, "status": str(o.get_status_display()),
            "customer": mask(o.customer.phone),
            "summary": summary if len(summary) <= SUMMARY_CHARS else summary[:SUMMARY_CHARS - 1] + "…",
            "answer": answer[:SUMMARY_CHARS]}


def _cases_figures(*, region: Region, period: Period, chosen: list[str] | None) -> dict:
    month = period.start
    proposed = [c["number"] for c in case_candidates(region=region, month=month) if c["proposed"]]
    numbers = proposed if chosen is None else cases_check(region=region, month=month, numbers=chosen)
    orders = {o.number: o for o in _month_orders(region=region, period=period).filter(number__in=numbers)}
    return {"cases": [_case_row(orders[n]) for n in numbers if n in orders], "cases_proposed": proposed,
            "cases_chosen": chosen is not None}


def report_html(figures: dict) -> str:
    headline = {row["code"]: row for row in figures["headline"]}
    units = {"orders": str(UNIT_ORDERS), "hours": str(UNIT_HOURS), "percent": "%"}
    gap = _("no data: —")
    charts = {
        "volume": svg.line_chart(figures["trend_months"], [(str(KPIS["volume"].label), figures["trends"]["volume"])],
                                 unit_caption=_("unit: %(unit)s") % {"unit": units["orders"]}, gap_note=gap),
        "rates": svg.line_chart(figures["trend_months"], [
            (str(KPIS[c].label), figures["trends"][c]) for c in ("timeliness", "satisfaction", "repeat_rate")],
            unit="%", unit_caption=_("unit: %(unit)s") % {"unit": "%"}, gap_note=gap),
        "categories": svg.bar_chart([c for c, _n in figures["top_categories"]],
                                    [n for _c, n in figures["top_categories"]], unit=units["orders"]),
    }
    return render_to_string("reports/monthly_report.html", {"f": figures, "headline": headline, "charts": charts,
                                                            "units": units, "generated": timezone.localtime()})


class ReportError(Exception):
    """The report cannot be made on this machine; the message says what to install."""


def report_pdf(html: str) -> bytes:
    try:
        from weasyprint import HTML  # local: loads Pango and the fonts: only when a PDF is made
    except OSError as exc:  # WeasyPrint loads Pango through its C library
        raise ReportError(_("PDF reports need the Pango library (Debian: apt-get install libpango-1.0-0 "
                            "libpangoft2-1.0-0) and a CJK font (fonts-noto-cjk).")) from exc
    return HTML(string=html).write_pdf()


def report_generate(*, region: Region, month: datetime.date, actor=None,
                    trigger: str = MonthlyReport.Trigger.ON_DEMAND, cases: list[str] | None = None) -> MonthlyReport:
    """Compute, render and archive one report (a new version when one exists). Rendered in Chinese: it is an
    official document of the operator. `cases`: the notable cases a quality manager chose (order numbers, kept
    with the report); None, as on the schedule: the proposed ones, marked as not reviewed."""
    month = month_start(month)
    if month >= month_start(timezone.localdate()) and trigger == MonthlyReport.Trigger.SCHEDULED:
        raise ValueError("A scheduled report is only made for a month that has ended.")
    if cases is not None and not (actor is not None and is_quality(actor)):
        raise PermissionDenied(_("Notable cases are chosen by quality managers."))
    if cases is not None:  # checked before the report is rendered in Chinese: the error is in the reader's language
        cases = cases_check(region=region, month=month, numbers=cases)
    html, figures, pdf = _render(region=region, month=month, cases=cases,
                                 chosen_by=str(actor) if cases is not None else None)
    with transaction.atomic():
        return _archive(region=region, month=month, actor=actor, trigger=trigger, html=html, figures=figures, pdf=pdf)


def _render(*, region: Region, month: datetime.date, cases: list[str] | None, chosen_by: str | None):
    with translation.override("zh-hans"):
        figures = report_figures(region=region, month=month, cases=cases)
        if cases is not None:
            figures["cases_chosen_by"] = chosen_by
        html = report_html(figures)
    return html, figures, report_pdf(html)


def _archive(*, region: Region, month: datetime.date, actor, trigger: str, html: str, figures: dict,
             pdf: bytes) -> MonthlyReport:
    """Store a new version (inside the caller's transaction)."""
    Region.objects.select_for_update().filter(pk=region.pk).first()  # versions of one region are numbered in turn
    version = (MonthlyReport.objects.filter(region=region, month=month).aggregate(v=Max("version"))["v"] or 0) + 1
    report = MonthlyReport(region=region, month=month, version=version, trigger=trigger,
                           generated_by=actor if actor is not None and actor.pk else None,
                           generated_by_name=str(actor or _("system"))[:64], html=html, data=figures)
    report.pdf.save(f"{region.code}-{month:%Y%m}-v{version}.pdf", ContentFile(pdf), save=False)
    report.save()
    return report


def report_withdraw(*, actor, report: MonthlyReport, reason: str) -> MonthlyReport:
    """Withdraw an archived version and regenerate it in its place (same region, month and notable cases, through
    today's code: its case summaries redacted). The withdrawn version stays stored, marked; the withdrawal (who,
    when, why, the new version) is recorded, append-only. Returns the new version."""
    if not (actor is not None and is_admin(actor)):  # administrators withdraw archived reports; nobody else
        raise PermissionDenied(_("Archived reports are withdrawn by administrators."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the report is withdrawn: the reason is recorded.")]})
    if report.is_withdrawn:
        raise ValidationError(_("Version %(version)s was withdrawn already.") % {"version": report.version},
                              code="withdrawn")
    chosen = bool(report.data.get("cases_chosen"))
    cases = [case["number"] for case in report.data.get("cases", [])] if chosen else None
    if cases is not None:
        try:
            cases = cases_check(region=report.region, month=report.month, numbers=cases)
        except CaseChoiceError as exc:
            raise ValidationError(exc.errors["cases"]) from exc
    html, figures, pdf = _render(region=report.region, month=report.month, cases=cases,
                                 chosen_by=report.data.get("cases_chosen_by") if chosen else None)
    with transaction.atomic():
        locked = MonthlyReport.objects.select_for_update().get(pk=report.pk)
        if locked.is_withdrawn:  # withdrawn by someone else meanwhile
            raise ValidationError(_("Version %(version)s was withdrawn already.") % {"version": report.version},
                                  code="withdrawn")
        replacement = _archive(region=report.region, month=report.month, actor=actor,
                               trigger=MonthlyReport.Trigger.REGENERATED, html=html, figures=figures, pdf=pdf)
        now = timezone.now()
        MonthlyReport.objects.filter(pk=report.pk).update(withdrawn_at=now)
        ReportWithdrawal.objects.create(report=locked, replacement=replacement, actor=actor,
                                        actor_name=str(actor)[:150], reason=reason, created_at=now)
    log.info("monthly report %s withdrawn by %s and regenerated as version %s", report, actor, replacement.version)
    report.withdrawn_at = now
    return replacement


def report_regions() -> list[Region]:
    return list(Region.objects.filter(level__in=[Region.Level.PROVINCE, Region.Level.CITY]).order_by("path"))


def monthly_reports_due(*, today: datetime.date | None = None) -> list[MonthlyReport]:
    """From the first working day of the month on, make last month's scheduled report for every province and city
    that has none yet. Idempotent; catches up after a missed morning."""
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
