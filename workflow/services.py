"""Every state change of a work order after intake: one function per transition, used alike by the browser,
the API, the admin and Celery. Each one validates its input, locks the order's process row, checks that the
order's current step allows the action (else ActionNotPossible, HTTP 409) and that the actor may take it (else
PermissionDenied, HTTP 403), moves the viewflow process on, writes the audit record and queues notifications,
all in one transaction.

The checks are the action table ORDER_ACTIONS, run by core.transitions; the same table answers "which actions may
this user take now" for the order page and the API (core.transitions.available_actions).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.workflow.status import STATUS

from complaints.models import (
    CallbackMethod,
    Kind,
    OrderStatus,
    QueueLevel,
    RatingVerdict,
    ReplyMethod,
    ResultCode,
    WorkOrder,
)
from complaints.selectors import CATALOGUE_MEMO_SECONDS, orders_visible_to
from core.logs import bind as bind_log_context
from core.memo import cached_for
from core.permissions import has_role, is_dispatcher, is_lead_of, is_member_of, is_staff_of
from core.transitions import ActionSpec, Rule, TransitionConflict, Transitions, available_actions
from org import roles
from org.models import Department, Region, User
from workflow import notifications, sla
from workflow.audit import event_record
from workflow.escalation import MAX_ESCALATION_LEVEL, escalation_step
from workflow.flows import ComplaintFlow
from workflow.hooks import order_answered, order_promise_moved, order_rated, order_reopened
from workflow.models import (
    ExtensionRequest,
    Notification,
    OrderEvent,
    OrderProcess,
    OrderStage,
    OrderTask,
    PromiseCause,
    Stage,
    WorkflowPolicy,
)
from workflow.notes import order_note_add, order_note_allowed

OPEN_TASK_STATUSES = (STATUS.NEW, STATUS.ASSIGNED)


class ActionNotPossible(TransitionConflict):
    """The order's current step does not allow the action (HTTP 409); says where the order stands."""

    def __init__(self, order: WorkOrder, message: str):
        super().__init__(order, message)
        self.order = order


class ReturnReason:
    WRONG_DEPARTMENT = "wrong_department"
    INFORMATION_MISSING = "information_missing"
    OTHER = "other"
    choices = [
        (WRONG_DEPARTMENT, gettext_lazy("Wrong department")),
        (INFORMATION_MISSING, gettext_lazy("Information missing")),
        (OTHER, gettext_lazy("Other")),
    ]


class CancelReason:
    DUPLICATE = "duplicate"
    WITHDRAWN = "withdrawn"
    OTHER = "other"
    choices = [
        (DUPLICATE, gettext_lazy("Duplicate of another order")),
        (WITHDRAWN, gettext_lazy("Customer withdrew the complaint")),
        (OTHER, gettext_lazy("Other")),
    ]


class EscalationReason:
    REGULATOR = "regulator"
    MEDIA = "media"
    LEAD = "lead"
    OVERDUE = "overdue"
    OTHER = "other"
    choices = [
        (REGULATOR, gettext_lazy("Customer threatens to go to the regulator")),
        (MEDIA, gettext_lazy("Customer threatens to go to the media")),
        (LEAD, gettext_lazy("Raised by a lead")),
        (OVERDUE, gettext_lazy("Overdue")),
        (OTHER, gettext_lazy("Other")),
    ]


def _values(choices) -> set[str]:
    return {value for value, _label in choices}


@dataclass
class OrderContext:
    order: WorkOrder
    process: OrderProcess | None
    task: OrderTask | None

    @property
    def stage(self) -> str | None:
        return self.task.flow_task.name if self.task is not None else None

    @cached_property
    def handle_stage(self) -> OrderStage | None:
        """The running handle-to-reply stage (the one an extension is asked for)."""
        if self.stage != "handle":
            return None
        return sla.open_stage(order=self.order, kind=Stage.HANDLE)

    @cached_property
    def pending_extension(self) -> ExtensionRequest | None:
        return (ExtensionRequest.objects.filter(order=self.order, status=ExtensionRequest.Status.PENDING)
                .select_related("stage").first())


# --- who is who ---------------------------------------------------------------------------------------------


def _pk(department) -> int | None:
    return department.pk if department is not None else None


def _is_owner(user, ctx: OrderContext) -> bool:
    return ctx.task is not None and ctx.task.owner_id is not None and ctx.task.owner_id == user.pk


def _dept_name(department) -> str:
    return department.name if department is not None else "—"


# --- the actions: state first (409), then the actor (403) --------------------------------------------------


def _not_now(ctx: OrderContext, action: str) -> ActionNotPossible:
    return ActionNotPossible(
        ctx.order,
        _("Order %(number)s is “%(status)s”: %(action)s is not possible now.")
        % {"number": ctx.order.number, "status": ctx.order.get_status_display(), "action": ORDERS.label(action)},
    )


def _dispatcher(refusal) -> Rule:
    return Rule(lambda user, ctx: is_dispatcher(user), lambda ctx: refusal())


def _may_note(user, ctx: OrderContext) -> bool:
    order_note_allowed(actor=user, order=ctx.order)  # refuses with its own message
    return True


def _extension_deadline_ahead(ctx: OrderContext) -> bool:
    return timezone.now() < ctx.handle_stage.warn_at


def _callback_by(user, ctx: OrderContext) -> bool:
    unit = ctx.order.current_department
    return is_dispatcher(user) or (is_member_of(user, _pk(unit)) and has_role(user, roles.FRONTLINE_AGENT))


CLAIMED = Rule(lambda ctx: ctx.task.owner_id is not None,
               lambda ctx: _("Order %(number)s has not been claimed by anyone.") % {"number": ctx.order.number})
UNCLAIMED = Rule(lambda ctx: ctx.task.owner_id is None,
                 lambda ctx: _("Order %(number)s was already claimed by %(owner)s.")
                 % {"number": ctx.order.number, "owner": ctx.task.owner})
HANDLER = Rule(lambda user, ctx: is_staff_of(user, ctx.order.current_department_id),
               lambda ctx: _("Only handlers of %(department)s may claim this order.")
               % {"department": _dept_name(ctx.order.current_department)})
LEAD_QUEUE = Rule(lambda user, ctx: ctx.order.queue_level != QueueLevel.LEAD
                  or is_lead_of(user, ctx.order.current_department_id),
                  lambda ctx: _("This order waits in the lead's queue of %(department)s: the lead claims it or "
                                "assigns it.") % {"department": _dept_name(ctx.order.current_department)})
