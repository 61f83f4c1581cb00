"""Reads of the workflow: work lists, their counts, the timeline, the notification inbox. Every list goes through
orders_visible_to and reads the order table's current-stage columns through partial indexes on open orders."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from complaints.models import OPEN_STATUSES, OrderStatus, PublicStage, QueueLevel, WorkOrder, public_stage
from complaints.selectors import orders_filtered, orders_visible_to
from core.permissions import is_centre_staff, is_dispatcher
from org import roles
from org.models import Department, User
from workflow import sla
from workflow.models import (
    HOLDING_STAGES,
    ExtensionRequest,
    Notification,
    OrderEvent,
    PromiseCause,
    Stage,
    StageOutcome,
)

COUNT_CAP = 999  # counts in the navigation stop here: "999+" needs no full count of a million rows


@dataclass(frozen=True)
class WorkList:
    key: str
    label: str
    description: str


WORK_LISTS = {
    "mine": WorkList("mine", _("My tasks"), _("Orders you hold now.")),
    "queue": WorkList("queue", _("Department queue"), _("Orders waiting for a handler of your department to claim.")),
    "team": WorkList("team", _("My team"), _("Who in your department holds what, and for how long.")),
    "callback": WorkList("callback", _("Callbacks"), _("Customers of your unit waiting for a callback.")),
    "dispatch": WorkList("dispatch", _("To dispatch"), _("Orders waiting for a dispatcher to choose a department.")),
    "answer": WorkList("answer", _("Inquiries"), _("Inquiries waiting for the complaint centre's answer.")),
    "review": WorkList("review", _("To review"), _("Replies waiting for the complaint centre's review.")),
    "escalated": WorkList("escalated", _("Escalated"), _("Open orders escalated to your level.")),
    "extensions": WorkList("extensions", _("Extensions"), _("Extension requests waiting for your decision.")),
    "open": WorkList("open", _("All open"), _("Every open order you may see.")),
}

SORTS = {
    "deadline": (F("stage_due_at").asc(nulls_last=True), "id"),
    "received": ("received_at", "id"),
    "-received": ("-received_at", "-id"),
    "stage": ("stage_started_at", "id"),
}


def work_lists_for(user) -> list[WorkList]:
    """The lists that make sense for the user's roles, most used first."""
    keys = []
    if user.is_superuser or user.has_role(roles.HANDLER, roles.LEAD):
        keys += ["mine", "queue"]
    if user.has_role(roles.LEAD):
        keys += ["team", "escalated"]
    if user.has_role(roles.FRONTLINE_AGENT):
        keys += ["callback"]
    if is_dispatcher(user):
        keys += ["dispatch", "answer", "review", "extensions", "escalated", "open"]
    if user.has_role(roles.EMERGENCY):
        keys += ["escalated"]
    if user.has_role(roles.QUALITY_MANAGER):
        keys += ["open"]
    return [WORK_LISTS[key] for key in dict.fromkeys(keys)]


def work_list_orders(*, user, key: str, filters: dict | None = None, sort: str = "deadline") -> QuerySet:
    """The orders of one work list, filtered and sorted, ready to paginate."""
    filters = filters or {}
    visible = orders_visible_to(user)
    department = user.department_id
    if key == "mine":
        qs = visible.filter(current_owner=user, status__in=OPEN_STATUSES)
    elif key == "queue":
        qs = visible.filter(current_department=department, status=OrderStatus.QUEUED)
        if not user.has_role(roles.LEAD):  # a lead sees both queues; the lead's queue holds VIP, major, escalated
            qs = qs.filter(queue_level=QueueLevel.HANDLER)
    elif key == "team":
        qs = visible.filter(current_department=department,
                            status__in=[OrderStatus.IN_PROGRESS, OrderStatus.WAITING])
    elif key == "callback":  # not while an SMS survey still waits for the customer's own answer
        qs = visible.filter(Q(callback_after__isnull=True) | Q(callback_after__lte=timezone.now()),
                            current_department=department, status=OrderStatus.CALLBACK)
    elif key == "dispatch":
        qs = visible.filter(status=OrderStatus.NEW)
    elif key == "answer":
        qs = visible.filter(status=OrderStatus.ANSWERING)
    elif key == "review":
        qs = visible.filter(status=OrderStatus.REVIEW)
    elif key == "escalated":
        qs = visible.filter(status__in=OPEN_STATUSES, escalation_level__gt=0)
        if user.has_role(roles.EMERGENCY):
            qs = qs.filter(escalation_level__gte=3)
        elif user.has_role(roles.LEAD) and not is_centre_staff(user):
            qs = qs.filter(current_department=department)
        elif not is_dispatcher(user):
            qs = qs.filter(escalation_level__gte=2)
    elif key == "extensions":
        pending = ExtensionRequest.objects.filter(order=OuterRef("pk"), status=ExtensionRequest.Status.PENDING)
        qs = visible.filter(Exists(pending), status__in=OPEN_STATUSES)
    elif key == "open":
        qs = visible.filter(status__in=OPEN_STATUSES)
    else:
        raise KeyError(key)
    qs = orders_filtered(qs, filters)
    # Channel, category, region and department come from the memos (complaints.selectors.with_reference_data, for
    # the rows shown): six joins took PostgreSQL longer to plan than the list took to read.
    return qs.select_related("customer", "current_owner").order_by(*SORTS.get(sort, SORTS["deadline"]))


