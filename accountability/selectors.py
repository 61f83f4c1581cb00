"""Reads of accountability. A city's complaint centre sees its city (determinations and appeals of its orders,
scores of its departments); the province sees all; a department's lead sees their department."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accountability.models import (
    Appeal,
    Deduction,
    Determination,
    DeterminationShare,
    ImprovementOrder,
    Indicator,
    IndicatorTarget,
    IndicatorTargetChange,
    MonthlyNotice,
    MonthlyScore,
)
from complaints.models import Category, RatingVerdict, WorkOrder
from complaints.selectors import orders_visible_to, regions_visible_to
from core.permissions import is_admin, is_centre_or_quality, is_lead, is_quality
from org.models import Department
from quality.kpis import Period
from quality.models import CallbackSurvey, OrderFact


def may_see_accountability(user) -> bool:
    return is_centre_or_quality(user) or is_lead(user)


def may_follow_month_close(user, job) -> bool:
    """Whoever may close a month (the complaint centre and the quality team) sees a close that someone else
    started (the scores are the whole company's)."""
    return is_centre_or_quality(user)


def may_recompute_scores(user) -> bool:
    """Archived scores are computed again only by administrators and the quality team, with a recorded reason."""
    return is_admin(user) or is_quality(user)


def months_closed(months) -> set[datetime.date]:
    """Of these months (their first days), the closed ones: ended, with their departments' scores or a monthly
    report archived. Two small queries whatever the number of months."""
    from reports.models import MonthlyReport

    this_month = timezone.localdate().replace(day=1)
    months = {m.replace(day=1) for m in months if m.replace(day=1) < this_month}
    if not months:
        return set()
    scored = set(MonthlyScore.objects.filter(month__in=months).values_list("month", flat=True).distinct())
    reported = set(MonthlyReport.objects.filter(month__in=months - scored).values_list("month", flat=True).distinct())
    return scored | reported


def late_arrivals(*, month: datetime.date) -> QuerySet:
    """The orders that arrived for a month after it was closed."""
    return WorkOrder.objects.filter(closed_month_arrival=month.replace(day=1))


LATE_SHOWN = 20


def month_archive(*, user, month: datetime.date) -> dict:
    """What the ranking page says of an archived month: when it was scored, the orders that arrived for it since
    (those the reader may see, the latest few; the count of all), and its recomputations."""
    from accountability.models import ScoreRecomputation

    month = month.replace(day=1)
    late = late_arrivals(month=month)
    return {
        "computed_at": MonthlyScore.objects.filter(month=month).order_by("-computed_at")
        .values_list("computed_at", flat=True).first(),
        "late_count": late.count(),
        "late_orders": list(orders_visible_to(user).filter(closed_month_arrival=month)
                            .order_by("-received_at").only("number", "received_at", "source")[:LATE_SHOWN]),
        "recomputations": [
            {"record": r, "changes": _total_changes(r)}
            for r in ScoreRecomputation.objects.filter(month=month).order_by("-recomputed_at", "-id")[:12]],
    }


def _total_changes(record) -> list[dict]:
    """Each department whose total (or presence) changed in a recomputation, before and after."""
    rows = []
    for code in sorted(set(record.old_totals) | set(record.new_totals)):
        old, new = record.old_totals.get(code, {}), record.new_totals.get(code, {})
        if old.get("total") != new.get("total"):
            rows.append({"department": new.get("name") or old.get("name") or code, "old": old.get("total"),
                         "new": new.get("total")})
    return rows


def _region_q(user, field: str = "region") -> Q:
    if user.is_superuser:
        return Q()
    return Q(**{f"{field}__in": regions_visible_to(user)})


def departments_scored_for(user) -> QuerySet:
    qs = Department.objects.filter(is_active=True).select_related("region")
    if is_centre_or_quality(user):
        return qs.filter(_region_q(user))
    return qs.filter(pk=user.department_id)


def determinations_visible_to(user) -> QuerySet:
    qs = Determination.objects.select_related("order", "order__category", "region")
    if is_centre_or_quality(user):
        return qs.filter(_region_q(user))
    shares = DeterminationShare.objects.filter(determination=OuterRef("pk"), department_id=user.department_id)
    return qs.filter(Exists(shares))


def determination_list(*, user, state: str = "open") -> QuerySet:
    qs = determinations_visible_to(user).prefetch_related("shares__department")
    if state == "to_confirm":
        qs = qs.filter(status=Determination.Status.PROPOSED)
    elif state == "appealed":
        qs = qs.filter(status=Determination.Status.APPEALED)
    elif state == "open":  # still open to appeal
        qs = qs.filter(status__in=[Determination.Status.PROPOSED, Determination.Status.CONFIRMED])
    elif state == "final":
        qs = qs.filter(status=Determination.Status.FINAL)
    return qs.order_by("appeal_due_at" if state in ("open", "to_confirm") else "-proposed_at", "id")


def determination_get(*, user, pk: int) -> Determination | None:
    return determinations_visible_to(user).filter(pk=pk).first()


def appeals_visible_to(user) -> QuerySet:
    qs = Appeal.objects.select_related("department", "filed_by", "determination__order", "deduction__item")
    if is_centre_or_quality(user):
        return qs.filter(_region_q(user))
    return qs.filter(department_id=user.department_id)


def deductions_visible_to(user) -> QuerySet:
    qs = Deduction.objects.select_related("item", "department", "person", "order", "recorded_by")
    if is_centre_or_quality(user):
        return qs.filter(_region_q(user))
    return qs.filter(department_id=user.department_id)


def scores_visible_to(user) -> QuerySet:
    return MonthlyScore.objects.filter(department__in=departments_scored_for(user)).select_related("department")


def notices_visible_to(user) -> QuerySet:
    return MonthlyNotice.objects.filter(department__in=departments_scored_for(user)).select_related(
        "department", "score", "acknowledged_by")


def improvements_visible_to(user) -> QuerySet:
    return ImprovementOrder.objects.filter(department__in=departments_scored_for(user)).select_related(
        "department", "indicator", "answered_by", "reviewed_by")


def improvement_history(*, improvement) -> list:
    """Every step of an improvement order in order: opened, each answer with its measures, each review (a
    returned answer with its reason and new deadline), closed."""
    events = list(improvement.events.order_by("created_at", "id"))
    for event in events:
        event.due_at = parse_datetime(event.data["due_at"]) if event.data.get("due_at") else None
    return events


def months_scored() -> list[datetime.date]:
    return list(MonthlyScore.objects.order_by("-month").values_list("month", flat=True).distinct()[:36])


def score_trend(*, user, indicator_code: str, months: list[datetime.date]) -> dict:
    """{department: {month: value}} of one indicator over the months (the ranking's trend chart)."""
    from accountability.models import IndicatorResult

    rows = (IndicatorResult.objects.filter(score__in=scores_visible_to(user), score__month__in=months,
                                           indicator__code=indicator_code)
            .values_list("score__department__name", "score__month", "value"))
    out: dict = {}
    for department, month, value in rows:
        out.setdefault(department, {})[month] = value
    return out


# --- the orders behind a score ----------------------------------------------------------------------------

# Which of a department's attributed complaints an indicator's number counts (fact conditions), for the drill.
INDICATOR_ORDERS = {
    "timeliness": Q(timed=1, in_time=0),
    "overdue_count": Q(breached=1),
    "overdue_rate": Q(breached=1),
    "repeat_rate": Q(repeat=1),
    "escalation_count": Q(escalated=1),
    "reopen_rate": Q(reopened=1),
    "attributed": Q(),
    "per_10k": Q(),
    "satisfaction": Q(),
    "dissatisfaction": Q(),
    "appeals_lost": Q(),
    "incident_feedback": Q(),
    "incident_recovery": Q(),
}


def attributed_orders(*, user, department: Department, month: datetime.date, measure: str = "attributed",
                      ) -> QuerySet:
    """The complaints the department answers for that closed in the month (a share of them), narrowed to what an
    indicator counts against it: not in time, breached, repeated, escalated, reopened, or rated dissatisfied."""
    period = Period.month(month.year, month.month)
    shares = DeterminationShare.objects.filter(department=department, determination__order_id=OuterRef("order_id"))
    facts = OrderFact.objects.filter(closed_day__gte=period.start, closed_day__lte=period.end, kind="complaint") \
        .filter(Exists(shares)).filter(INDICATOR_ORDERS.get(measure, Q()))
    qs = orders_visible_to(user).filter(pk__in=facts.values("order_id"))
    if measure.startswith("incident_"):  # the complaints that came with a batch incident
        qs = qs.filter(incident__isnull=False)
    if measure == "dissatisfaction":
        qs = qs.filter(Exists(CallbackSurvey.objects.filter(order=OuterRef("pk"), verdict=RatingVerdict.DISSATISFIED)))
    if measure == "satisfaction":  # what kept the figure down: ratings that were not satisfied
        qs = qs.filter(Exists(CallbackSurvey.objects.filter(order=OuterRef("pk"))
                              .exclude(verdict=RatingVerdict.SATISFIED)))
    return qs.select_related("customer", "channel", "category", "region", "current_department").order_by(
        "-closed_at", "-id")


def department_worst_categories(*, department: Department, month: datetime.date, limit: int = 5) -> list[dict]:
    """The categories that brought the department the most attributed complaints in the month."""
    rows = (DeterminationShare.objects.filter(department=department, determination__month=month.replace(day=1))
            .exclude(determination__cause__in=["customer", "force_majeure"])
            .values("determination__order__category_id").annotate(n=Sum("share")).order_by("-n")[:limit])
    names = {c.pk: c.label for c in Category.objects.filter(pk__in=[r["determination__order__category_id"]
                                                                    for r in rows])}
    return [{"category": names.get(r["determination__order__category_id"], "—"), "complaints": float(r["n"])}
            for r in rows]


def department_sample_orders(*, department: Department, month: datetime.date, limit: int = 5) -> list[str]:
    return list(WorkOrder.objects.filter(determination__month=month.replace(day=1),
                                         determination__shares__department=department)
                .filter(Q(escalation_level__gt=0) | Q(reopen_count__gt=0)
                        | Exists(CallbackSurvey.objects.filter(order=OuterRef("pk"),
                                                               verdict=RatingVerdict.DISSATISFIED)))
                .order_by("-closed_at").values_list("number", flat=True)[:limit])


# --- targets by month ---------------------------------------------------------------------------------------


def targets_in_force(*, indicators, month: datetime.date) -> dict[tuple[int, int], Decimal]:
    """{(indicator, department): the target in force in the month} for every department with a step of its own
    at or before the month (the others keep the indicator's yearly default)."""
    out = {}
    for step in IndicatorTarget.objects.filter(indicator__in=indicators, from_month__lte=month.replace(day=1)) \
            .order_by("from_month").only("indicator_id", "department_id", "target"):
        out[(step.indicator_id, step.department_id)] = step.target  # a later step replaces an earlier one
    return out


def department_target_grid(*, department: Department, year: int) -> list[dict]:
    """Each indicator of the year with its twelve months: the department's step starting there (if any) and the
    target in force."""
    indicators = list(Indicator.objects.filter(year=year).order_by("code"))
    steps = {(t.indicator_id, t.from_month.month): t.target
             for t in IndicatorTarget.objects.filter(department=department, indicator__in=indicators)}
    rows = []
    for indicator in indicators:
        in_force, cells = indicator.target, []
        for month in range(1, 13):
            step = steps.get((indicator.pk, month))
            if step is not None:
                in_force = step
            cells.append({"month": month, "step": step, "in_force": in_force})
        rows.append({"indicator": indicator, "cells": cells})
    return rows


def target_changes(*, department: Department, year: int, limit: int = 50):
    return (IndicatorTargetChange.objects.filter(department=department, from_month__year=year)
            .select_related("indicator").order_by("-changed_at", "-id")[:limit])


def target_departments_for(user) -> QuerySet:
    """The departments whose targets the user may set: those of the user's region that can be scored."""
    return departments_scored_for(user).exclude(kind=Department.Kind.QUALITY).order_by("kind", "name")
