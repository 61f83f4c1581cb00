"""Stage deadlines: which time-limit policy applies, and the timed stages of an order as the workflow moves it.

Called from inside the workflow's own transactions (the flow's hooks and workflow.services), never on its own:
a stage starts when its task is created, ends when the task is done, pauses while the order waits for the
customer, and every change keeps the order's nearest deadline (`stage_due_at` / `stage_warn_at`) in step.

Two clocks run on an order. Each step's stages (dispatch, claim, handle, review, callback) are the clock of whoever
holds the order, and a transfer or a return starts the next holder's. The customer's promise (`Stage.PROMISE`,
copied to `order.promised_at`) is set once at receipt and moves only by an approved extension, by time waiting
for the customer, and by a reopen after the callback, which makes a new one: passing the order on never moves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Case, CharField, DateTimeField, F, IntegerField, Min, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.memo import cached_for
from workflow.calendars import work_calendar
from workflow.models import (
    CUSTOMER_PAUSES,
    HOLDING_STAGES,
    STEP_STAGES,
    LimitUnit,
    OrderStage,
    PromiseCause,
    Stage,
    StageLimit,
    StageOutcome,
    StagePause,
    TimeLimitPolicy,
)

# The reference values of the design (claim within 15 minutes, an ordinary complaint answered within 24 hours),
# used only when no policy in the database matches.
BUILT_IN_LIMITS = {
    Stage.DISPATCH: (30, LimitUnit.CLOCK_MINUTES),
    Stage.CLAIM: (15, LimitUnit.CLOCK_MINUTES),
    Stage.HANDLE: (24, LimitUnit.CLOCK_HOURS),
    Stage.REVIEW: (4, LimitUnit.WORKING_HOURS),
    Stage.CALLBACK: (2, LimitUnit.WORKING_DAYS),
}
BUILT_IN_WARN_PERCENT = 80


@dataclass(frozen=True)
class AppliedLimit:
    policy: TimeLimitPolicy | None
    amount: int
    unit: str
    warn_percent: int
    calendar_id: int | None


@cached_for(60)
def _policies() -> list[TimeLimitPolicy]:
    """Every policy with its limits, most specific first (a small table, read on every stage start)."""
    policies = list(TimeLimitPolicy.objects.select_related("category").prefetch_related("limits"))
    return sorted(policies, key=lambda p: (-p.specificity, -p.effective_from.toordinal(), p.pk))


def _matches(policy: TimeLimitPolicy, order) -> bool:
    return (
        (not policy.kind or policy.kind == order.kind)
        and (not policy.severity or policy.severity == order.severity)
        and (not policy.customer_tier or policy.customer_tier == order.customer.tier)
        and (policy.channel_id is None or policy.channel_id == order.channel_id)
        and (policy.category_id is None or order.category.path.startswith(policy.category.path))
    )


def limit_for(*, order, stage: str, on_date: date) -> AppliedLimit:
    """The limit of this stage for this order under the policies in force on that day: the most specific
    matching policy that sets the stage; of several versions with the same criteria, the latest in force."""
    seen_criteria = set()
    for policy in _policies():
        if not policy.is_in_force(on_date) or not _matches(policy, order):
            continue
        criteria = policy.criteria()
        if criteria in seen_criteria:  # an older version of a policy already considered
            continue
        seen_criteria.add(criteria)
        limit: StageLimit | None = next((x for x in policy.limits.all() if x.stage == stage), None)
        if limit is not None:
            return AppliedLimit(policy, limit.amount, limit.unit, limit.warn_percent or policy.warn_percent,
                                policy.calendar_id)
    if stage == Stage.PROMISE:  # no policy promises a time of its own: the reply limit is the promise
        return limit_for(order=order, stage=Stage.HANDLE, on_date=on_date)
    amount, unit = BUILT_IN_LIMITS[stage]
    return AppliedLimit(None, amount, unit, BUILT_IN_WARN_PERCENT, None)


def _new_stage(*, order, kind: str, at: datetime, **fields) -> OrderStage:
    """A stage row starting at `at`, its deadline and warning point from the policy in force that day."""
    applied = limit_for(order=order, stage=kind, on_date=timezone.localdate(at))
    calendar, calendar_id = work_calendar(applied.calendar_id)
    due = calendar.add_limit(at, applied.amount, applied.unit)
    warn = calendar.point_between(at, due.at, applied.unit, applied.warn_percent)
    return OrderStage(order=order, kind=kind, started_at=at, due_at=due.at, warn_at=warn, original_due_at=due.at,
                      policy=applied.policy, limit_amount=applied.amount, limit_unit=applied.unit,
                      calendar_id=calendar_id, calendar_unconfirmed=due.unconfirmed, **fields)


def stage_start(*, order, kind: str, department=None, at: datetime | None = None) -> OrderStage:
    return stages_start(order=order, kinds=(kind,), department=department, at=at)[0]


def stages_start(*, order, kinds, department=None, at: datetime | None = None, paused_for: str = "") -> list:
    """Start the clocks of these stages together; `paused_for` a reason: they start paused (an order joining an
    incident waits for it from the first moment, and its deadlines move on by the wait when it is answered)."""
    at = at or timezone.now()
    stages = [_new_stage(order=order, kind=kind, at=at, department=department,
                         paused_at=at if paused_for else None) for kind in kinds]
    OrderStage.objects.bulk_create([*order.__dict__.pop(PENDING_PROMISE, ()), *stages])  # with the promise at intake
    if paused_for:
        StagePause.objects.bulk_create([StagePause(stage=stage, started_at=at, reason=paused_for) for stage in stages])
    _nearest_into_order(order, new=stages)
    return stages


# --- an order being received: its rows are written together ---
#
# While intake starts the workflow of a new order, the order row is written once at the end (with its number,
# complaints' intake) instead of after each hook, and the customer's promise goes in with the first step's stages:
# `order_writes_defer` marks the order, `order_save` collects the fields, `order_writes_flush` writes them.

DEFERRED_FIELDS = "deferred_writes"
PENDING_PROMISE = "pending_promise"


def order_writes_defer(order) -> None:
    order.__dict__[DEFERRED_FIELDS] = set()


def order_save(order, fields) -> None:
    """Save these fields of the order now, or with the rest when its writes are deferred (an order being received)."""
    deferred = order.__dict__.get(DEFERRED_FIELDS)
    if deferred is None:
        order.save(update_fields=list(fields))
    else:
        deferred.update(fields)


def order_writes_flush(order, *also) -> None:
    """Write what was deferred (and `also`) in one UPDATE; from here on the order's saves are immediate."""
    pending = order.__dict__.pop(PENDING_PROMISE, ())
    if pending:  # no step started (cannot happen in ComplaintFlow: every route starts one), the promise alone
        OrderStage.objects.bulk_create(list(pending))
    fields = {*order.__dict__.pop(DEFERRED_FIELDS, ()), *also}
    if fields:
        order.save(update_fields=sorted(fields))


