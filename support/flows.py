"""The lifecycle of an internal support request as a django-viewflow flow, on the same engine as complaints.

    start → sort ─┬─ route ──→ handle ─┬─ return ──────────────────→ sort
                  │                    └→ approve ─┬─ send back ──→ handle
                  │                                └→ rate ─┐
                  ├─ answer (by quality) ────────────→ rate ┴→ after_rate ─┬─ reopen (once) → sort
                  │                                                        └→ close → end
                  └─ reject ─────────────────────────────────────────────────→ close → end

Human steps are completed only by support.services (never by viewflow's own views), which take the acting user,
lock the process row (SELECT … FOR UPDATE), check the step and the actor, and tell the flow the outcome through
`process.outcome`. The sweep completes the rating step of an answer nobody rated in time (outcome "expired").
The `enter_*` hooks keep the request's current step (status, department) in step, so lists read one table.
"""

from django.utils import timezone
from viewflow import this
from viewflow.workflow import nodes
from viewflow.workflow.base import Flow

from core.flowlock import ProcessRowLock, track_process_creation
from support.models import SupportProcess, SupportRequest, SupportTask
from workflow.flows import HumanTask

Status = SupportRequest.Status


def _outcome_is(outcome: str):
    return lambda activation: getattr(activation.process, "outcome", None) == outcome


class SupportFlow(Flow):
    """Internal support request

    Sort by the quality department, answer by a back-office department with its lead's approval, rating by the
    requester.
    """

    process_class = SupportProcess
    task_class = SupportTask
    lock_impl = ProcessRowLock()

    start = nodes.StartHandle(this.start_request).Next(this.sort)
    sort = HumanTask().onCreate(this.enter_sort).Next(this.after_sort)
    after_sort = (
        nodes.Switch()
        .Case(this.handle, _outcome_is("route"))
        .Case(this.rate, _outcome_is("answer"))
        .Default(this.close)
    )
    handle = HumanTask().onCreate(this.enter_handle).Next(this.after_handle)
    after_handle = nodes.Switch().Case(this.sort, _outcome_is("return")).Default(this.approve)
    approve = HumanTask().onCreate(this.enter_approve).Next(this.after_approve)
    after_approve = nodes.Switch().Case(this.handle, _outcome_is("send_back")).Default(this.rate)
    rate = HumanTask().onCreate(this.enter_rate).Next(this.after_rate)
    after_rate = nodes.Switch().Case(this.sort, _outcome_is("reopen")).Default(this.close)
    close = nodes.Function(this.close_request).Next(this.end)
    end = nodes.End()

    def start_request(self, activation, request):
        activation.process.request = request
        return activation.process

    def _enter(self, activation, *, status, department=None):
        request = activation.process.request
        request.status = status
        request.department = department
        if department is not None:
            activation.task.department = department
            activation.task.save(update_fields=["department"])
        request.save(update_fields=["status", "department"])

    def enter_sort(self, activation):
        self._enter(activation, status=Status.SORTING)

    def enter_handle(self, activation):
        self._enter(activation, status=Status.HANDLING, department=activation.process.request.department)

    def enter_approve(self, activation):
        self._enter(activation, status=Status.APPROVAL, department=activation.process.request.department)

    def enter_rate(self, activation):
        request = activation.process.request
        self._enter(activation, status=Status.RATING, department=request.department)

    def close_request(self, activation):
        request = activation.process.request
        request.status = Status.CLOSED
        request.closed_at = timezone.now()
        request.save(update_fields=["status", "closed_at"])


# a start runs without locking the process row it has just inserted (core.flowlock)
track_process_creation(SupportProcess)
