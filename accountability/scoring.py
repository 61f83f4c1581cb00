"""The monthly cycle: each department's score from the determinations of the complaints closed in the month and
the deductions recorded against it (summed in SQL, weighted by each department's share), the monthly notices and
the improvement orders.

An indicator's value uses the KPI library's definition (quality.kpis) over the complaints the department answers
for; its points are its weight times how far it reaches its target (capped at the full weight); the score is the
sum of the points less the deductions. A department answers for a complaint by its share of the determination
standing when the score is computed (a later appeal decision counts when the month is computed again).
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accountability.models import (
    ATTRIBUTABLE_CAUSES,
    AccountabilityEvent,
    AccountabilityPolicy,
    Appeal,
    Deduction,
    Determination,
    ImprovementOrder,
    Indicator,
    IndicatorResult,
    MonthlyNotice,
    MonthlyScore,
    ScoreRecomputation,
)
from accountability.selectors import department_sample_orders, department_worst_categories, targets_in_force
from accountability.services import improvement_event, working_days_after
from complaints.models import Kind
from org.models import Department
from quality.kpis import Context, Period, kpi_value, subscribers_by_region
from quality.models import MEASURES, Incident
from workflow.calendar import SHANGHAI
from workflow.calendars import work_calendar
from workflow.models import LimitUnit, OrderStage, Stage, StageOutcome
from workflow.notifications import leads_notify

# The measures of a department's month, summed over the complaints it answers for, each weighted by its share.
SHARE_MEASURES = ("closed", "timed", "in_time", "in_time_original", "breached", "repeat", "escalated", "reopened",
                  "dispatched_closed", "called_back", "attributed")
SURVEY_MEASURES = ("rated", "satisfied", "dissatisfied")
TWO = Decimal("0.01")


def _q(name):
    return connection.ops.quote_name(name)


def share_sums(*, period: Period, department_ids: list[int] | None = None) -> dict[int, dict[str, float]]:
    """{department: {measure: share-weighted sum}} over the complaints closed in the period."""
    attributable = ", ".join(f"'{c}'" for c in ATTRIBUTABLE_CAUSES)
    columns = {
        "closed": "s.share", "timed": "s.share * f.timed", "in_time": "s.share * f.in_time",
        "in_time_original": "s.share * f.in_time_original", "breached": "s.share * f.breached",
        "repeat": "s.share * f.repeat", "escalated": "s.share * f.escalated", "reopened": "s.share * f.reopened",
        "dispatched_closed": "s.share * f.dispatched_closed", "called_back": "s.share * f.called_back",
        "attributed": f"CASE WHEN d.cause IN ({attributable}) THEN s.share ELSE 0 END",
    }
    where = ["f.closed_day >= %s", "f.closed_day <= %s", "f.kind = %s"]
    params: list = [period.start, period.end, Kind.COMPLAINT]
    if department_ids is not None:
        where.append(_in("s.department_id", department_ids, params))
    sql = (f"SELECT s.department_id, {', '.join(f'SUM({expr})' for expr in columns.values())} "
           f"FROM accountability_determinationshare s "
           f"JOIN accountability_determination d ON d.id = s.determination_id "
           f"JOIN quality_orderfact f ON f.order_id = d.order_id "
           f"WHERE {' AND '.join(where)} GROUP BY s.department_id")
    out: dict[int, dict[str, float]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            out[row[0]] = {name: float(value or 0) for name, value in zip(columns, row[1:], strict=True)}
        survey_sql = (f"SELECT s.department_id, SUM(s.share), SUM(CASE WHEN v.verdict = 'satisfied' THEN s.share ELSE 0 END), "
                      f"SUM(CASE WHEN v.verdict = 'dissatisfied' THEN s.share ELSE 0 END) "
                      f"FROM accountability_determinationshare s "
                      f"JOIN accountability_determination d ON d.id = s.determination_id "
                      f"JOIN quality_orderfact f ON f.order_id = d.order_id "
                      f"JOIN quality_callbacksurvey v ON v.order_id = d.order_id "
                      f"WHERE {' AND '.join(where)} GROUP BY s.department_id")
        cursor.execute(survey_sql, params)
        for row in cursor.fetchall():
            target = out.setdefault(row[0], dict.fromkeys(columns, 0.0))
            target.update({name: float(value or 0) for name, value in zip(SURVEY_MEASURES, row[1:], strict=True)})
    return out


def _in(column: str, ids, params: list) -> str:
    if connection.vendor == "postgresql":
        params.append(list(ids))
        return f"{column} = ANY(%s)"
    params.extend(ids)
    return f"{column} IN ({', '.join(['%s'] * len(ids)) or 'NULL'})"


def _as_kpi_sums(sums: dict[str, float]) -> dict[str, dict[str, float]]:
    """The department's sums in the KPI library's terms: its complaints are the 'received' of the formulas."""
    kpi_sums = dict.fromkeys(MEASURES, 0)
    kpi_sums.update({k: v for k, v in sums.items() if k in MEASURES})
    kpi_sums["received"] = sums.get("closed", 0)
    return {Kind.COMPLAINT: kpi_sums}


@dataclass
class Computed:
    value: float | None
    numerator: float | None = None
    denominator: float | None = None


def incident_sums(*, period: Period) -> dict[int, dict[str, float]]:
    """{department: incidents resolved in the period, feedback in time, hours from the fault to recovery}."""
    out: dict[int, dict[str, float]] = {}
    incidents = Incident.objects.filter(status=Incident.Status.RESOLVED, resolved_at__date__gte=period.start,
                                        resolved_at__date__lte=period.end)
    for incident in incidents.only("department_id", "feedback_at", "feedback_due_at", "started_at", "resolved_at"):
        target = out.setdefault(incident.department_id, {"incidents": 0, "feedback_in_time": 0, "recovery_hours": 0})
        target["incidents"] += 1
        target["feedback_in_time"] += 1 if incident.feedback_in_time else 0
        target["recovery_hours"] += (incident.resolved_at - incident.started_at).total_seconds() / 3600
    return out


def holding_sums(*, period: Period) -> dict[int, dict[str, int]]:
    """{department: its holdings of the complaints closed in the period judged by its own clock, those in time}:
    who held an order late, whoever answers for the complaint (a holding returned as misrouted is not judged)."""
    start = datetime.datetime.combine(period.start, datetime.time.min, tzinfo=SHANGHAI)
    end = datetime.datetime.combine(period.end + datetime.timedelta(days=1), datetime.time.min, tzinfo=SHANGHAI)
    rows = (OrderStage.objects.filter(kind=Stage.HANDLE, department__isnull=False,
                                      outcome__in=[StageOutcome.IN_TIME, StageOutcome.LATE], order__kind=Kind.COMPLAINT,
                                      order__closed_at__gte=start, order__closed_at__lt=end)
            .values("department_id").annotate(judged=Count("pk"), in_time=Count("pk", filter=Q(
                outcome=StageOutcome.IN_TIME))))
    return {row["department_id"]: {"judged": row["judged"], "in_time": row["in_time"]} for row in rows}


def indicator_value(indicator: Indicator, sums: dict[str, float], *, subscribers: int | None, appeals_lost: int,
                    incidents: dict[str, float] | None = None, holdings: dict[str, int] | None = None) -> Computed:
    measure = indicator.measure
    if measure == Indicator.Measure.DEPARTMENT_TIMELINESS:
        judged = (holdings or {}).get("judged", 0)
        if not judged:
            return Computed(None, 0, 0)
        return Computed(100 * holdings["in_time"] / judged, holdings["in_time"], judged)
    if measure in (Indicator.Measure.INCIDENT_FEEDBACK, Indicator.Measure.INCIDENT_RECOVERY):
        count = (incidents or {}).get("incidents", 0)
        if not count:
            return Computed(None, 0, 0)
        if measure == Indicator.Measure.INCIDENT_FEEDBACK:
            return Computed(100 * incidents["feedback_in_time"] / count, incidents["feedback_in_time"], count)
        return Computed(incidents["recovery_hours"] / count, incidents["recovery_hours"], count)
    if measure == Indicator.Measure.ATTRIBUTED:
        return Computed(sums.get("attributed", 0.0), sums.get("attributed", 0.0))
    if measure == Indicator.Measure.PER_10K:
        attributed = sums.get("attributed", 0.0)
        return Computed(attributed * 10_000 / subscribers if subscribers else None, attributed, subscribers)
    if measure == Indicator.Measure.APPEALS_LOST:
        return Computed(float(appeals_lost), float(appeals_lost))
    value = kpi_value(measure, _as_kpi_sums(sums), slice_kinds=(Kind.COMPLAINT,))
    return Computed(value.value, value.numerator, value.denominator)


def indicator_points(indicator: Indicator, value: float | None, target: Decimal) -> tuple[bool, Decimal]:
    """Whether the target is met, and the points: the full weight when met (or when there is nothing to judge),
    else the weight in proportion to how close the value came."""
    weight, target_f = indicator.weight, float(target)
    if value is None:
        return True, weight
    if indicator.higher_is_better:
        met = value >= target_f
        share = 1.0 if met or target_f <= 0 else max(0.0, value / target_f)
    else:
        met = value <= target_f
        share = 1.0 if met else (target_f / value if value > 0 and target_f > 0 else 0.0)
    return met, (weight * Decimal(str(min(1.0, share)))).quantize(TWO, ROUND_HALF_UP)


@dataclass
class DepartmentMonth:
    department: Department
    results: list[tuple[Indicator, Computed, Decimal, bool, Decimal]] = field(default_factory=list)
    deductions: Decimal = Decimal("0")
    attributed: float = 0.0

    @property
    def indicator_points(self) -> Decimal:
        return sum((points for *_rest, points in self.results), Decimal("0"))

    @property
    def total(self) -> Decimal:
        return self.indicator_points - self.deductions


def scored_departments(*, month: datetime.date, share_departments) -> list[Department]:
    """Every active back-office department, and any other that answers for a complaint or has a deduction."""
    deducted = Deduction.objects.filter(month=month).exclude(status=Deduction.Status.CANCELLED)
    ids = (set(Department.objects.filter(is_active=True, kind=Department.Kind.BACK_OFFICE).values_list("pk", flat=True))
           | set(share_departments) | set(deducted.values_list("department_id", flat=True)))
    return list(Department.objects.filter(pk__in=ids).select_related("region").order_by("pk"))


def month_compute(*, month: datetime.date) -> list[DepartmentMonth]:
    """The scores of a month, computed (not saved)."""
    month = month.replace(day=1)
    period = Period.month(month.year, month.month)
    indicators = list(Indicator.objects.filter(year=month.year).order_by("code"))
    sums = share_sums(period=period)
    holdings = holding_sums(period=period)
    departments = scored_departments(month=month, share_departments=set(sums) | set(holdings))
    targets = targets_in_force(indicators=indicators, month=month)
    lost = dict(Appeal.objects.filter(status=Appeal.Status.UPHELD, decided_at__date__gte=period.start,
                                      decided_at__date__lte=period.end)
                .values("department_id").annotate(n=Sum(1)).values_list("department_id", "n"))
    deductions = dict(Deduction.objects.filter(month=month).exclude(status=Deduction.Status.CANCELLED)
                      .values("department_id").annotate(p=Sum("points")).values_list("department_id", "p"))
    subscribers = subscribers_by_region(month=month, ctx=Context())
    incidents = incident_sums(period=period)
    out = []
    for department in departments:
        dept_sums = sums.get(department.pk, {})
        month_result = DepartmentMonth(department=department, deductions=deductions.get(department.pk) or Decimal("0"),
                                       attributed=dept_sums.get("attributed", 0.0))
        for indicator in indicators:
            computed = indicator_value(indicator, dept_sums, subscribers=subscribers.get(department.region_id),
                                       appeals_lost=lost.get(department.pk, 0),
                                       incidents=incidents.get(department.pk), holdings=holdings.get(department.pk))
            target = targets.get((indicator.pk, department.pk), indicator.target)
            met, points = indicator_points(indicator, computed.value, target)
            month_result.results.append((indicator, computed, target, met, points))
        out.append(month_result)
    return out


def _decimal(value, places=4):
    return None if value is None else Decimal(str(round(value, places)))


def _plain(value: Decimal | None) -> str | None:
    """A value for an event's details (JSON): as written, without trailing zeros."""
    return None if value is None else f"{value.normalize():f}"


