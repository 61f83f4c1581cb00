"""The lifecycle of a work order as a django-viewflow flow.

    start → route ─┬─ inquiry ────────────────────────→ answer ──────────────────→ archive → end
                   ├─ dispatched automatically at start ┐
                   └─ otherwise ────────→ dispatch ─────┴→ handle → after_handle ─┬─ transfer → handle
                                              ↑                                   ├─ return   → dispatch
                                              └──────────────────────────────────-┤  suggestion → archive
                                                                                  ├─ review → after_review ─┬─ sent back → handle
                                                                                  │                          └→ callback
                                                                                  └─ callback → after_callback ─┬─ reopen → handle
                                                                                                                └→ archive → end

Human steps are viewflow View tasks completed by workflow.services (never by viewflow's own views), which take
the acting user, lock the process row (SELECT … FOR UPDATE), check permission and state, and tell the flow the
outcome of the step through `process.outcome`. The `enter_*` hooks run when a task is created and keep the
order's current stage (status, department, owner, queue) in step, so work lists read one indexed table.
"""

from django.utils import timezone
from viewflow import this
from viewflow.workflow import nodes
from viewflow.workflow.base import Flow

from complaints.models import Kind, OrderStatus, QueueLevel, Severity
from complaints.selectors import category_responsible_department
from core.flowlock import ProcessRowLock, track_process_creation
from workflow import sla
from workflow.hooks import order_closed
from workflow.models import OrderProcess, OrderTask, Stage


class HumanTask(nodes.View):
    """A step people do in the product's own pages and API; viewflow keeps its state and history."""

    def __init__(self, **kwargs):
        super().__init__(view=None, **kwargs)


def _outcome(activation) -> str | None:
    return getattr(activation.process, "outcome", None)


def _outcome_is(outcome: str):
    return lambda activation: _outcome(activation) == outcome