OWNER_OR_LEAD = Rule(lambda user, ctx: _is_owner(user, ctx) or is_lead_of(user, ctx.order.current_department_id),
                     lambda ctx: _("Only the handler who holds the order or the lead of %(department)s may do "
                                   "this.") % {"department": _dept_name(ctx.order.current_department)})
LEAD = Rule(lambda user, ctx: is_lead_of(user, ctx.order.current_department_id),
            lambda ctx: _("Only the lead of %(department)s may assign this order.")
            % {"department": _dept_name(ctx.order.current_department)})
OWNER = Rule(_is_owner, lambda ctx: _("Only the handler who holds the order may park it."))
IN_PROGRESS = Rule(lambda ctx: ctx.order.status == OrderStatus.IN_PROGRESS)
IS_WAITING = Rule(lambda ctx: ctx.order.status == OrderStatus.WAITING)
IS_OPEN = Rule(lambda ctx: ctx.order.is_open)
# A reply in the department needs a holder; an inquiry is answered by the complaint centre.
REPLY_CLAIMED = Rule(lambda ctx: ctx.stage != "handle" or ctx.task.owner_id is not None,
                     lambda ctx: _("Order %(number)s must be claimed before it can be replied to.")
                     % {"number": ctx.order.number})
REPLIER = Rule(lambda user, ctx: is_dispatcher(user) if ctx.stage == "answer" else _is_owner(user, ctx),
               lambda ctx: _("Inquiries are answered by dispatchers of the complaint centre.") if ctx.stage == "answer"
               else _("Only %(owner)s, who holds the order, may reply to it.") % {"owner": ctx.task.owner})
CALLBACK_AGENT = Rule(_callback_by,
                      lambda ctx: _("The callback is made by agents of %(unit)s, the first responder's unit.")
                      % {"unit": _dept_name(ctx.order.current_department)})
BELOW_TOP_LEVEL = Rule(lambda ctx: ctx.order.escalation_level < MAX_ESCALATION_LEVEL,
                       lambda ctx: _("Order %(number)s is already at the highest escalation level.")
                       % {"number": ctx.order.number})
ESCALATOR = Rule(lambda user, ctx: is_dispatcher(user) or has_role(user, roles.FRONTLINE_AGENT, roles.LEAD)
                 or _is_owner(user, ctx),
                 lambda ctx: _("Orders are escalated by frontline agents, dispatchers, leads or the handler who "
                               "holds them."))
HANDLE_STAGE_RUNNING = Rule(lambda ctx: ctx.handle_stage is not None)
NO_PENDING_EXTENSION = Rule(lambda ctx: ctx.pending_extension is None,
                            lambda ctx: _("An extension request for order %(number)s is already waiting for the "
                                          "complaint centre.") % {"number": ctx.order.number})
BEFORE_WARNING = Rule(_extension_deadline_ahead,
                      lambda ctx: _("An extension must be asked for before the warning point (%(at)s); it has "
                                    "passed.") % {"at": f"{timezone.localtime(ctx.handle_stage.warn_at):%Y-%m-%d %H:%M}"})
EXTENSION_ASKER = Rule(OWNER_OR_LEAD.test,
                       lambda ctx: _("Only the handler who holds the order or the lead of %(department)s may ask "
                                     "for an extension.") % {"department": _dept_name(ctx.order.current_department)})
EXTENSION_PENDING = Rule(lambda ctx: ctx.pending_extension is not None and ctx.order.is_open)
# Joining an incident: a complaint still waiting at dispatch or in a department queue (or being handled).
INCIDENT_JOINABLE = Rule(lambda ctx: ctx.order.kind == Kind.COMPLAINT
                         and ctx.order.status in (OrderStatus.NEW, OrderStatus.QUEUED, OrderStatus.IN_PROGRESS))
INCIDENT_ATTACHER = Rule(lambda user, ctx: is_dispatcher(user) or has_role(user, roles.FRONTLINE_AGENT)
                         or is_lead_of(user, ctx.order.current_department_id),
                         lambda ctx: _("Orders are attached to incidents by the complaint centre, frontline agents "
                                       "and the department's lead."))
IN_INCIDENT = Rule(lambda ctx: ctx.order.status == OrderStatus.IN_INCIDENT)
INCIDENT_STEPS = ("dispatch", "handle")

ORDER_ACTIONS = {
    "dispatch": ActionSpec(gettext_lazy("dispatch"), steps=("dispatch",), actor=(_dispatcher(
        lambda: _("Only dispatchers of the complaint centre may dispatch orders.")),)),
    "claim": ActionSpec(gettext_lazy("claim"), steps=("handle",), state=(UNCLAIMED,), actor=(HANDLER, LEAD_QUEUE)),
    "release": ActionSpec(gettext_lazy("release"), steps=("handle",), state=(CLAIMED,), actor=(OWNER_OR_LEAD,)),
    "assign": ActionSpec(gettext_lazy("assign"), steps=("handle",), actor=(LEAD,)),
    "transfer": ActionSpec(gettext_lazy("transfer"), steps=("handle",), actor=(OWNER_OR_LEAD,)),
    "return": ActionSpec(gettext_lazy("return"), steps=("handle",), actor=(OWNER_OR_LEAD,)),
    "wait": ActionSpec(gettext_lazy("wait for the customer"), steps=("handle",), state=(IN_PROGRESS,),
                       actor=(OWNER,)),
    "resume": ActionSpec(gettext_lazy("resume"), state=(IS_WAITING,), actor=(OWNER_OR_LEAD,), by_system=True),
    "note": ActionSpec(gettext_lazy("note"), actor=(Rule(_may_note),)),
    "reply": ActionSpec(gettext_lazy("reply"), steps=("handle", "answer"), state=(REPLY_CLAIMED,),
                        actor=(REPLIER,)),
    "review": ActionSpec(gettext_lazy("review"), steps=("review",), actor=(_dispatcher(
        lambda: _("Replies are reviewed by dispatchers of the complaint centre.")),)),
    # by the system: the customer's rating by SMS (sms/), recorded without an agent
    "callback": ActionSpec(gettext_lazy("callback"), steps=("callback",), actor=(CALLBACK_AGENT,), by_system=True),
    "reopen": ActionSpec(gettext_lazy("reopen"), steps=("callback",), actor=(CALLBACK_AGENT,)),
    "cancel": ActionSpec(gettext_lazy("cancel"), state=(IS_OPEN,), actor=(_dispatcher(
        lambda: _("Only dispatchers of the complaint centre may cancel orders.")),)),
    "escalate": ActionSpec(gettext_lazy("escalate"), state=(IS_OPEN, BELOW_TOP_LEVEL), actor=(ESCALATOR,),
                           by_system=True),
    "extend": ActionSpec(gettext_lazy("ask for an extension"), steps=("handle",),
                         state=(HANDLE_STAGE_RUNNING, NO_PENDING_EXTENSION, BEFORE_WARNING),
                         actor=(EXTENSION_ASKER,)),
    "decide_extension": ActionSpec(gettext_lazy("decide on the extension"), state=(EXTENSION_PENDING,),
                                   actor=(_dispatcher(lambda: _("Extensions are approved or refused by dispatchers "
                                                                "of the complaint centre.")),)),
    "attach": ActionSpec(gettext_lazy("attach to an incident"), steps=INCIDENT_STEPS, state=(INCIDENT_JOINABLE,),
                         actor=(INCIDENT_ATTACHER,), by_system=True),
    "detach": ActionSpec(gettext_lazy("detach from the incident"), state=(IN_INCIDENT,), actor=(_dispatcher(
        lambda: _("Only dispatchers of the complaint centre may detach orders from incidents.")),)),
}
# The actions the browser and the API take by name (attach and detach have their own page and task).
ACTIONS = tuple(action for action in ORDER_ACTIONS if action not in ("attach", "detach"))


