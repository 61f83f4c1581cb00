"""Reads of the quality app: who may see which KPIs, the orders behind a number, follow-ups."""

from __future__ import annotations

import datetime

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from complaints.models import RatingVerdict
from complaints.selectors import departments_by_id, orders_visible_to, regions_by_path, regions_visible_to
from core.permissions import has_role, is_centre_or_quality, is_lead
from org import roles
from org.models import Department, Region
from quality.kpis import GROUPINGS, KPIS, Context, Period, Slice
from quality.models import CallbackSurvey, FollowUp, OrderFact

# --- who sees what ---------------------------------------------------------------------------------------------


def may_see_dashboards(user) -> bool:
    """Quality managers, the complaint centre (dispatchers, its leads) and administrators see every dashboard of
    their region; other department leads see their own department's."""
    return is_centre_or_quality(user) or is_lead(user)


def dashboard_region(user) -> Region | None:
    """The region (and below) whose numbers the user may see; None: everything (superusers)."""
    if user.is_superuser:
        return None
    return user.region


def departments_viewable_by(user) -> QuerySet:
    """The departments whose department view the user may open."""
    if is_centre_or_quality(user):
        region = dashboard_region(user)
        qs = Department.objects.filter(is_active=True).exclude(kind=Department.Kind.QUALITY)
        if region is not None:
            qs = qs.filter(Q(region__path__startswith=region.path) | Q(region__in=_ancestors(region)))
        return qs.select_related("region").order_by("kind", "region__path", "name")
    if is_lead(user):
        return Department.objects.filter(pk=user.department_id).select_related("region")
    return Department.objects.none()


def departments_viewable_list(user) -> list[Department]:
    """departments_viewable_by as a list in the same order, from the memos (the dashboards' filter form on every
    page); what is submitted is still checked against the queryset."""
    if is_centre_or_quality(user):
        region = dashboard_region(user)
        ancestors = set(_ancestors(region)) if region is not None else set()
        found = [d for d in departments_by_id().values()
                 if d.is_active and d.kind != Department.Kind.QUALITY
                 and (region is None or d.region.path.startswith(region.path) or d.region_id in ancestors)]
        return sorted(found, key=lambda d: (d.kind, d.region.path, d.name))
    if is_lead(user):
        department = departments_by_id().get(user.department_id)
        return [department] if department is not None else list(departments_viewable_by(user))
    return []


def _ancestors(region: Region) -> list[int]:
    codes = {code for code in region.path.strip("/").split("/") if code}
    return [r.pk for r in regions_by_path() if r.code in codes]


def viewer_slice(user, **filters) -> Slice:
    """The slice a user's dashboards start from: their region; a department lead's: their department."""
    slice_ = Slice(regions=dashboard_region(user), **filters)
    if not is_centre_or_quality(user) and has_role(user, roles.LEAD):
        slice_ = slice_.narrowed(department_id=user.department_id)
    return slice_


# --- the orders behind a number ------------------------------------------------------------------------------

# Each drill: the moment that puts an order into the period, and the fact (or survey) condition.
DRILLS = {
    "received": ("received", Q()),
    "complaints": ("received", Q(kind="complaint")),
    "inquiries": ("received", Q(kind="inquiry")),
    "on_spot": ("received", Q(on_spot=1)),
    "repeat": ("received", Q(repeat=1)),
    "escalated": ("received", Q(escalated=1)),
    "closed": ("closed", Q()),
    "timed": ("closed", Q(timed=1)),
    "in_time": ("closed", Q(in_time=1)),
    "in_time_original": ("closed", Q(in_time_original=1)),
    "breached": ("closed", Q(breached=1)),
    "reopened": ("closed", Q(reopened=1)),
    "dispatched_closed": ("closed", Q(dispatched_closed=1)),
    "called_back": ("closed", Q(called_back=1)),
    "called_back_sms": ("closed", Q(called_back_sms=1)),
    "called_back_phone": ("closed", Q(called_back_phone=1)),
    "promise_kept": ("closed", Q(promise_kept=1)),
    "ping_pong": ("closed", Q(ping_pong=1)),
    # the orders behind the departmental on-time rate: with a judged holding; every one of them in time
    "holdings": ("closed", Q(holdings__gt=0)),
    "holdings_in_time": ("closed", Q(holdings__gt=0, holdings_in_time=F("holdings"))),
    "replied": ("replied", Q()),
    "rated": ("rated", Q()),
    "satisfied": ("rated", Q(verdict=RatingVerdict.SATISFIED)),
    "dissatisfied": ("rated", Q(verdict=RatingVerdict.DISSATISFIED)),
    "due": ("due", Q()),
    "looped": ("due", Q(looped=1)),
}
BASIS_DAY = {"received": "received_day", "closed": "closed_day", "replied": "replied_day", "due": "due_day"}
BASIS_ORDERING = {"received": "-received_at", "closed": "-closed_at", "replied": "-replied_at",
                  "due": "-received_at", "rated": "-callback_at"}

_FACT_FIELD = {"region_id": "city_id", "order_region_id": "region_id"}


def drill_parts(kpi_code: str) -> dict[str, tuple[str, ...]]:
    """The lists a KPI's number opens: counted (numerator), not counted (the rest of the denominator), all."""
    kpi = KPIS[kpi_code]
    parts = {"num": (kpi.numerator_drill,)}
    if kpi.denominator_drill:
        parts["rest"] = (kpi.denominator_drill, kpi.numerator_drill)
        parts["den"] = (kpi.denominator_drill,)
    return parts