@dataclass
class CycleReport:
    scores: int = 0
    notices: int = 0
    improvements_opened: int = 0
    improvements_still_below: int = 0
    improvements_closed: int = 0

    def __str__(self):
        return (f"{self.scores} scores, {self.notices} notices, improvement orders: {self.improvements_opened} "
                f"opened, {self.improvements_still_below} still below target, {self.improvements_closed} closed")


class MonthArchived(ValidationError):
    """The month's scores are archived: they change only by a recorded recomputation."""

    def __init__(self, month: datetime.date):
        self.month = month
        super().__init__(_("The scores of %(month)s are archived and stay as they are; an administrator or a quality "
                           "manager may recompute them, with a reason that is recorded.") % {"month": f"{month:%Y-%m}"},
                         code="month_archived")


MONTH_LOCK_NAMESPACE = 7215  # pg_advisory_xact_lock(namespace, yyyymm): one store of a month's scores at a time


def _month_lock(month: datetime.date) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [MONTH_LOCK_NAMESPACE, month.year * 100 + month.month])


def month_archived(month: datetime.date) -> bool:
    return MonthlyScore.objects.filter(month=month.replace(day=1)).exists()


def month_close(*, month: datetime.date, progress=None, recomputation: ScoreRecomputation | None = None) -> CycleReport:
    """Score the month, send the notices, open, update and close improvement orders. Once scored, the month is
    archived: it is computed again only under a recorded recomputation (services.month_scores_recompute), which
    replaces the scores and the notices' content and changes nothing twice. `progress(done, total, step)` hears of
    each phase (computing in SQL, then storing in one transaction)."""
    month = month.replace(day=1)
    if recomputation is None and month_archived(month):
        raise MonthArchived(month)
    if progress is not None:
        progress(0, 2, _("Computing the scores of %(month)s") % {"month": f"{month:%Y-%m}"})
    computed = month_compute(month=month)
    if progress is not None:
        progress(1, 2, _("Storing %(count)s departments' scores, notices and improvement orders")
                 % {"count": len(computed)})
    ranked = sorted(computed, key=lambda m: (-m.total, m.department.pk))
    report = CycleReport()
    now = timezone.now()
    policy = AccountabilityPolicy.in_force()
    with transaction.atomic():
        # A close that ran meanwhile (the morning's beat, a page's job) archived the month: its scores stand.
        _month_lock(month)
        if recomputation is None and month_archived(month):
            raise MonthArchived(month)
        MonthlyScore.objects.filter(month=month).delete()
        rank, previous_total = 0, None
        for position, item in enumerate(ranked, 1):
            if item.total != previous_total:
                rank, previous_total = position, item.total
            score = MonthlyScore.objects.create(
                department=item.department, month=month, year=month.year, indicator_points=item.indicator_points,
                deduction_points=item.deductions, total=item.total, rank=rank, ranked=len(ranked),
                attributed=_decimal(item.attributed), computed_at=now)
            IndicatorResult.objects.bulk_create([
                IndicatorResult(score=score, indicator=indicator, value=_decimal(c.value),
                                numerator=_decimal(c.numerator), denominator=_decimal(c.denominator), target=target,
                                met=met, points=points)
                for indicator, c, target, met, points in item.results])
            _notice(score=score, item=item, month=month, now=now, policy=policy)
            report.notices += 1
            _improvements(item=item, month=month, now=now, policy=policy, report=report)
            report.scores += 1
    return report