# --- reading and locking ----------------------------------------------------------------------------------


def _open_task(process: OrderProcess | None) -> OrderTask | None:
    if process is None:
        return None
    task = (
        OrderTask.objects.filter(process=process, status__in=OPEN_TASK_STATUSES)
        .select_related("owner")
        .order_by("-id")
        .first()
    )
    if task is not None:
        task.process = process
    return task


def order_context(*, order: WorkOrder, stages: list[OrderStage] | None = None) -> OrderContext:
    """The order with its process and open task, read without locks (for pages and the action list). `stages`: all
    the order's stages, read already (the order page): the running handle stage is taken from them."""
    # An open order (the one people work on) is read with its process in one statement; a closed one has no open
    # task, and its process is read alone.
    task = (OrderTask.objects.filter(process__order_id=order.pk, status__in=OPEN_TASK_STATUSES)
            .select_related("process", "owner").order_by("-id").first())
    process = task.process if task is not None else OrderProcess.objects.filter(order_id=order.pk).first()
    if process is not None:
        process.order = order
    ctx = OrderContext(order=order, process=process, task=task)
    if stages is not None and ctx.stage == "handle":
        running = [stage for stage in stages if stage.kind == Stage.HANDLE and stage.ended_at is None]
        ctx.__dict__["handle_stage"] = max(running, key=lambda stage: (stage.started_at, stage.pk), default=None)
    return ctx


def order_actions_available(*, user, order: WorkOrder, ctx: OrderContext | None = None) -> list[str]:
    """The actions by name this user may take on the order now (the API's list), by the table the transitions
    are checked against."""
    return [action for action in available_actions(user, order, ctx=ctx) if action in ACTIONS]


@contextmanager
def _order_locked(*, actor, obj: WorkOrder) -> Iterator[OrderContext]:
    """Lock the process row (viewflow's lock), then the order row; yield the fresh state."""
    order = obj
    bind_log_context(order=order.number)
    with transaction.atomic():
        if actor is not None and not orders_visible_to(actor).filter(pk=order.pk).exists():
            raise PermissionDenied(_("You may not act on order %(number)s.") % {"number": order.number})
        process_pk = OrderProcess.objects.filter(order_id=order.pk).values_list("pk", flat=True).first()
        if process_pk is None:
            locked = WorkOrder.objects.select_for_update(no_key=True, of=("self",)).get(pk=order.pk)
            yield OrderContext(order=locked, process=None, task=None)
            return
        with ComplaintFlow.lock(process_pk):
            locked = (
                WorkOrder.objects.select_for_update(no_key=True, of=("self",))
                .select_related("customer", "category", "current_department", "replied_department",
                                "replied_by", "first_responder_department__callback_department")
                .get(pk=order.pk)
            )
            process = OrderProcess.objects.get(pk=process_pk)
            process.order = locked
            yield OrderContext(order=locked, process=process, task=_open_task(process))


def _complete_task(ctx: OrderContext, actor, outcome: str, **data) -> None:
    """Finish the open human task with an outcome; the flow routes on it and creates the next task."""
    task = ctx.task
    # the task's timed stages end with it (actor None: the system, e.g. an SMS survey answered by the customer)
    sla.stages_end(order=ctx.order, holder_id=actor.department_id if actor is not None else None)
    activation = task.flow_task.activation_class(task)
    ctx.process.outcome = outcome
    task.data = {**task.data, "outcome": outcome, **data}
    if task.status == STATUS.NEW:
        activation.assign(actor)
    activation.start(None)
    activation.execute()
    ctx.task = None


def _record(ctx: OrderContext, *, actor, action, before: str, comment: str = "", **data) -> OrderEvent:
    return event_record(order=ctx.order, actor=actor, action=action, from_status=before,
                        to_status=ctx.order.status, comment=comment, data=data)


ORDERS = Transitions(
    model=WorkOrder, actions=ORDER_ACTIONS, read=lambda order: order_context(order=order), lock=_order_locked,
    step_of=lambda ctx: ctx.stage, not_now=_not_now,
    conflict=lambda ctx, message: ActionNotPossible(ctx.order, message),
    audit=lambda ctx, *, actor, action, before, comment, **data: _record(
        ctx, actor=actor, action=action, before=before, comment=comment, **data),
    status_of=lambda ctx: ctx.order.status,
)


def _text(value: str, field: str, *, required: bool = True, message: str | None = None) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: [message or _("This field is required.")]})
    return value


def _target_department(department, field: str, *, current=None) -> Department:
    if department is None or not isinstance(department, Department):
        raise ValidationError({field: [_("Choose a department.")]})
    if not department.is_active or department.kind != Department.Kind.BACK_OFFICE:
        raise ValidationError({field: [_("%(department)s is not an active back-office department.")
                                       % {"department": department.name}]})
    if current is not None and department.pk == current.pk:
        raise ValidationError({field: [_("The order is already with %(department)s.") % {"department": department.name}]})
    return department


def _choice(value: str, choices, field: str) -> str:
    if value not in _values(choices):
        raise ValidationError({field: [_("Choose one of: %(values)s.") % {"values": ", ".join(sorted(_values(choices)))}]})
    return value


def _maybe_notify_owner(ctx: OrderContext, actor, kind: str, comment: str = "") -> None:
    owner = ctx.order.current_owner
    if owner is not None and (actor is None or owner.pk != actor.pk):
        notifications.notify(recipients=[owner], order=ctx.order, kind=kind, actor=actor, comment=comment)


# --- the transitions ---------------------------------------------------------------------------------------