def work_list_counts(*, user) -> dict[str, int]:
    """How many orders wait in each of the user's lists, counted up to COUNT_CAP + 1."""
    return {
        work_list.key: work_list_orders(user=user, key=work_list.key).order_by()[: COUNT_CAP + 1].count()
        for work_list in work_lists_for(user)
        if work_list.key not in ("open", "team")
    }


def department_handlers(*, department) -> QuerySet:
    """Who a lead can assign an order to."""
    return (
        User.objects.filter(department=department, is_active=True)
        .filter(Q(groups__name=roles.HANDLER) | Q(groups__name=roles.LEAD))
        .distinct()
        .order_by("display_name", "username")
    )


def dispatch_targets() -> QuerySet:
    return Department.objects.filter(kind=Department.Kind.BACK_OFFICE, is_active=True).select_related("region")


def order_timeline(*, order: WorkOrder) -> QuerySet:
    return order.events.order_by("created_at", "id")


@dataclass(frozen=True)
class PublicProgress:
    """What the customer reads on /track/: the current stage and the moments the order entered each stage."""

    stage: PublicStage
    steps: list[tuple[datetime, PublicStage]]


# Steps that mean someone has worked on the order even when it is back in a queue afterwards.
_HANDLING_ACTIONS = frozenset({OrderEvent.Action.CLAIMED, OrderEvent.Action.TRANSFERRED, OrderEvent.Action.RETURNED,
                               OrderEvent.Action.RELEASED, OrderEvent.Action.REOPENED})


def order_progress_public(*, order: WorkOrder) -> PublicProgress:
    """The order's history in the customer's four words: each change of stage once, in order, from the audit
    trail (internal steps inside one stage — a claim after a transfer, a note — are not shown)."""
    steps = [(order.received_at, PublicStage.RECEIVED)]
    handled = False
    for event in order.events.only("action", "to_status", "created_at").order_by("created_at", "id"):
        if event.to_status not in OrderStatus.values:
            continue
        handled = handled or event.action in _HANDLING_ACTIONS or event.to_status not in (
            OrderStatus.NEW, OrderStatus.ANSWERING, OrderStatus.QUEUED)
        stage = public_stage(event.to_status, handled=handled)
        if stage != steps[-1][1]:
            steps.append((event.created_at, stage))
    current = public_stage(order.status, handled=handled or order.public_stage != PublicStage.RECEIVED)
    if current != steps[-1][1]:  # an order whose trail was not recorded (imported before the audit trail)
        steps.append((order.closed_at or order.received_at, current))
    return PublicProgress(stage=current, steps=steps)


def notifications_for(*, user) -> QuerySet:
    return Notification.objects.filter(recipient=user).select_related("order").order_by("-created_at", "-id")


def notifications_unread_count(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True)[: COUNT_CAP + 1].count()


@dataclass(frozen=True)
class Promise:
    at: datetime
    label: str
    current: bool = False


def order_promises(*, order: WorkOrder, stages) -> list[Promise]:
    """Each reply time promised to the customer, once and in order, labelled: the original promise; where an
    approved extension or time waiting for the customer moved it (the original is kept); a new promise made when
    the order was reopened after the callback. Passing the order between departments never makes one.
    `stages`: the order's stages, oldest first."""
    promises: list[Promise] = []
    seen = set()

    def add(at, label):
        if at is not None and at not in seen:
            seen.add(at)
            promises.append(Promise(at, label, current=at == order.promised_at))

    for stage in (stage for stage in stages if stage.kind == Stage.PROMISE):
        add(stage.original_due_at, _("new promise (reopened)") if stage.cause == PromiseCause.REOPEN
            else _("original promise"))
        if stage.due_at != stage.original_due_at:
            add(stage.due_at, _("extended") if stage.extended else _("moved on by the time waiting for the customer"))
    add(order.promised_at, _("promised"))
    if len(promises) == 1:
        promises[0] = Promise(promises[0].at, "", current=True)
    return promises


@dataclass(frozen=True)
class DepartmentClock:
    """One holding of the order: which unit held it, in which step, for how long in working time, and how its
    own clock ended (in_time, late, misrouted) or `running` / `paused` while it holds the order now."""

    department: Department | None
    stage: str
    started_at: datetime
    ended_at: datetime | None
    due_at: datetime
    working_seconds_used: int
    outcome: str

    @property
    def stage_label(self) -> str:
        return Stage(self.stage).label

    @property
    def outcome_label(self) -> str:
        labels = {"running": _("holding it now"), "paused": _("paused"), **dict(StageOutcome.choices)}
        return labels[self.outcome]

    @property
    def holder_label(self) -> str:
        # a centre's step (dispatch, review, a direct answer) is stamped with its department when it ends
        return self.department.name if self.department is not None else _("Complaint centre")


def order_department_clocks(*, order: WorkOrder, stages=None, now: datetime | None = None) -> list[DepartmentClock]:
    """Who held the order, in order: each department's (and the centre's) holding with its own clock. `stages`:
    the order's stages, oldest first, with department and pauses fetched (read here when not given)."""
    now = now or timezone.now()
    if stages is None:
        stages = order.stages.select_related("department").prefetch_related("pauses").order_by("started_at", "id")
    clocks = []
    for stage in stages:
        if stage.kind not in HOLDING_STAGES:
            continue
        outcome = stage.outcome or ("paused" if stage.paused_at else "running")
        clocks.append(DepartmentClock(stage.department, stage.kind, stage.started_at, stage.ended_at, stage.due_at,
                                      sla.working_seconds_used(stage, now=now), outcome))
    return clocks
