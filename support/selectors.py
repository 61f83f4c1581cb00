"""Reads of support requests: who may see and raise what, the lists and the on-time rates.

Who sees what: the requester and everyone in the requesting unit (its lead included); the department the request
is routed to and the one that answered it; the quality department, dispatchers and administrators see all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from core.permissions import has_role, is_admin, is_dispatcher, is_quality
from org import roles
from org.models import Department
from support.models import SupportEvent, SupportRequest

Status = SupportRequest.Status

# Everyone who works with support requests in some role (the navigation shows them the list).
SUPPORT_ROLES = (roles.FRONTLINE_AGENT, roles.DISPATCHER, roles.HANDLER, roles.LEAD, roles.QUALITY_MANAGER,
                 roles.ADMIN)


# --- who is who ---------------------------------------------------------------------------------------------


def sees_all(user) -> bool:
    """Administrators, the complaint centre's dispatchers and the quality team see every request of their region."""
    return is_admin(user) or is_dispatcher(user) or is_quality(user)


def may_use_support(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or has_role(user, *SUPPORT_ROLES)))


def may_raise(user) -> bool:
    """Agents and leads of a frontline unit raise requests to head office."""
    return (
        user.is_authenticated and user.is_active and user.department_id is not None
        and user.department.kind == Department.Kind.FRONTLINE and user.department.is_active
        and has_role(user, roles.FRONTLINE_AGENT, roles.LEAD)
    )


def requests_visible_to(user) -> QuerySet:
    requests = SupportRequest.objects.all()
    if not may_use_support(user):
        return requests.none()
    if sees_all(user):
        return requests
    seen = Q(requester=user)
    if user.department_id is not None:
        seen |= (Q(requester_department_id=user.department_id) | Q(department_id=user.department_id)
                 | Q(answered_department_id=user.department_id))
    return requests.filter(seen)


def request_get_for_user(*, user, number: str) -> SupportRequest | None:
    return (requests_visible_to(user)
            .select_related("requester", "requester_department", "department", "answered_department",
                            "answer_written_by", "approved_by", "deferred_by", "policy")
            .filter(number=number).first())


def waiting_for_q(user) -> Q:
    """The requests waiting for this user to act: to sort, answer, approve or rate."""
    waiting = Q(status=Status.RATING, requester=user)
    if is_quality(user):
        waiting |= Q(status=Status.SORTING)
    if user.department_id is not None:
        if user.has_role(roles.HANDLER, roles.LEAD):
            waiting |= Q(status=Status.HANDLING, department_id=user.department_id)
        if user.has_role(roles.LEAD):
            waiting |= Q(status=Status.APPROVAL, department_id=user.department_id)
    return waiting


@dataclass(frozen=True)
class ListFilters:
    scope: str = "all"  # all / mine (waiting for me)
    state: str = ""  # "" / open / overdue / closed
    kind: str = ""
    department: Department | None = None
    q: str = ""


def request_list(*, user, filters: ListFilters, now: datetime | None = None) -> QuerySet:
    now = now or timezone.now()
    requests = requests_visible_to(user).select_related("requester_department", "department",
                                                         "answered_department")
    if filters.scope == "mine":
        requests = requests.filter(waiting_for_q(user))
    if filters.state == "open":
        requests = requests.exclude(status=Status.CLOSED)
    elif filters.state == "overdue":
        requests = requests.filter(status__in=SupportRequest.ANSWER_PENDING, due_at__lte=now)
    elif filters.state == "closed":
        requests = requests.filter(status=Status.CLOSED)
    if filters.kind:
        requests = requests.filter(kind=filters.kind)
    if filters.department is not None:
        requests = requests.filter(Q(department=filters.department) | Q(answered_department=filters.department))
    text = filters.q.strip()
    if text:
        requests = requests.filter(Q(number=text.upper()) | Q(title__icontains=text))
    return requests.order_by("-received_at", "-id")


def request_events(*, request: SupportRequest) -> QuerySet:
    return SupportEvent.objects.filter(request=request).order_by("created_at", "id")


# --- the on-time rate ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnTimeRate:
    department_id: int | None
    department_name: str
    answered: int
    on_time: int

    @property
    def rate(self) -> float | None:
        return 100.0 * self.on_time / self.answered if self.answered else None


def _answered(*, answered_from: date | None, answered_to: date | None) -> QuerySet:
    answered = SupportRequest.objects.filter(answered_at__isnull=False)
    tz = timezone.get_current_timezone()
    if answered_from:
        answered = answered.filter(answered_at__gte=datetime.combine(answered_from, time.min, tz))
    if answered_to:
        answered = answered.filter(answered_at__lt=datetime.combine(answered_to + timedelta(days=1), time.min, tz))
    return answered


def on_time_rates(*, answered_from: date | None = None, answered_to: date | None = None) -> list[OnTimeRate]:
    """Per answering department: answers approved by the promised date (as moved by a deferral) / answers.
    A request is judged by its latest approved answer. One aggregate query."""
    rows = (
        _answered(answered_from=answered_from, answered_to=answered_to)
        .values("answered_department_id", "answered_department__name")
        .annotate(answered=Count("id"), on_time=Count("id", filter=Q(answered_on_time=True)))
        .order_by("answered_department__name")
    )
    return [OnTimeRate(r["answered_department_id"], r["answered_department__name"] or "—", r["answered"],
                       r["on_time"]) for r in rows]


def on_time_rate(*, department: Department, answered_from: date | None = None,
                 answered_to: date | None = None) -> OnTimeRate:
    counts = _answered(answered_from=answered_from, answered_to=answered_to).filter(
        answered_department=department).aggregate(answered=Count("id"),
                                                  on_time=Count("id", filter=Q(answered_on_time=True)))
    return OnTimeRate(department.pk, department.name, counts["answered"], counts["on_time"])


def routable_departments() -> QuerySet:
    return Department.objects.filter(kind=Department.Kind.BACK_OFFICE, is_active=True).order_by("name")


def answering_departments() -> QuerySet:
    """The departments a list can be filtered by: back-office departments and the quality department."""
    return Department.objects.filter(kind__in=[Department.Kind.BACK_OFFICE, Department.Kind.QUALITY],
                                     is_active=True).order_by("kind", "name")