def order_dispatch(*, actor, order: WorkOrder, department: Department, comment: str = "") -> WorkOrder:
    """派单: a dispatcher sends the order to a back-office department."""
    _target_department(department, "department")
    with ORDERS.transition("dispatch", actor=actor, obj=order) as step:
        ctx = step.ctx
        before = ctx.order.status
        ctx.order.current_department = department
        _complete_task(ctx, actor, "dispatch", department=department.pk)
        _record(ctx, actor=actor, action=OrderEvent.Action.DISPATCHED, before=before, comment=comment.strip(),
                department=department.name, queue=ctx.order.queue_level)
        _maybe_notify_owner(ctx, actor, Notification.Kind.ASSIGNED, comment)
        order_arrival_announce(order=ctx.order, actor=actor, comment=comment.strip())
        return ctx.order


def order_claim(*, actor, order: WorkOrder) -> WorkOrder:
    """签单: the first handler to claim the order from the department queue holds it."""
    with ORDERS.transition("claim", actor=actor, obj=order) as step:
        ctx = step.ctx
        before = ctx.order.status
        activation = ctx.task.flow_task.activation_class(ctx.task)
        activation.assign(actor)
        _hold(ctx, actor)
        sla.stages_end(order=ctx.order, kinds=[Stage.CLAIM])
        _record(ctx, actor=actor, action=OrderEvent.Action.CLAIMED, before=before,
                department=_dept_name(ctx.order.current_department))
        return ctx.order


def _hold(ctx: OrderContext, owner) -> None:
    ctx.order.current_owner = owner
    ctx.order.status = OrderStatus.IN_PROGRESS if owner is not None else OrderStatus.QUEUED
    ctx.order.stage_started_at = timezone.now()
    ctx.order.waiting_until = None
    ctx.order.save(update_fields=["current_owner", "status", "stage_started_at", "waiting_until"])


def order_release(*, actor, order: WorkOrder, comment: str = "") -> WorkOrder:
    """The holder gives the order back to the department queue."""
    with ORDERS.transition("release", actor=actor, obj=order) as step:
        ctx = step.ctx
        before, previous_owner = ctx.order.status, ctx.task.owner
        ctx.task.flow_task.activation_class(ctx.task).unassign()
        _hold(ctx, None)
        sla.stage_start(order=ctx.order, kind=Stage.CLAIM, department=ctx.order.current_department)
        _record(ctx, actor=actor, action=OrderEvent.Action.RELEASED, before=before, comment=comment.strip(),
                previous_owner=str(previous_owner))
        order_arrival_announce(order=ctx.order, actor=actor, comment=comment.strip())
        return ctx.order


def order_assign(*, actor, order: WorkOrder, assignee: User, comment: str = "") -> WorkOrder:
    """A lead gives the order to a named handler of the department."""
    if not isinstance(assignee, User):
        raise ValidationError({"assignee": [_("Choose a handler.")]})
    with ORDERS.transition("assign", actor=actor, obj=order) as step:
        ctx = step.ctx
        department = ctx.order.current_department
        if not (assignee.is_active and is_staff_of(assignee, _pk(department))):
            raise ValidationError({"assignee": [_("%(user)s is not an active handler of %(department)s.")
                                                % {"user": assignee, "department": _dept_name(department)}]})
        if ctx.task.owner_id == assignee.pk:
            raise ValidationError({"assignee": [_("%(user)s already holds the order.") % {"user": assignee}]})
        before = ctx.order.status
        activation = ctx.task.flow_task.activation_class(ctx.task)
        if ctx.task.owner_id is None:
            activation.assign(assignee)
        else:
            activation.reassign(assignee)
        _hold(ctx, assignee)
        sla.stages_end(order=ctx.order, kinds=[Stage.CLAIM])
        _record(ctx, actor=actor, action=OrderEvent.Action.ASSIGNED, before=before, comment=comment.strip(),
                assignee=str(assignee), assignee_id=assignee.pk)
        _maybe_notify_owner(ctx, actor, Notification.Kind.ASSIGNED, comment)
        return ctx.order


def order_transfer(*, actor, order: WorkOrder, department: Department, reason: str) -> WorkOrder:
    """转派: to another department, with a reason; it joins that department's queue."""
    reason = _text(reason, "reason", message=_("Say why the order is transferred."))
    with ORDERS.transition("transfer", actor=actor, obj=order) as step:
        ctx = step.ctx
        _target_department(department, "department", current=ctx.order.current_department)
        before, source = ctx.order.status, ctx.order.current_department
        ctx.order.current_department = department
        ctx.order.transfer_count += 1
        ctx.order.save(update_fields=["transfer_count"])
        handling = sla.open_stage(order=ctx.order, kind=Stage.HANDLE)
        _complete_task(ctx, actor, "transfer", department=department.pk)
        _record(ctx, actor=actor, action=OrderEvent.Action.TRANSFERRED, before=before, comment=reason,
                from_department=_dept_name(source), department=department.name,
                **_outcome_of(handling))
        order_arrival_announce(order=ctx.order, actor=actor, comment=reason)
        return ctx.order


def _outcome_of(stage: OrderStage | None) -> dict:
    """For the audit record of a step that passes the order on: how the department's handling stage ended."""
    if stage is None:
        return {}
    stage.refresh_from_db(fields=["outcome"])
    return {"stage_outcome": stage.outcome}


def order_return(*, actor, order: WorkOrder, reason_kind: str, reason: str) -> WorkOrder:
    """退单: back to the dispatcher (wrong department, information missing), with a reason."""
    _choice(reason_kind, ReturnReason.choices, "reason_kind")
    reason = _text(reason, "reason", message=_("Say why the order is returned."))
    with ORDERS.transition("return", actor=actor, obj=order) as step:
        ctx = step.ctx
        before, source = ctx.order.status, ctx.order.current_department
        dispatcher = (
            ctx.order.events.filter(action=OrderEvent.Action.DISPATCHED, actor__isnull=False)
            .select_related("actor").order_by("-created_at", "-id").first()
        )
        ctx.order.return_count += 1
        ctx.order.save(update_fields=["return_count"])
        handling = sla.open_stage(order=ctx.order, kind=Stage.HANDLE)
        _complete_task(ctx, actor, "return", reason_kind=reason_kind)
        if handling is not None and reason_kind == ReturnReason.WRONG_DEPARTMENT:
            sla.stage_misrouted(stage=handling)  # the routing was late, not this department
        _record(ctx, actor=actor, action=OrderEvent.Action.RETURNED, before=before, comment=reason,
                reason_kind=reason_kind, from_department=_dept_name(source), **_outcome_of(handling))
        told = []
        if dispatcher is not None and dispatcher.actor.is_active:
            notifications.notify(recipients=[dispatcher.actor], order=ctx.order, kind=Notification.Kind.RETURNED,
                                 actor=actor, comment=reason)
            told.append(dispatcher.actor)
        order_arrival_announce(order=ctx.order, actor=actor, comment=reason, told=told)
        return ctx.order