class ComplaintFlow(Flow):
    """Complaint work order

    Dispatch, claim, handle, reply, review, callback and close of one work order.
    """

    process_class = OrderProcess
    task_class = OrderTask
    # Block on the process row until the other transaction commits: two claims queue, the second sees the first.
    lock_impl = ProcessRowLock()

    start = nodes.StartHandle(this.start_order).Next(this.route)
    route = (
        nodes.Switch()
        .Case(this.answer, this.is_inquiry)
        .Case(this.handle, this.dispatched_automatically)
        .Default(this.dispatch)
    )
    dispatch = HumanTask().onCreate(this.enter_dispatch).Next(this.handle)
    answer = HumanTask().onCreate(this.enter_answer).Next(this.archive)
    handle = HumanTask().Assign(this.previous_handler).onCreate(this.enter_handle).Next(this.after_handle)
    after_handle = (
        nodes.Switch()
        .Case(this.handle, _outcome_is("transfer"))
        .Case(this.dispatch, _outcome_is("return"))
        .Case(this.archive, this.is_suggestion)
        .Case(this.review, this.needs_review)
        .Default(this.callback)
    )
    review = HumanTask().onCreate(this.enter_review).Next(this.after_review)
    after_review = nodes.Switch().Case(this.handle, _outcome_is("send_back")).Default(this.callback)
    callback = HumanTask().onCreate(this.enter_callback).Next(this.after_callback)
    after_callback = nodes.Switch().Case(this.handle, _outcome_is("reopen")).Default(this.archive)
    archive = nodes.Function(this.close_order).Next(this.end)
    end = nodes.End()

    # --- start and routing ---

    def start_order(self, activation, order):
        """Take the order in; dispatch it automatically when the rules allow (the route then sends it on)."""
        activation.process.order = order
        if order.incident_id is not None:  # joins an open incident at intake: to its department, waiting
            order.current_department = order.incident.department
            activation.process.outcome = "incident"
        elif order.kind != Kind.INQUIRY:
            department = self.auto_dispatch_department(order)
            if department is not None:
                order.current_department = department
                activation.process.outcome = "auto_dispatch"
        sla.promise_start(order=order, at=min(order.received_at, timezone.now()))  # the customer's promise
        return activation.process

    def auto_dispatch_department(self, order):
        """Automatic when the category names its department and the order is ordinary or takes the short path;
        difficult ordinary-customer orders are looked at by a dispatcher first."""
        if order.severity != Severity.ORDINARY and not order.takes_short_path:
            return None
        department = category_responsible_department(category=order.category)
        return department if department is not None and department.is_active else None

    def dispatched_automatically(self, activation) -> bool:
        return _outcome(activation) in ("auto_dispatch", "incident")

    def is_inquiry(self, activation) -> bool:
        return activation.process.order.kind == Kind.INQUIRY

    def is_suggestion(self, activation) -> bool:
        return activation.process.order.kind == Kind.SUGGESTION

    def needs_review(self, activation) -> bool:
        order = activation.process.order
        if order.incident_id is not None:  # answered with its incident: the incident's answer was the review
            return False
        trusted = order.replied_department is not None and order.replied_department.trusted
        return not (trusted and order.severity == Severity.ORDINARY)

    def previous_handler(self, activation):
        """A reply sent back or reopened goes back to the person who wrote it, if they are still in the
        department; otherwise it waits in the department queue."""
        order = activation.process.order
        if _outcome(activation) not in ("send_back", "reopen") or order.replied_by_id is None:
            return None
        handler = order.replied_by
        if handler.is_active and handler.department_id == order.current_department_id:
            return handler
        return None

    # --- keeping the order's current stage in step ---

    def _enter(self, activation, *, status, department=None, owner=None, queue_level="", also=()):
        order = activation.process.order
        order.status = status
        order.current_department = department
        order.current_owner = owner
        order.queue_level = queue_level
        order.stage_started_at = timezone.now()
        order.waiting_until = None  # a new step never inherits a wait (an order transferred while parked)
        if department is not None:
            activation.task.department = department
            activation.task.save(update_fields=["department"])
        sla.order_save(order, ["status", "current_department", "current_owner", "queue_level", "stage_started_at",
                               "waiting_until", *also])

    def enter_dispatch(self, activation):
        self._enter(activation, status=OrderStatus.NEW)
        sla.stage_start(order=activation.process.order, kind=Stage.DISPATCH)

    def enter_answer(self, activation):
        self._enter(activation, status=OrderStatus.ANSWERING)
        sla.stage_start(order=activation.process.order, kind=Stage.HANDLE)

    def enter_handle(self, activation):
        order = activation.process.order
        owner = activation.task.owner
        joins_incident = _outcome(activation) == "incident" and owner is None
        if joins_incident:
            status = OrderStatus.IN_INCIDENT
        else:
            status = OrderStatus.IN_PROGRESS if owner else OrderStatus.QUEUED
        self._enter(
            activation,
            status=status,
            department=order.current_department,
            owner=owner,
            queue_level=QueueLevel.LEAD if order.takes_short_path else QueueLevel.HANDLER,
            also=("incident",) if joins_incident else (),
        )
        paused = "incident" if joins_incident else ""
        kinds = (Stage.HANDLE,) if owner else (Stage.HANDLE, Stage.CLAIM)
        sla.stages_start(order=order, kinds=kinds, department=order.current_department, paused_for=paused)

    def enter_review(self, activation):
        self._enter(activation, status=OrderStatus.REVIEW)
        sla.stage_start(order=activation.process.order, kind=Stage.REVIEW)

    def enter_callback(self, activation):
        order = activation.process.order
        unit = order.first_responder_department
        if unit is not None and unit.callback_department_id:
            unit = unit.callback_department
        self._enter(activation, status=OrderStatus.CALLBACK, department=unit)
        sla.stage_start(order=order, kind=Stage.CALLBACK, department=unit)

    def close_order(self, activation):
        order = activation.process.order
        sla.stages_end(order=order, kinds=Stage.values)  # the promise too, if no reply ended it
        order.status = OrderStatus.CLOSED
        order.closed_at = timezone.now()
        order.current_department = None
        order.current_owner = None
        order.queue_level = ""
        order.stage_started_at = None
        order.save(update_fields=["status", "closed_at", "current_department", "current_owner", "queue_level",
                                  "stage_started_at"])
        order_closed.announce(order=order)  # accountability proposes who answers for it (认责)


# a start runs without locking the process row it has just inserted (core.flowlock)
track_process_creation(OrderProcess)