def _notice(*, score: MonthlyScore, item: DepartmentMonth, month, now, policy) -> MonthlyNotice:
    below = [{"indicator": indicator.name, "value": c.value, "target": float(target)}
             for indicator, c, target, met, _points in item.results if not met]
    content = {
        "total": float(score.total), "rank": score.rank, "ranked": score.ranked,
        "indicator_points": float(score.indicator_points), "deductions": float(score.deduction_points),
        "attributed": item.attributed, "below_target": below,
        "worst_categories": department_worst_categories(department=item.department, month=month),
        "sample_orders": department_sample_orders(department=item.department, month=month),
    }
    notice = MonthlyNotice.objects.filter(department=item.department, month=month).first()
    if notice is not None:
        notice.score, notice.content = score, content
        notice.save(update_fields=["score", "content"])
        return notice
    due = working_days_after(now, policy.notice_ack_working_days)
    notice = MonthlyNotice.objects.create(department=item.department, month=month, score=score, content=content,
                                          sent_at=now, due_at=due, warn_at=_warn_point(now, due, policy))
    leads_notify(department=item.department, kind="notice", subject=_("Monthly notice %(month)s: rank %(rank)s of "
                                                                     "%(of)s") % {
        "month": f"{month:%Y-%m}", "rank": score.rank, "of": score.ranked}, link=f"/accountability/notices/{notice.pk}/")
    return notice