# --- the customer's promise ---


def promise_start(*, order, cause: str = PromiseCause.RECEIPT, at: datetime | None = None) -> OrderStage:
    """Promise the customer a reply time: at receipt (from the received time), or anew when the order is reopened
    after the callback (the earlier promise ends, judged by its own clock, and is kept)."""
    at = at or timezone.now()
    receipt = cause == PromiseCause.RECEIPT
    if not receipt:
        stages_end(order=order, kinds=(Stage.PROMISE,), at=at, nearest=False)
    promise = _new_stage(order=order, kind=Stage.PROMISE, at=at, cause=cause)
    order.promised_at = promise.due_at
    if receipt and DEFERRED_FIELDS in order.__dict__:  # written with the first step's stages (stages_start)
        order.__dict__[PENDING_PROMISE] = [promise]
        order_save(order, ["promised_at"])
        return promise
    promise.save()
    order_save(order, ["promised_at"])
    return promise


def promise_end(*, order, at: datetime | None = None) -> int:
    """The customer has the reply: the promise ends, in time or late (its time waiting for the customer aside)."""
    return stages_end(order=order, kinds=(Stage.PROMISE,), at=at, nearest=False)


def open_promise(*, order) -> OrderStage | None:
    return open_stage(order=order, kind=Stage.PROMISE)