def order_wait(*, actor, order: WorkOrder, until: datetime, comment: str) -> WorkOrder:
    """Park the order until the customer answers or the set time passes."""
    comment = _text(comment, "comment", message=_("Say what the customer has been asked for."))
    if not isinstance(until, datetime):
        raise ValidationError({"until": [_("Give the time until which to wait.")]})
    now = timezone.now()
    # the rules the order was received under
    longest = timedelta(days=WorkflowPolicy.in_force(on=timezone.localdate(order.received_at)).max_wait_days)
    if until <= now:
        raise ValidationError({"until": [_("The waiting time must lie in the future.")]})
    if until > now + longest:
        raise ValidationError({"until": [_("At most %(days)s days of waiting.") % {"days": longest.days}]})
    with ORDERS.transition("wait", actor=actor, obj=order) as step:
        ctx = step.ctx
        before = ctx.order.status
        ctx.order.status = OrderStatus.WAITING
        ctx.order.waiting_until = until
        ctx.order.save(update_fields=["status", "waiting_until"])
        sla.stages_pause(order=ctx.order, reason="waiting_for_customer")
        _record(ctx, actor=actor, action=OrderEvent.Action.WAITING, before=before, comment=comment,
                until=until.isoformat())
        return ctx.order


def order_resume(*, actor, order: WorkOrder, comment: str = "") -> WorkOrder:
    """The customer answered (or the waiting time passed, with actor None): back to handling."""
    with ORDERS.transition("resume", actor=actor, obj=order) as step:
        ctx = step.ctx
        before = ctx.order.status
        ctx.order.status = OrderStatus.IN_PROGRESS
        ctx.order.waiting_until = None
        ctx.order.save(update_fields=["status", "waiting_until"])
        sla.stages_resume(order=ctx.order)
        _record(ctx, actor=actor, action=OrderEvent.Action.RESUMED, before=before,
                comment=comment.strip() or ("" if actor else _("The waiting time has passed.")))
        return ctx.order


def orders_resume_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Resume parked orders whose waiting time has passed. Idempotent: a resumed order is no longer waiting."""
    now = now or timezone.now()
    due = list(
        WorkOrder.objects.filter(status=OrderStatus.WAITING, waiting_until__lte=now)
        .order_by("waiting_until").values_list("pk", flat=True)[:limit]
    )
    resumed = 0
    for pk in due:
        order = WorkOrder.objects.get(pk=pk)
        try:
            order_resume(actor=None, order=order)
        except ActionNotPossible:
            continue  # resumed by hand in the meantime
        resumed += 1
    return resumed


def order_reply(*, actor, order: WorkOrder, answer: str, result_code: str,
                compensation: Decimal | None = None, reply_method: str = ReplyMethod.PHONE) -> WorkOrder:
    """回复: the department's answer, result and compensation, and how the customer was given it (答复方式); on to
    review or callback."""
    answer = _text(answer, "answer", message=_("Write the answer to the customer."))
    _choice(result_code, ResultCode.choices, "result_code")
    _choice(reply_method, ReplyMethod.choices, "reply_method")
    if compensation is not None and compensation < 0:
        raise ValidationError({"compensation": [_("Compensation cannot be negative.")]})
    with ORDERS.transition("reply", actor=actor, obj=order) as step:
        ctx = step.ctx
        before, stage = ctx.order.status, ctx.stage
        now = timezone.now()
        ctx.order.answer = answer
        ctx.order.result_code = result_code
        ctx.order.compensation_amount = compensation
        ctx.order.reply_method = reply_method
        ctx.order.replied_at = now
        ctx.order.replied_by = actor
        ctx.order.replied_department = actor.department if stage == "answer" else ctx.order.current_department
        ctx.order.save(update_fields=["answer", "result_code", "compensation_amount", "replied_at", "replied_by",
                                      "replied_department", "reply_method"])
        sla.promise_end(order=ctx.order, at=now)  # the customer has the answer
        _complete_task(ctx, actor, "reply", result_code=result_code)
        _record(ctx, actor=actor, action=OrderEvent.Action.REPLIED, before=before, comment=answer,
                result_code=result_code, compensation=str(compensation) if compensation is not None else None,
                department=_dept_name(ctx.order.replied_department), reply_method=reply_method)
        _record_close(ctx, actor)
        if ctx.order.status != OrderStatus.REVIEW:  # no review: the answer goes to the customer now
            order_answered.announce(order=ctx.order)
        return ctx.order


def _record_close(ctx: OrderContext, actor) -> None:
    """The archive step of the flow closed the order: mark it in the timeline on its own line."""
    if ctx.order.status == OrderStatus.CLOSED:
        event_record(order=ctx.order, actor=actor, action=OrderEvent.Action.CLOSED, to_status=OrderStatus.CLOSED)


def order_review(*, actor, order: WorkOrder, accept: bool, reason: str = "") -> WorkOrder:
    """审核: the complaint centre accepts the reply (on to callback) or sends it back with a reason."""
    reason = _text(reason, "reason", required=not accept, message=_("Say why the reply is sent back."))
    with ORDERS.transition("review", actor=actor, obj=order) as step:
        ctx = step.ctx
        before = ctx.order.status
        if accept:
            _complete_task(ctx, actor, "accept")
            _record(ctx, actor=actor, action=OrderEvent.Action.REVIEW_ACCEPTED, before=before, comment=reason)
            order_answered.announce(order=ctx.order)
        else:
            ctx.order.current_department = ctx.order.replied_department
            _complete_task(ctx, actor, "send_back")
            _record(ctx, actor=actor, action=OrderEvent.Action.REVIEW_REJECTED, before=before, comment=reason,
                    department=_dept_name(ctx.order.current_department))
            _notify_department(ctx, actor, Notification.Kind.SENT_BACK, reason)
        return ctx.order


def _notify_department(ctx: OrderContext, actor, kind: str, comment: str) -> None:
    """The holder if there is one, otherwise the department's leads."""
    if ctx.order.current_owner is not None:
        recipients = [ctx.order.current_owner]
    else:
        recipients = list(User.objects.filter(department=ctx.order.current_department, is_active=True,
                                              groups__name=roles.LEAD))
    recipients = [r for r in recipients if actor is None or r.pk != actor.pk]
    notifications.notify(recipients=recipients, order=ctx.order, kind=kind, actor=actor, comment=comment)