def fact_slice_q(slice_: Slice, ctx: Context, *, prefix: str = "") -> Q:
    """The slice as conditions on the fact table."""
    q = Q()
    for region in (slice_.regions, slice_.region):
        if region is None:
            continue
        if region.level <= 2:
            cities = [n for n in ctx.regions.subtree(region.pk) if ctx.regions.nodes[n]["level"] <= 2]
            q &= Q(**{f"{prefix}city_id__in": cities})
        else:
            q &= Q(**{f"{prefix}region_id__in": ctx.regions.subtree(region.pk)})
    if slice_.category is not None:
        q &= Q(**{f"{prefix}category_id__in": ctx.categories.subtree(slice_.category.pk)})
    for name, value in (("department_id", slice_.department_id), ("channel_id", slice_.channel_id),
                        ("severity", slice_.severity), ("tier", slice_.tier), ("brand", slice_.brand),
                        ("agent_id", slice_.agent_id)):
        if value not in (None, ""):
            q &= Q(**{f"{prefix}{name}": value})
    if slice_.kinds:
        q &= Q(**{f"{prefix}kind__in": list(slice_.kinds)})
    return q


def group_q(grouping: str, value, ctx: Context, *, prefix: str = "") -> tuple[Q, Period | None]:
    """One group of a table as a condition (a time group narrows the period instead)."""
    if grouping in ("day", "week", "month"):
        start = value
        if grouping == "day":
            end = start
        elif grouping == "week":
            end = start + datetime.timedelta(days=6)
        else:
            end = Period.month(start.year, start.month).end
        return Q(), Period(start, end)
    dimension = GROUPINGS[grouping]
    if grouping.startswith("category"):
        return Q(**{f"{prefix}category_id__in": ctx.categories.subtree(value)}), None
    if grouping in ("region1", "region2"):
        cities = [n for n in ctx.regions.subtree(value) if ctx.regions.nodes[n]["level"] <= 2]
        return Q(**{f"{prefix}city_id__in": cities}), None
    if grouping == "hour":  # the hour an order was received (the hourly intake chart)
        return Q(**{f"{prefix}received_hour": value}), None
    return Q(**{f"{prefix}{_FACT_FIELD.get(dimension, dimension)}": value}), None


def drill_orders(*, user, drills: tuple[str, ...], period: Period, slice_: Slice, extra: Q | None = None,
                 ctx: Context | None = None) -> QuerySet:
    """The orders behind a number: in the first drill's set and, when a second is given, not in it (the rest of
    a denominator). Always within what the user may see."""
    ctx = ctx or Context()
    extra = extra or Q()
    basis, condition = DRILLS[drills[0]]
    slice_q = fact_slice_q(slice_.narrowed(kinds=()) if _fixes_kind(drills[0]) else slice_, ctx)
    if basis == "rated":
        surveys = CallbackSurvey.objects.filter(day__gte=period.start, day__lte=period.end).filter(condition)
        facts = OrderFact.objects.filter(slice_q & extra).filter(
            Exists(surveys.filter(order_id=OuterRef("order_id"))))
        if len(drills) > 1:
            _basis, excluded = DRILLS[drills[1]]
            facts = facts.exclude(Exists(surveys.filter(excluded).filter(order_id=OuterRef("order_id"))))
    else:
        day = BASIS_DAY[basis]
        facts = OrderFact.objects.filter(**{f"{day}__gte": period.start, f"{day}__lte": period.end})
        facts = facts.filter(slice_q & extra & condition)
        if len(drills) > 1:
            facts = facts.exclude(DRILLS[drills[1]][1])
    return (orders_visible_to(user).filter(pk__in=facts.values("order_id"))
            .select_related("customer", "channel", "category", "region", "current_department")
            .order_by(BASIS_ORDERING[basis], "-id"))


def _fixes_kind(drill: str) -> bool:
    return drill in ("complaints", "inquiries")


# --- follow-ups ------------------------------------------------------------------------------------------------


def follow_ups_visible_to(user) -> QuerySet:
    if not user.is_authenticated:
        return FollowUp.objects.none()
    if user.is_superuser:
        return FollowUp.objects.all()
    return FollowUp.objects.filter(region__in=regions_visible_to(user))


def follow_up_list(*, user, state: str = "open") -> QuerySet:
    qs = follow_ups_visible_to(user).select_related("customer", "order", "order__category", "assignee", "region")
    if state == "open":
        qs = qs.exclude(status=FollowUp.Status.CLOSED).order_by("due_at", "id")
    elif state == "overdue":
        qs = qs.exclude(status=FollowUp.Status.CLOSED).filter(due_at__lte=timezone.now()).order_by("due_at", "id")
    elif state == "mine":
        qs = qs.exclude(status=FollowUp.Status.CLOSED).filter(assignee=user).order_by("due_at", "id")
    else:
        qs = qs.filter(status=FollowUp.Status.CLOSED).order_by("-closed_at", "-id")
    return qs


def follow_up_get(*, user, pk: int) -> FollowUp | None:
    return (follow_ups_visible_to(user).select_related("customer", "order", "order__category", "assignee",
                                                        "closed_by", "region").filter(pk=pk).first())