def _promise_extend(*, order, until: datetime) -> None:
    """An approved extension past the promise moves it there (the original stays on the row, `original_due_at`)."""
    promise = open_promise(order=order)
    if promise is None or promise.due_at >= until:
        return
    _move_deadline(promise, until)
    order.promised_at = until
    order.save(update_fields=["promised_at"])


# --- every stage ---


def stages_end(*, order, kinds=STEP_STAGES, at: datetime | None = None, nearest: bool = True,
               holder_id: int | None = None) -> int:
    """End the order's open stages (of these kinds: by default the steps' own, not the customer's promise) with
    their true outcome, whatever ends them (a reply, a transfer, a return, an assignment): late when the clock ran
    past the deadline. A stage ended while paused was judged when its clock stopped, and its pause ends with it.
    `holder_id`: the department of whoever ended them, recorded on a stage no department held yet (the centre's
    dispatch, review or direct answer), so every holding names who held the order. The nearest deadline follows."""
    at = at or timezone.now()
    open_stages = OrderStage.objects.filter(order=order, ended_at__isnull=True, kind__in=list(kinds))
    ids = list(open_stages.values_list("pk", flat=True))
    if not ids:
        return 0
    StagePause.objects.filter(stage_id__in=ids, ended_at__isnull=True).update(ended_at=at)
    held = {"department": Coalesce(F("department"), Value(holder_id),
                                        output_field=IntegerField())} if holder_id is not None else {}
    ended = OrderStage.objects.filter(pk__in=ids).update(ended_at=at, outcome=stage_outcome_at(at), **held)
    if nearest:
        _nearest_into_order(order)
    return ended


def stage_outcome_at(at: datetime) -> Case:
    """The outcome of a stage ending at `at`, as an SQL expression: the clock stopped at `at`, or earlier when
    the stage is paused (the time paused does not count, as when the order resumes)."""
    clock_stopped = Coalesce("paused_at", Value(at, output_field=DateTimeField()))
    return Case(When(due_at__lt=clock_stopped, then=Value(StageOutcome.LATE)), default=Value(StageOutcome.IN_TIME),
                output_field=CharField())


def stage_misrouted(*, stage: OrderStage) -> None:
    """A department returned the order as not its own: a holding that ended within its own limit ends as misrouted
    (the time it held the order is not its lateness), and the routing that sent the order there, the holding just
    before (a dispatch, or another department's transfer), is judged late instead. A department that sat on the
    order past its own deadline stays late: saying "not ours" afterwards does not take its lateness away."""
    if not OrderStage.objects.filter(pk=stage.pk, outcome=StageOutcome.IN_TIME).update(
            outcome=StageOutcome.MISROUTED):
        return
    router = (OrderStage.objects.filter(order_id=stage.order_id, kind__in=HOLDING_STAGES, ended_at__lte=stage.started_at)
              .exclude(pk=stage.pk).order_by("-ended_at", "-id").first())
    # (after a reply sent back at review, the holding before was the centre's review: nobody routed it wrongly)
    routed = router is not None and router.kind in (Stage.DISPATCH, Stage.HANDLE)
    if routed and router.department_id != stage.department_id:
        OrderStage.objects.filter(pk=router.pk).update(outcome=StageOutcome.LATE)


def working_seconds_used(stage: OrderStage, *, now: datetime) -> int:
    """The working time (on the stage's calendar) its clock has run: from its start to its end, or to `now` while
    open, less its pauses. Read with the stage's pauses prefetched."""
    calendar, _id = work_calendar(stage.calendar_id)
    end = stage.ended_at or now
    used = calendar.working_seconds_between(stage.started_at, end)
    for pause in stage.pauses.all():
        start, stop = max(pause.started_at, stage.started_at), min(pause.ended_at or end, end)
        if stop > start:
            used -= calendar.working_seconds_between(start, stop)
    return max(0, round(used))