def order_callback(*, actor, order: WorkOrder, reached: bool, satisfaction: int | None = None,
                   solved: bool | None = None, comment: str = "", method: str = CallbackMethod.PHONE) -> WorkOrder:
    """回访: the customer's verdict. Not reached: another attempt later, closed after the last. A dissatisfied
    rating (the workflow policy's, as of the order's receipt: 1–2 by default) or "not solved" reopens the order in
    the same department and opens a follow-up; a neutral 3 closes it like a satisfied 4–5. `method` SMS: the
    customer's digit in reply to the SMS survey (`actor` None), which does not ask whether the problem is solved."""
    comment = (comment or "").strip()
    _choice(method, CallbackMethod.choices, "method")
    if reached:
        errors = {}
        if not isinstance(satisfaction, int) or not 1 <= satisfaction <= 5:
            errors["satisfaction"] = [_("Give the customer's rating from 1 to 5.")]
        if solved is None and method == CallbackMethod.PHONE:
            errors["solved"] = [_("Say whether the problem is solved.")]
        if errors:
            raise ValidationError(errors)
    policy = WorkflowPolicy.in_force(on=timezone.localdate(order.received_at))  # the rules the order was received under
    with ORDERS.transition("callback", actor=actor, obj=order) as step:
        ctx = step.ctx
        before = ctx.order.status
        ctx.order.callback_attempts += 1
        ctx.order.callback_after = None  # whoever calls now, the SMS survey's hold is over
        ctx.order.save(update_fields=["callback_attempts", "callback_after"])
        if not reached:
            last = ctx.order.callback_attempts >= policy.callback_max_attempts
            if last:
                ctx.order.callback_at = timezone.now()
                ctx.order.save(update_fields=["callback_at"])
                _complete_task(ctx, actor, "unreached")
            _record(ctx, actor=actor, action=OrderEvent.Action.CALLBACK_UNREACHED, before=before, comment=comment,
                    attempt=ctx.order.callback_attempts, last_attempt=last)
            _record_close(ctx, actor)
            return ctx.order
        ctx.order.satisfaction = satisfaction
        ctx.order.problem_solved = solved
        ctx.order.callback_at = timezone.now()
        ctx.order.save(update_fields=["satisfaction", "problem_solved", "callback_at"])
        verdict = policy.rating_verdict(satisfaction)
        order_rated.announce(order=ctx.order, actor=actor, rating=satisfaction, verdict=verdict, solved=solved,
                             comment=comment, at=ctx.order.callback_at, method=method)
        low = verdict == RatingVerdict.DISSATISFIED
        if low or solved is False:
            _record(ctx, actor=actor, action=OrderEvent.Action.CALLED_BACK, before=before, comment=comment,
                    satisfaction=satisfaction, solved=solved, method=method)
            _reopen(ctx, actor, comment or _("Customer dissatisfied at callback (rating %(rating)s).")
                    % {"rating": satisfaction}, follow_up_reason="low_rating" if low else "reopened",
                    rating=satisfaction)
        else:
            _complete_task(ctx, actor, "close")
            _record(ctx, actor=actor, action=OrderEvent.Action.CALLED_BACK, before=before, comment=comment,
                    satisfaction=satisfaction, solved=solved, method=method)
            _record_close(ctx, actor)
        return ctx.order


def order_callback_hold(*, order: WorkOrder, until) -> bool:
    """An SMS survey waits for the customer's own answer: the order stays off the agents' callback list until
    `until` (None: on it now). Only an order still at callback; True when it was."""
    return WorkOrder.objects.filter(pk=order.pk, status=OrderStatus.CALLBACK).update(callback_after=until) == 1


def order_reopen(*, actor, order: WorkOrder, reason: str) -> WorkOrder:
    """At callback, the customer says the problem is not solved: back to the same department."""
    reason = _text(reason, "reason", message=_("Say why the order is reopened."))
    with ORDERS.transition("reopen", actor=actor, obj=order) as step:
        ctx = step.ctx
        _reopen(ctx, actor, reason)
        return ctx.order


def _reopen(ctx: OrderContext, actor, reason: str, *, follow_up_reason: str = "reopened",
            rating: int | None = None) -> None:
    before = ctx.order.status
    ctx.order.reopen_count += 1
    ctx.order.current_department = ctx.order.replied_department
    ctx.order.callback_after = None
    ctx.order.save(update_fields=["reopen_count", "callback_after"])
    _complete_task(ctx, actor, "reopen")
    promise = sla.promise_start(order=ctx.order, cause=PromiseCause.REOPEN)  # a new promise, recorded as such
    _record(ctx, actor=actor, action=OrderEvent.Action.REOPENED, before=before, comment=reason,
            department=_dept_name(ctx.order.current_department), times=ctx.order.reopen_count,
            promised_at=promise.due_at.isoformat())
    _notify_department(ctx, actor, Notification.Kind.REOPENED, reason)
    order_reopened.announce(order=ctx.order, actor=actor, reason=follow_up_reason, rating=rating)
    order_promise_moved.announce(order=ctx.order, cause="reopen")


def order_cancel(*, actor, order: WorkOrder, reason_kind: str, reason: str) -> WorkOrder:
    """Cancel an open order (a duplicate, the customer withdrew): needs a dispatcher and a reason."""
    _choice(reason_kind, CancelReason.choices, "reason_kind")
    reason = _text(reason, "reason", message=_("Say why the order is cancelled."))
    with ORDERS.transition("cancel", actor=actor, obj=order) as step:
        ctx = step.ctx
        before = ctx.order.status
        if ctx.process is not None:
            ComplaintFlow.instance.cancel(ctx.process)
        sla.stages_end(order=ctx.order, kinds=Stage.values)
        ctx.order.status = OrderStatus.CANCELLED
        ctx.order.cancelled_at = timezone.now()
        ctx.order.current_owner = None
        ctx.order.current_department = None
        ctx.order.queue_level = ""
        ctx.order.waiting_until = None
        ctx.order.save(update_fields=["status", "cancelled_at", "current_owner", "current_department",
                                      "queue_level", "waiting_until"])
        _record(ctx, actor=actor, action=OrderEvent.Action.CANCELLED, before=before, comment=reason,
                reason_kind=reason_kind)
        return ctx.order