def _warn_point(start, due, policy):
    calendar, _id = work_calendar(None)
    return calendar.point_between(start, due, LimitUnit.WORKING_DAYS, policy.warn_percent)


def _improvements(*, item: DepartmentMonth, month, now, policy, report: CycleReport) -> None:
    open_orders = {o.indicator.code: o for o in ImprovementOrder.objects.select_for_update()
                   .filter(department=item.department).exclude(status=ImprovementOrder.Status.CLOSED)
                   .select_related("indicator")}
    for indicator, computed, target, met, _points in item.results:
        existing = open_orders.get(indicator.code)
        value = _decimal(computed.value)
        if met:
            if existing is not None and existing.opened_month < month:  # a later month meets the target
                existing.status, existing.closed_at = ImprovementOrder.Status.CLOSED, now
                existing.latest_month, existing.latest_value = month, value
                existing.save(update_fields=["status", "closed_at", "latest_month", "latest_value"])
                improvement_event(improvement=existing, action=AccountabilityEvent.Action.IMPROVEMENT_CLOSED,
                                  month=f"{month:%Y-%m}", value=_plain(value))
                report.improvements_closed += 1
            continue
        if existing is not None:
            if existing.latest_month < month:
                existing.months_below += 1
                report.improvements_still_below += 1
            existing.latest_month, existing.latest_value = month, value
            existing.save(update_fields=["latest_month", "latest_value", "months_below"])
            continue
        due = working_days_after(now, policy.improvement_answer_working_days)
        order = ImprovementOrder.objects.create(
            department=item.department, indicator=indicator, opened_month=month, opened_value=value, target=target,
            latest_month=month, latest_value=value, opened_at=now, due_at=due, warn_at=_warn_point(now, due, policy))
        improvement_event(improvement=order, action=AccountabilityEvent.Action.IMPROVEMENT_OPENED,
                          month=f"{month:%Y-%m}", value=_plain(value), target=_plain(target))
        report.improvements_opened += 1
        leads_notify(department=item.department, kind="improvement",
                     subject=_("Improvement order: %(indicator)s below target in %(month)s")
                     % {"indicator": indicator.name, "month": f"{month:%Y-%m}"},
                     link=f"/accountability/improvements/{order.pk}/")


def previous_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def monthly_cycle_due(*, today: datetime.date | None = None) -> CycleReport | None:
    """From the first working day of a month on, close the month before once (Celery beat, every morning)."""
    today = today or timezone.localdate()
    calendar, _id = work_calendar(None)
    first = today.replace(day=1)
    while not calendar.is_working_day(first):
        first += datetime.timedelta(days=1)
    month = previous_month(today)
    if today < first or MonthlyScore.objects.filter(month=month).exists():
        return None
    if not Indicator.objects.filter(year=month.year).exists():
        return None
    return month_close(month=month)


def job_run_month_close(*, job, progress) -> dict:
    """The background job the ranking page starts (jobs.services): the whole month in one transaction, so a retry
    after a lost worker simply closes it again."""
    month = datetime.date.fromisoformat(job.params["month"])
    report = month_close(month=month, progress=progress)
    progress(2, 2, "")
    return {"month": f"{month:%Y-%m}", **asdict(report)}


__all__ = ["Determination", "job_run_month_close", "month_close", "month_compute", "monthly_cycle_due"]