def stages_pause(*, order, reason: str, at: datetime | None = None) -> None:
    """Stop the running clocks: the steps' always, the customer's promise only for a wait the customer causes."""
    at = at or timezone.now()
    running = OrderStage.objects.filter(order=order, ended_at__isnull=True, paused_at__isnull=True)
    if reason not in CUSTOMER_PAUSES:
        running = running.exclude(kind=Stage.PROMISE)
    for stage in running:
        stage.paused_at = at
        stage.save(update_fields=["paused_at"])
        StagePause.objects.create(stage=stage, started_at=at, reason=reason)
    _nearest_into_order(order)


def stages_resume(*, order, at: datetime | None = None) -> None:
    """The clock runs again: deadlines and warning points move on by the time paused, in each limit's own kind
    of time; a warning not yet reached is watched again."""
    at = at or timezone.now()
    for stage in OrderStage.objects.filter(order=order, ended_at__isnull=True, paused_at__isnull=False):
        calendar, _id = work_calendar(stage.calendar_id)
        stage.due_at = calendar.shift(stage.due_at, stage.paused_at, at, stage.limit_unit)
        stage.warn_at = min(calendar.shift(stage.warn_at, stage.paused_at, at, stage.limit_unit), stage.due_at)
        StagePause.objects.filter(stage=stage, ended_at__isnull=True).update(ended_at=at)
        stage.paused_at = None
        stage.save(update_fields=["due_at", "warn_at", "paused_at"])
        if stage.kind == Stage.PROMISE:
            order.promised_at = stage.due_at
    _nearest_into_order(order)


def stage_extend(*, stage: OrderStage, until: datetime) -> None:
    """Approve an extension: the deadline moves, the warning point follows (same share of the longer span), the
    original deadline is kept. A deadline that moves into the future is watched again. The customer is promised
    the new time when it lies past the promise."""
    _move_deadline(stage, until)
    _promise_extend(order=stage.order, until=until)
    _nearest_into_order(stage.order)


def _move_deadline(stage: OrderStage, until: datetime) -> None:
    calendar, _id = work_calendar(stage.calendar_id)
    percent = stage.policy.warn_percent if stage.policy_id else BUILT_IN_WARN_PERCENT
    if stage.policy_id:
        limit = next((x for x in stage.policy.limits.all() if x.stage == stage.kind), None)
        percent = (limit.warn_percent if limit and limit.warn_percent else percent)
    stage.due_at = until
    stage.warn_at = calendar.point_between(stage.started_at, until, stage.limit_unit, percent)
    stage.extended = True
    now = timezone.now()
    if stage.warn_at > now:
        stage.warned_at = None
    if stage.due_at > now:
        stage.overdue_at = None
        stage.next_escalation_at = None
    stage.save(update_fields=["due_at", "warn_at", "extended", "warned_at", "overdue_at", "next_escalation_at"])


def _nearest_into_order(order, *, new=()) -> None:
    """Copy the nearest deadline of the open, running steps' stages onto the order (for lists and colours); the
    customer's promise is its own column. An order being received has no stages but the `new` ones: no query."""
    if DEFERRED_FIELDS in order.__dict__:
        running = [stage for stage in new if stage.paused_at is None and stage.kind in STEP_STAGES]
        nearest = {"due": min((s.due_at for s in running), default=None),
                   "warn": min((s.warn_at for s in running), default=None)}
    else:
        nearest = OrderStage.objects.filter(order=order, ended_at__isnull=True, paused_at__isnull=True,
                                            kind__in=STEP_STAGES).aggregate(due=Min("due_at"), warn=Min("warn_at"))
    order.stage_due_at = nearest["due"]
    order.stage_warn_at = nearest["warn"]
    order_save(order, ["stage_due_at", "stage_warn_at", "promised_at"])


def open_stage(*, order, kind: str) -> OrderStage | None:
    return OrderStage.objects.filter(order=order, kind=kind, ended_at__isnull=True).order_by("-started_at").first()