def order_escalate(*, actor, order: WorkOrder, reason_kind: str, reason: str = "") -> WorkOrder:
    """升级: raise the order one level (1 department lead, 2 complaint-centre manager, 3 emergency group). An
    unclaimed order moves to the lead's queue. `actor=None` is the time-limit sweep."""
    _choice(reason_kind, EscalationReason.choices, "reason_kind")
    reason = _text(reason, "reason", required=actor is not None, message=_("Say why the order is escalated."))
    with ORDERS.transition("escalate", actor=actor, obj=order) as step:
        ctx = step.ctx
        before = ctx.order.status
        step = escalation_step(ctx.order)
        ctx.order.escalation_level = step.level
        ctx.order.escalated_at = timezone.now()
        fields = ["escalation_level", "escalated_at"]
        into_lead_queue = step.into_lead_queue and ctx.order.queue_level != QueueLevel.LEAD
        if step.into_lead_queue:
            ctx.order.queue_level = QueueLevel.LEAD
            fields.append("queue_level")
        ctx.order.save(update_fields=fields)
        _record(ctx, actor=actor, action=OrderEvent.Action.ESCALATED, before=before, comment=reason,
                reason_kind=reason_kind, level=ctx.order.escalation_level)
        recipients = [u for u in escalation_recipients(order=ctx.order) if actor is None or u.pk != actor.pk]
        notifications.notify(recipients=recipients, order=ctx.order, kind=Notification.Kind.ESCALATED,
                             actor=actor, comment=reason)
        if into_lead_queue:  # the lead hears of it here unless the escalation told them already
            order_arrival_announce(order=ctx.order, actor=actor, comment=reason, told=recipients)
        return ctx.order


# --- batch-complaint incidents -------------------------------------------------------------------------------

def order_attach_incident(*, actor, order: WorkOrder, incident) -> WorkOrder:
    """Join an open incident: the order goes to the incident's department and waits there (its clock paused)
    until the incident is resolved and answers it. `actor` None: attached automatically at intake."""
    if not incident.is_open:
        raise ValidationError({"incident": [_("The incident is resolved; nothing joins it any more.")]})
    with ORDERS.transition("attach", actor=actor, obj=order) as step:
        ctx = step.ctx
        before = ctx.order.status
        if ctx.stage == "dispatch":
            ctx.order.current_department = incident.department
            _complete_task(ctx, actor or ctx.order.first_responder, "dispatch", department=incident.department.pk)
            ctx.task = _open_task(ctx.process)
        ctx.order.incident = incident
        ctx.order.status = OrderStatus.IN_INCIDENT
        ctx.order.save(update_fields=["incident", "status"])
        sla.stages_pause(order=ctx.order, reason="incident")
        _record(ctx, actor=actor, action=OrderEvent.Action.ATTACHED_TO_INCIDENT, before=before,
                incident=incident.pk, title=incident.title)
        return ctx.order


def order_detach_incident(*, actor, order: WorkOrder, reason: str) -> WorkOrder:
    """Attached by mistake: back to the department queue, its clock running again."""
    reason = _text(reason, "reason", message=_("Say why the order does not belong to the incident."))
    with ORDERS.transition("detach", actor=actor, obj=order) as step:
        ctx = step.ctx
        before, incident_id = ctx.order.status, ctx.order.incident_id
        ctx.order.incident = None
        ctx.order.status = OrderStatus.IN_PROGRESS if ctx.task.owner_id else OrderStatus.QUEUED
        ctx.order.save(update_fields=["incident", "status"])
        sla.stages_resume(order=ctx.order)
        _record(ctx, actor=actor, action=OrderEvent.Action.DETACHED_FROM_INCIDENT, before=before, comment=reason,
                incident=incident_id)
        return ctx.order


def order_answer_from_incident(*, actor, order: WorkOrder, incident) -> WorkOrder | None:
    """The resolved incident's answer becomes the order's reply (by the person who resolved it), and the order goes
    on to its own callback. Idempotent: an order no longer waiting on the incident is left alone (None)."""
    with _order_locked(actor=None, obj=order) as ctx:
        if ctx.order.status != OrderStatus.IN_INCIDENT or ctx.order.incident_id != incident.pk:
            return None
        before = ctx.order.status
        now = timezone.now()
        sla.stages_resume(order=ctx.order)
        ctx.order.status = OrderStatus.IN_PROGRESS
        ctx.order.answer = incident.answer
        ctx.order.result_code = ResultCode.RESOLVED
        ctx.order.reply_method = ReplyMethod.SMS  # the incident's answer reaches its customers by the answer SMS
        ctx.order.replied_at = now
        ctx.order.replied_by = actor
        ctx.order.replied_department = incident.department
        ctx.order.save(update_fields=["status", "answer", "result_code", "replied_at", "replied_by",
                                      "replied_department", "reply_method"])
        _complete_task(ctx, actor, "reply", result_code=ResultCode.RESOLVED, incident=incident.pk)
        _record(ctx, actor=actor, action=OrderEvent.Action.REPLIED, before=before, comment=incident.answer,
                result_code=ResultCode.RESOLVED, incident=incident.pk, department=incident.department.name)
        if ctx.order.status != OrderStatus.REVIEW:
            order_answered.announce(order=ctx.order)
        return ctx.order


MAX_EXTENSION = timedelta(days=30)


def order_extension_request(*, actor, order: WorkOrder, until: datetime, reason: str) -> WorkOrder:
    """延时申请: the holder asks for a later deadline, with a reason, before the warning point."""
    reason = _text(reason, "reason", message=_("Say why more time is needed."))
    if not isinstance(until, datetime):
        raise ValidationError({"until": [_("Give the new deadline asked for.")]})
    with ORDERS.transition("extend", actor=actor, obj=order) as step:
        ctx = step.ctx
        stage = ctx.handle_stage
        if until <= stage.due_at:
            raise ValidationError({"until": [_("The new deadline must be later than the current one (%(at)s).")
                                             % {"at": f"{timezone.localtime(stage.due_at):%Y-%m-%d %H:%M}"}]})
        if until > stage.due_at + MAX_EXTENSION:
            raise ValidationError({"until": [_("At most %(days)s days beyond the current deadline.")
                                             % {"days": MAX_EXTENSION.days}]})
        ExtensionRequest.objects.create(stage=stage, order=ctx.order, requested_by=actor,
                                        requested_by_name=str(actor)[:64], until=until, reason=reason)
        _record(ctx, actor=actor, action=OrderEvent.Action.EXTENSION_REQUESTED, before=ctx.order.status,
                comment=reason, until=until.isoformat(), due_at=stage.due_at.isoformat())
        return ctx.order


def order_extension_decide(*, actor, order: WorkOrder, approve: bool, reason: str = "") -> WorkOrder:
    """The complaint centre approves (the deadline moves; the original one is remembered) or refuses."""
    reason = _text(reason, "reason", required=not approve, message=_("Say why the extension is refused."))
    with ORDERS.transition("decide_extension", actor=actor, obj=order) as step:
        ctx = step.ctx
        request = ctx.pending_extension
        request.status = ExtensionRequest.Status.APPROVED if approve else ExtensionRequest.Status.REFUSED
        request.decided_by = actor
        request.decided_at = timezone.now()
        request.decision_reason = reason
        request.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        promised = ctx.order.promised_at
        if approve and request.stage.ended_at is None:
            request.stage.order = ctx.order
            sla.stage_extend(stage=request.stage, until=request.until)
        _record(ctx, actor=actor,
                action=OrderEvent.Action.EXTENSION_APPROVED if approve else OrderEvent.Action.EXTENSION_REFUSED,
                before=ctx.order.status, comment=reason, until=request.until.isoformat(),
                original_due_at=request.stage.original_due_at.isoformat())
        if request.requested_by is not None:
            notifications.notify(recipients=[request.requested_by], order=ctx.order,
                                 kind=Notification.Kind.EXTENSION_DECIDED, actor=actor,
                                 comment=(_("Approved") if approve else _("Refused")) + (f": {reason}" if reason else ""))
        if ctx.order.promised_at != promised:  # the extension went past the customer's promise: a new time
            order_promise_moved.announce(order=ctx.order, cause="extension")
        return ctx.order


def escalation_recipients(*, order: WorkOrder) -> list[User]:
    """Who answers for the order at its escalation level."""
    active = User.objects.filter(is_active=True)
    if order.escalation_level >= 3:
        return list(active.filter(groups__name=roles.EMERGENCY))
    centre_leads = active.filter(
        groups__name=roles.LEAD, department__kind=Department.Kind.COMPLAINT_CENTRE,
        department__region__in=_regions_above(order.region),
    )
    if order.escalation_level == 2 or order.current_department_id is None:
        return list(centre_leads)
    return list(active.filter(groups__name=roles.LEAD, department_id=order.current_department_id))


def _regions_above(region):
    """The region and its ancestors (the materialised path lists their codes)."""
    codes = [code for code in region.path.strip("/").split("/") if code]
    return Region.objects.filter(code__in=codes)


# How a department's queue setting delivers the notice of an ordinary arrival.
QUEUE_NOTICE_DELIVERY = {
    Department.QueueNotice.IN_APP: Notification.Delivery.IN_APP,
    Department.QueueNotice.EMAIL: Notification.Delivery.STANDARD,
}


@cached_for(CATALOGUE_MEMO_SECONDS, invalidated_by=(User, User.groups.through, Department))
def _queue_people(department_id: int) -> list[User]:
    """A department's active leads and handlers, each with its role and the department's queue setting, in one
    read, kept per process like the catalogue (a change in admin counts at once in its process)."""
    return list(User.objects.filter(is_active=True, department=department_id,
                                    groups__name__in=(roles.LEAD, roles.HANDLER))
                .annotate(role=F("groups__name"), notice=F("department__queue_notice")).order_by("pk"))


def queue_arrival_recipients(*, order: WorkOrder) -> list[tuple[list[User], str]]:
    """Who hears that the order has just arrived in a queue, and how: [(users, delivery)].

    A major, VIP / group-customer or escalated order (the lead's queue) tells the lead at once, by e-mail too,
    whatever the hour; any other order follows its department's setting (nobody, in-app, in-app and e-mail),
    told to the people who take from that queue: a department's handlers, a complaint centre's dispatchers."""
    active = User.objects.filter(is_active=True)
    if order.status == OrderStatus.QUEUED and order.current_department_id:
        # One read: the department's leads and handlers, each row with its role and the department's setting
        # (read afresh: the department on the order may come from a memo of the category tree).
        rows = _queue_people(order.current_department_id)
        leads = [user for user in rows if user.role == roles.LEAD]
        handlers = [user for user in rows if user.role == roles.HANDLER]
        if order.queue_level == QueueLevel.LEAD or order.takes_short_path:
            return [(leads or handlers, Notification.Delivery.AT_ONCE)]
        delivery = QUEUE_NOTICE_DELIVERY.get(rows[0].notice) if rows else None
        if delivery is None:
            return []
        return [(handlers or leads, delivery)]
    if order.status == OrderStatus.NEW:  # back at the complaint centre's dispatch queue
        centres = list(Department.objects.filter(kind=Department.Kind.COMPLAINT_CENTRE, is_active=True,
                                                 region__in=_regions_above(order.region)))
        if order.takes_short_path:
            return [(list(active.filter(groups__name=roles.LEAD, department__in=centres)),
                     Notification.Delivery.AT_ONCE)]
        out = []
        for centre in centres:
            delivery = QUEUE_NOTICE_DELIVERY.get(centre.queue_notice)
            if delivery is not None:
                out.append((list(active.filter(groups__name=roles.DISPATCHER, department=centre)), delivery))
        return out
    return []


def order_arrival_announce(*, order: WorkOrder, actor, comment: str = "", told=()) -> None:
    """Tell the queue that the order has arrived (dispatched, transferred, released, returned, escalated into
    the lead's queue, dispatched automatically at intake). Nobody hears twice: the actor and those `told`
    already by the same step (the escalation's recipients, the dispatcher told of a return) are left out."""
    skip = {user.pk for user in told if user is not None}
    if actor is not None:
        skip.add(actor.pk)
    for users, delivery in queue_arrival_recipients(order=order):
        recipients = [user for user in users if user.pk not in skip]
        skip.update(user.pk for user in recipients)
        notifications.notify(recipients=recipients, order=order, kind=Notification.Kind.QUEUED, actor=actor,
                             comment=comment, delivery=delivery)



def _order_note(*, actor, order: WorkOrder, body: str, internal: bool = True):
    order_note_add(actor=actor, order=order, body=body, internal=internal)
    return order


ACTION_FUNCTIONS: dict[str, Callable] = {
    "dispatch": order_dispatch,
    "claim": order_claim,
    "release": order_release,
    "assign": order_assign,
    "transfer": order_transfer,
    "return": order_return,
    "wait": order_wait,
    "resume": order_resume,
    "note": _order_note,
    "reply": order_reply,
    "review": order_review,
    "callback": order_callback,
    "reopen": order_reopen,
    "cancel": order_cancel,
    "escalate": order_escalate,
    "extend": order_extension_request,
    "decide_extension": order_extension_decide,
}


def order_act(*, action: str, actor, order: WorkOrder, **data) -> WorkOrder:
    """One entry for every action, by name: what the browser's and the API's action endpoints call."""
    return ACTION_FUNCTIONS[action](actor=actor, order=order, **data)


def notification_open(*, user, notification_id: int) -> Notification | None:
    """Mark one of the user's notifications read and return it (None if it is not theirs)."""
    notification = Notification.objects.filter(recipient=user, pk=notification_id).select_related("order").first()
    if notification is not None and notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
