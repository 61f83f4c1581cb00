"""Every state change of a support request: one function per transition, used alike by the browser, the API and
Celery. Each one validates its input, locks the request's process row (viewflow's lock) and then the request row,
checks that the current step allows the action (else RequestNotPossible, HTTP 409) and that the actor may take it
(else PermissionDenied, HTTP 403), moves the viewflow process on, writes the audit record and queues notifications,
all in one transaction (core.transitions runs them from the action table SUPPORT_ACTIONS). The same table
answers "which actions may this user take now" for the detail page.

The promised answer: raised (or reopened) + the policy's working days for the kind (problem 5, requirement 10),
warning at the policy's per cent of that span in working time. A department lead may defer (暂缓) once, before the
promised date passes, to a working day within the policy's longest deferral (30 working days) of the deferral; the
deadline becomes the end of that day's working time and the original promise is kept. An answer is on time when
it is approved (or given by the quality department) by the promised date in force then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property, partial

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.workflow.status import STATUS

from core.counters import day_number_format, day_number_next
from core.flowlock import starting_flows
from core.permissions import is_lead_of, is_quality, is_staff_of
from core.timed import OVERDUE, WARNING, Point, sweep_due, sweep_until_done
from core.transitions import ActionSpec, Rule, TransitionConflict, Transitions, available_actions
from org import roles
from org.models import Department, User
from support.flows import SupportFlow
from support.models import (
    SupportEvent,
    SupportPolicy,
    SupportProcess,
    SupportRequest,
    SupportTask,
)
from support.selectors import may_raise, requests_visible_to
from workflow.calendars import work_calendar
from workflow.models import LimitUnit, Notification
from workflow.notifications import notify_rows

Status = SupportRequest.Status
Action = SupportEvent.Action
OPEN_TASK_STATUSES = (STATUS.NEW, STATUS.ASSIGNED)
NUMBER_PREFIX = "ZC"
NUMBER_SERIES = "support"  # the kernel day counter's series of support request numbers
MAX_REOPENS = 1
# A rating at or below this says the answer did not help: the requester says why.
DISSATISFIED_AT_OR_BELOW = 2
SWEEP_BATCH = 500


class RequestNotPossible(TransitionConflict):
    """The request's current step does not allow the action (HTTP 409); says where the request stands."""

    def __init__(self, request: SupportRequest, message: str):
        super().__init__(request, message)
        self.request = request


@dataclass
class RequestContext:
    request: SupportRequest
    process: SupportProcess | None
    task: SupportTask | None

    @property
    def stage(self) -> str | None:
        return self.task.flow_task.name if self.task is not None else None


# --- who is who ---------------------------------------------------------------------------------------------


def _dept_name(department) -> str:
    return department.name if department is not None else "—"


def _iso(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat()


def _local(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


# --- the actions: state first (409), then the actor (403) --------------------------------------------------


def _not_now(ctx: RequestContext, action: str) -> RequestNotPossible:
    return RequestNotPossible(
        ctx.request,
        _("Support request %(number)s is “%(status)s”: %(action)s is not possible now.")
        % {"number": ctx.request.number, "status": ctx.request.get_status_display(),
           "action": SUPPORT.label(action)},
    )


QUALITY = Rule(lambda user, ctx: is_quality(user),
               lambda ctx: _("Support requests are sorted by the quality department."))
STAFF = Rule(lambda user, ctx: is_staff_of(user, ctx.request.department_id),
             lambda ctx: _("Only handlers and the lead of %(department)s may do this.")
             % {"department": _dept_name(ctx.request.department)})


def _lead(label) -> Rule:
    return Rule(lambda user, ctx: is_lead_of(user, ctx.request.department_id),
                lambda ctx: _("Only the lead of %(department)s may %(action)s.")
                % {"department": _dept_name(ctx.request.department), "action": label})


# The answer while sorting is the quality department's; with the department, its handlers' and lead's.
ANSWERER = Rule(lambda user, ctx: QUALITY.test(user, ctx) if ctx.stage == "sort" else STAFF.test(user, ctx),
                lambda ctx: QUALITY.refusal(ctx) if ctx.stage == "sort" else STAFF.refusal(ctx))
REQUESTER = Rule(lambda user, ctx: user.pk == ctx.request.requester_id,
                 lambda ctx: _("Only %(requester)s, who raised the request, rates the answer.")
                 % {"requester": ctx.request.requester_name})
NOT_DEFERRED = Rule(lambda ctx: not ctx.request.is_deferred,
                    lambda ctx: _("Support request %(number)s was already deferred once (until %(until)s); it "
                                  "cannot be deferred again.")
                    % {"number": ctx.request.number, "until": _local(ctx.request.due_at)})
BEFORE_PROMISE = Rule(lambda ctx: timezone.now() < ctx.request.due_at,
                      lambda ctx: _("The promised date of support request %(number)s (%(due)s) has passed: a "
                                    "deferral must be decided before it.")
                      % {"number": ctx.request.number, "due": _local(ctx.request.due_at)})
IS_OPEN = Rule(lambda ctx: ctx.request.is_open)

DEFER_LABEL = gettext_lazy("defer")
APPROVE_LABEL = gettext_lazy("approve the answer")
SEND_BACK_LABEL = gettext_lazy("send the answer back")

SUPPORT_ACTIONS = {
    "route": ActionSpec(gettext_lazy("route to a department"), steps=("sort",), actor=(QUALITY,)),
    "answer": ActionSpec(gettext_lazy("answer"), steps=("sort", "handle"), actor=(ANSWERER,)),
    "reject": ActionSpec(gettext_lazy("reject"), steps=("sort",), actor=(QUALITY,)),
    "return": ActionSpec(gettext_lazy("return to the quality department"), steps=("handle",), actor=(STAFF,)),
    "defer": ActionSpec(DEFER_LABEL, steps=("handle",), state=(NOT_DEFERRED, BEFORE_PROMISE),
                    actor=(_lead(DEFER_LABEL),)),
    "approve": ActionSpec(APPROVE_LABEL, steps=("approve",), actor=(_lead(APPROVE_LABEL),)),
    "send_back": ActionSpec(SEND_BACK_LABEL, steps=("approve",), actor=(_lead(SEND_BACK_LABEL),)),
    "rate": ActionSpec(gettext_lazy("rate the answer"), steps=("rate",), actor=(REQUESTER,)),
    "comment": ActionSpec(gettext_lazy("comment"), state=(IS_OPEN,)),
}
ACTIONS = tuple(SUPPORT_ACTIONS)


# --- reading and locking ----------------------------------------------------------------------------------


def _open_task(process: SupportProcess | None) -> SupportTask | None:
    if process is None:
        return None
    task = SupportTask.objects.filter(process=process, status__in=OPEN_TASK_STATUSES).order_by("-id").first()
    if task is not None:
        task.process = process
    return task


def request_context(*, request: SupportRequest) -> RequestContext:
    """The request with its process and open task, read without locks (for pages and the action list)."""
    process = SupportProcess.objects.filter(request_id=request.pk).first()
    if process is not None:
        process.request = request
    return RequestContext(request=request, process=process, task=_open_task(process))


def request_actions_available(*, user, request: SupportRequest, ctx: RequestContext | None = None) -> list[str]:
    """The actions this user may take on the request now, by the table the transitions are checked against."""
    return available_actions(user, request, ctx=ctx)


def _lock_request(pk: int) -> SupportRequest:
    return (SupportRequest.objects.select_for_update(no_key=True, of=("self",))
            .select_related("requester", "requester_department", "department", "answered_department",
                            "answer_written_by", "policy")
            .get(pk=pk))


@contextmanager
def _locked(*, actor, obj: SupportRequest) -> Iterator[RequestContext]:
    """Lock the process row (viewflow's lock), then the request row; yield the fresh state."""
    request = obj

    with transaction.atomic():
        if actor is not None and not requests_visible_to(actor).filter(pk=request.pk).exists():
            raise PermissionDenied(_("You may not act on support request %(number)s.") % {"number": request.number})
        process_pk = SupportProcess.objects.filter(request_id=request.pk).values_list("pk", flat=True).get()
        with SupportFlow.lock(process_pk):
            locked = _lock_request(request.pk)
            process = SupportProcess.objects.get(pk=process_pk)
            process.request = locked
            yield RequestContext(request=locked, process=process, task=_open_task(process))


def _complete_task(ctx: RequestContext, actor, outcome: str, **data) -> None:
    """Finish the open human task with an outcome; the flow routes on it and creates the next task."""
    task = ctx.task
    activation = task.flow_task.activation_class(task)
    ctx.process.outcome = outcome
    task.data = {**task.data, "outcome": outcome, **data}
    if task.status == STATUS.NEW:
        activation.assign(actor)
    activation.start(None)
    activation.execute()
    ctx.task = None


def _event(request: SupportRequest, *, actor, action: str, before: str = "", comment: str = "", at=None,
           **data) -> SupportEvent:
    return SupportEvent.objects.create(
        request=request, action=action, actor=actor if actor is not None and actor.pk else None,
        actor_name=(str(actor) if actor is not None else "system")[:64], from_status=before,
        to_status=request.status, comment=comment, data=data, created_at=at or timezone.now())


SUPPORT = Transitions(
    model=SupportRequest, actions=SUPPORT_ACTIONS,
    read=lambda request: request_context(request=request), lock=_locked, step_of=lambda ctx: ctx.stage,
    not_now=_not_now, conflict=lambda ctx, message: RequestNotPossible(ctx.request, message),
    audit=lambda ctx, *, actor, action, before, comment, **data: _event(
        ctx.request, actor=actor, action=action, before=before, comment=comment, **data),
    status_of=lambda ctx: ctx.request.status,
)


def _text(value: str, field: str, message: str | None = None, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: [message or _("This field is required.")]})
    return value


# --- deadlines ----------------------------------------------------------------------------------------------


def request_policy(request: SupportRequest) -> SupportPolicy:
    """The policy the request is judged by: the one in force the day it was raised."""
    return request.policy or SupportPolicy.in_force(on=timezone.localdate(request.received_at))


def reopen_threshold(request: SupportRequest) -> int | None:
    """The rating at or below which the requester may still send the request back; None when they may not."""
    threshold = request_policy(request).reopen_at_or_below
    return threshold if threshold > 0 and request.reopen_count < MAX_REOPENS else None


def _calendar(policy: SupportPolicy):
    return work_calendar(policy.calendar_id)[0]


def _promise(request: SupportRequest, *, start: datetime) -> None:
    """Start the clock of the answer: the promised date and the warning point, from the request's policy."""
    policy = request_policy(request)
    calendar = _calendar(policy)
    due = calendar.add_limit(start, policy.working_days_for(request.kind), LimitUnit.WORKING_DAYS)
    request.clock_started_at = start
    request.due_at = request.original_due_at = due.at
    request.warn_at = calendar.point_between(start, due.at, LimitUnit.WORKING_DAYS, policy.warn_percent)
    request.calendar_unconfirmed = due.unconfirmed
    request.warned_at = request.overdue_at = None


PROMISE_FIELDS = ["clock_started_at", "due_at", "original_due_at", "warn_at", "calendar_unconfirmed", "warned_at",
                  "overdue_at"]


def deferral_latest_date(*, request: SupportRequest, at: datetime | None = None) -> date:
    """The last day a deferral decided at `at` may move the promised date to."""
    policy = request_policy(request)
    at = at or timezone.now()
    return timezone.localtime(_calendar(policy).add_working_days(at, policy.max_deferral_working_days).at).date()


def _rating_due(request: SupportRequest, at: datetime) -> datetime:
    policy = request_policy(request)
    return _calendar(policy).add_working_days(at, policy.rating_window_working_days).at


def _mark_answered(request: SupportRequest, *, actor, department, at: datetime) -> None:
    request.answered_department = department
    request.approved_by = actor
    request.answered_at = at
    request.answered_on_time = at <= request.due_at
    request.rating_due_at = _rating_due(request, at)
    request.save(update_fields=["answered_department", "approved_by", "answered_at", "answered_on_time",
                                "rating_due_at"])


# --- who is told ------------------------------------------------------------------------------------------


def _quality_people() -> list[User]:
    return list(User.objects.filter(is_active=True, groups__name=roles.QUALITY_MANAGER))


def _leads_of(department_id) -> list[User]:
    if department_id is None:
        return []
    return list(User.objects.filter(is_active=True, department_id=department_id, groups__name=roles.LEAD))


def _staff_of(department_id) -> list[User]:
    if department_id is None:
        return []
    return list(User.objects.filter(is_active=True, department_id=department_id,
                                    groups__name__in=[roles.HANDLER, roles.LEAD]).distinct())


def request_link(request: SupportRequest) -> str:
    return reverse("support:detail", args=[request.number])


def _subject(request: SupportRequest, text: str) -> str:
    return f"{request.number} {text}: {request.title}"[:200]


def _rows(recipients, *, request: SupportRequest, kind: str, subject: str, actor=None,
          comment: str = "") -> list[Notification]:
    unique = {u.pk: u for u in recipients if u is not None and u.is_active and (actor is None or u.pk != actor.pk)}
    return [Notification(recipient=user, order=None, kind=kind, subject=subject, link=request_link(request),
                         actor_name=(str(actor) if actor else "system")[:64], comment=(comment or "")[:2000])
            for user in unique.values()]


def _tell(recipients, *, request: SupportRequest, what, actor=None, comment: str = "",
          kind: str = Notification.Kind.SUPPORT) -> None:
    """Inbox rows (and e-mails after commit) in the platform's language, whoever's page triggered them."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = _subject(request, str(what))
    notify_rows(_rows(recipients, request=request, kind=kind, subject=subject, actor=actor, comment=comment))


# --- raising ------------------------------------------------------------------------------------------------


def support_number_next(*, at: datetime) -> str:
    """ZC + the day in Asia/Shanghai + a per-day sequence (core.counters: one upsert, so concurrent callers never
    share a number)."""
    day = timezone.localdate(at)
    return day_number_format(prefix=NUMBER_PREFIX, day=day, sequence=day_number_next(series=NUMBER_SERIES, day=day))


def request_raise(*, actor, kind: str, title: str, description: str) -> SupportRequest:
    """A frontline unit asks head office: the request goes to the quality department to be sorted."""
    if not may_raise(actor):
        raise PermissionDenied(_("Support requests are raised by agents and leads of frontline units."))
    errors = {}
    if kind not in SupportRequest.Kind.values:
        errors["kind"] = [_("Choose a problem or a requirement.")]
    title, description = (title or "").strip(), (description or "").strip()
    if not title:
        errors["title"] = [_("Give the request a short title.")]
    if not description:
        errors["description"] = [_("Describe the problem or the requirement.")]
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        now = timezone.now()
        policy = SupportPolicy.in_force(on=timezone.localdate(now))
        request = SupportRequest(
            number=support_number_next(at=now), kind=kind, title=title[:200], description=description,
            requester=actor, requester_name=str(actor)[:64], requester_department=actor.department,
            received_at=now, policy=policy if policy.pk else None,
        )
        _promise(request, start=now)
        request.save()
        with starting_flows():
            SupportFlow.start.run(request=request)
        _event(request, actor=actor, action=Action.RAISED, comment=description, kind=kind,
               unit=actor.department.name, due_at=_iso(request.due_at))
        _tell(_quality_people(), request=request, what=gettext_lazy("to sort"), actor=actor)
        return request


# --- the transitions ---------------------------------------------------------------------------------------


def _target_department(department) -> Department:
    if not isinstance(department, Department):
        raise ValidationError({"department": [_("Choose a department.")]})
    if not department.is_active or department.kind != Department.Kind.BACK_OFFICE:
        raise ValidationError({"department": [_("%(department)s is not an active back-office department.")
                                              % {"department": department.name}]})
    return department


def request_route(*, actor, request: SupportRequest, department: Department, comment: str = "",
                  kind: str = "") -> SupportRequest:
    """The quality department sends the request to a back-office department; it may correct the kind (the
    promised date then follows the kind's limit from when the clock started, unless a deferral set it)."""
    _target_department(department)
    comment = (comment or "").strip()
    if kind and kind not in SupportRequest.Kind.values:
        raise ValidationError({"kind": [_("Choose a problem or a requirement.")]})
    with SUPPORT.transition("route", actor=actor, obj=request) as step:
        ctx = step.ctx
        request = ctx.request
        changes = {}
        if kind and kind != request.kind:
            changes = {"kind_from": request.kind, "kind": kind}
            request.kind = kind
            if not request.is_deferred:  # a deferral's date stands; otherwise the promise follows the kind
                changes["due_from"] = _iso(request.due_at)
                _promise(request, start=request.clock_started_at)
                changes["due_at"] = _iso(request.due_at)
            request.save(update_fields=["kind", *PROMISE_FIELDS])
        request.department = department
        request.routed_at = timezone.now()
        request.save(update_fields=["department", "routed_at"])
        _complete_task(ctx, actor, "route", department=department.pk)
        step.record(Action.ROUTED, comment=comment,
                    department=department.name, **changes)
        step.notify(_tell, _staff_of(department.pk), request=request, what=gettext_lazy("routed to your department"),
                    actor=actor, comment=comment)
        return request


def request_answer(*, actor, request: SupportRequest, answer: str) -> SupportRequest:
    """A handler of the department writes the answer (it goes to the lead for approval); or the quality
    department answers directly while sorting (it goes straight to the requester)."""
    answer = _text(answer, "answer", _("Write the answer."))
    with SUPPORT.transition("answer", actor=actor, obj=request) as step:
        ctx = step.ctx
        request, now = ctx.request, timezone.now()
        by_quality = ctx.stage == "sort"
        request.answer = answer
        request.answer_written_by = actor
        request.answer_written_at = now
        request.save(update_fields=["answer", "answer_written_by", "answer_written_at"])
        if by_quality:
            _mark_answered(request, actor=actor, department=actor.department, at=now)
        _complete_task(ctx, actor, "answer")
        if by_quality:
            step.record(Action.ANSWERED_BY_QUALITY, comment=answer,
                        on_time=request.answered_on_time, department=_dept_name(actor.department))
            step.notify(_tell, [request.requester], request=request, what=gettext_lazy("answered: please rate the answer"),
                        actor=actor)
        else:
            step.record(Action.ANSWER_WRITTEN, comment=answer,
                        department=_dept_name(request.department))
            step.notify(_tell, _leads_of(request.department_id), request=request,
                        what=gettext_lazy("answer awaits your approval"), actor=actor)
        return request


def request_reject(*, actor, request: SupportRequest, reason: str) -> SupportRequest:
    """The quality department closes a request that is not a support matter, saying why."""
    reason = _text(reason, "reason", _("Say why this is not a support matter."))
    with SUPPORT.transition("reject", actor=actor, obj=request) as step:
        ctx = step.ctx
        request = ctx.request
        request.resolution = SupportRequest.Resolution.REJECTED
        request.close_reason = reason
        request.save(update_fields=["resolution", "close_reason"])
        _complete_task(ctx, actor, "reject")
        step.record(Action.REJECTED, comment=reason)
        step.notify(_tell, [request.requester], request=request, what=gettext_lazy("rejected as not a support matter"),
                    actor=actor, comment=reason)
        return request


def request_return(*, actor, request: SupportRequest, reason: str) -> SupportRequest:
    """Not this department's matter: back to the quality department to be routed again (the promise stands)."""
    reason = _text(reason, "reason", _("Say why the request is returned."))
    with SUPPORT.transition("return", actor=actor, obj=request) as step:
        ctx = step.ctx
        request, department = ctx.request, ctx.request.department
        _complete_task(ctx, actor, "return")
        step.record(Action.RETURNED, comment=reason,
                    department=_dept_name(department))
        step.notify(_tell, _quality_people(), request=request, what=gettext_lazy("returned by the department"), actor=actor,
                    comment=reason)
        return request


def request_defer(*, actor, request: SupportRequest, until: date, reason: str) -> SupportRequest:
    """暂缓: the department's lead moves the promised date (once, before it passes) to the end of a working day
    within the policy's longest deferral; the original promise is kept."""
    reason = _text(reason, "reason", _("Say why the answer must wait (an investment decision, a study with other "
                                       "departments…)."))
    if not isinstance(until, date):
        raise ValidationError({"until": [_("Give the new date.")]})
    with SUPPORT.transition("defer", actor=actor, obj=request) as step:
        ctx = step.ctx
        request, now = ctx.request, timezone.now()
        policy = request_policy(request)
        calendar = _calendar(policy)
        latest = deferral_latest_date(request=request, at=now)
        periods = calendar.periods_on(until)
        if until > latest:
            raise ValidationError({"until": [_("A deferral may last at most %(days)s working days: the latest date "
                                               "is %(latest)s.") % {"days": policy.max_deferral_working_days,
                                                                     "latest": f"{latest:%Y-%m-%d}"}]})
        if not periods:
            raise ValidationError({"until": [_("%(date)s is not a working day.") % {"date": f"{until:%Y-%m-%d}"}]})
        new_due = periods[-1][1]
        if new_due <= request.due_at:
            raise ValidationError({"until": [_("The new date must come after the promised date (%(due)s).")
                                             % {"due": _local(request.due_at)}]})
        previous_due = request.due_at
        request.due_at = new_due
        request.warn_at = calendar.point_between(request.clock_started_at, new_due, LimitUnit.WORKING_DAYS,
                                                 policy.warn_percent)
        if request.warn_at > now:
            request.warned_at = None  # warned again before the new date
        request.deferred_at, request.deferred_by, request.deferral_reason = now, actor, reason
        request.save(update_fields=["due_at", "warn_at", "warned_at", "deferred_at", "deferred_by",
                                    "deferral_reason"])
        step.record(Action.DEFERRED, comment=reason,
                    due_from=_iso(previous_due), due_at=_iso(new_due), until=_local(new_due),
                    original_due_at=_iso(request.original_due_at))
        with translation.override(settings.LANGUAGE_CODE):
            what = _("deferred until %(date)s") % {"date": _local(new_due)}
        step.notify(_tell, [request.requester, *_quality_people()], request=request, what=what, actor=actor, comment=reason)
        return request


def request_approve(*, actor, request: SupportRequest, comment: str = "") -> SupportRequest:
    """The department's lead approves the answer: it goes to the requester, who rates it."""
    comment = (comment or "").strip()
    with SUPPORT.transition("approve", actor=actor, obj=request) as step:
        ctx = step.ctx
        request = ctx.request
        _mark_answered(request, actor=actor, department=request.department, at=timezone.now())
        _complete_task(ctx, actor, "approve")
        step.record(Action.APPROVED, comment=comment,
                    on_time=request.answered_on_time, department=_dept_name(request.department))
        step.notify(_tell, [request.requester], request=request, what=gettext_lazy("answered: please rate the answer"),
                    actor=actor)
        return request


def request_send_back(*, actor, request: SupportRequest, reason: str) -> SupportRequest:
    """The lead sends the answer back to the handler with a reason."""
    reason = _text(reason, "reason", _("Say what the answer is missing."))
    with SUPPORT.transition("send_back", actor=actor, obj=request) as step:
        ctx = step.ctx
        request = ctx.request
        _complete_task(ctx, actor, "send_back")
        step.record(Action.SENT_BACK, comment=reason,
                    department=_dept_name(request.department))
        writer = request.answer_written_by
        step.notify(_tell, [writer] if writer is not None else _staff_of(request.department_id), request=request,
                    what=gettext_lazy("answer sent back"), actor=actor, comment=reason)
        return request


def request_rate(*, actor, request: SupportRequest, rating: int, comment: str = "",
                 reopen: bool = False) -> SupportRequest:
    """The requester rates the answer 1–5 (with a comment when it is 1 or 2); a rating at or below the policy's
    threshold may send the request back to the quality department, once, with a new promised date."""
    comment = (comment or "").strip()
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationError({"rating": [_("Rate the answer from 1 to 5.")]})
    if reopen and not comment:
        raise ValidationError({"comment": [_("Say what is still missing, so the request can be worked again.")]})
    if rating <= DISSATISFIED_AT_OR_BELOW and not comment:
        raise ValidationError({"comment": [_("Say what was wrong with the answer.")]})
    with SUPPORT.transition("rate", actor=actor, obj=request) as step:
        ctx = step.ctx
        request, now = ctx.request, timezone.now()
        threshold = reopen_threshold(request)
        if reopen and threshold is None:
            raise ValidationError({"reopen": [_("This request cannot be reopened again.")]})
        if reopen and rating > threshold:
            raise ValidationError({"reopen": [_("Only a rating of %(max)s or lower reopens the request.")
                                              % {"max": threshold}]})
        request.rating, request.rating_comment, request.rated_at = rating, comment, now
        request.save(update_fields=["rating", "rating_comment", "rated_at"])
        answerers = [request.answer_written_by, *_leads_of(request.answered_department_id)]
        if reopen:
            request.reopen_count += 1
            _promise(request, start=now)
            # A new round: the department may defer again (the earlier deferral stays in the history).
            request.deferred_at, request.deferred_by, request.deferral_reason = None, None, ""
            request.save(update_fields=["reopen_count", *PROMISE_FIELDS, "deferred_at", "deferred_by",
                                        "deferral_reason"])
            _complete_task(ctx, actor, "reopen")
            step.record(Action.RATED, comment=comment, rating=rating)
            step.record(Action.REOPENED, comment=comment, rating=rating,
                        due_at=_iso(request.due_at))
            step.notify(_tell, [*_quality_people(), *answerers], request=request, what=gettext_lazy("reopened by the requester"),
                        actor=actor, comment=comment)
        else:
            request.resolution = SupportRequest.Resolution.RATED
            request.save(update_fields=["resolution"])
            _complete_task(ctx, actor, "close")
            step.record(Action.RATED, comment=comment, rating=rating)
            with translation.override(settings.LANGUAGE_CODE):
                what = _("rated %(rating)s of 5") % {"rating": rating}
            step.notify(_tell, answerers, request=request, what=what, actor=actor, comment=comment)
        return request


def request_comment(*, actor, request: SupportRequest, body: str) -> SupportRequest:
    """A comment in the history (more information from the requester, a question from the department); the
    other side is told."""
    body = _text(body, "body", _("Write the comment."))
    with SUPPORT.transition("comment", actor=actor, obj=request) as step:
        ctx = step.ctx
        request = ctx.request
        step.record(Action.COMMENTED, comment=body)
        step.notify(_tell, [request.requester, *_holders(request)], request=request, what=gettext_lazy("new comment"),
                    actor=actor, comment=body)
        return request


def _holders(request: SupportRequest) -> list[User]:
    """Who the request is waiting for now."""
    if request.status == Status.SORTING:
        return _quality_people()
    if request.status in (Status.HANDLING, Status.APPROVAL):
        return [*_leads_of(request.department_id), request.answer_written_by]
    return []


ACTION_FUNCTIONS: dict[str, Callable] = {
    "route": request_route,
    "answer": request_answer,
    "reject": request_reject,
    "return": request_return,
    "defer": request_defer,
    "approve": request_approve,
    "send_back": request_send_back,
    "rate": request_rate,
    "comment": request_comment,
}


def request_act(*, action: str, actor, request: SupportRequest, **data) -> SupportRequest:
    """One entry for every action, by name: what the browser's and the API's action endpoints call."""
    return ACTION_FUNCTIONS[action](actor=actor, request=request, **data)


# --- the sweep ----------------------------------------------------------------------------------------------


class _Directory:
    """Who to tell, looked up once per sweep (and only when something is due)."""

    @cached_property
    def quality(self) -> list[User]:
        return _quality_people()

    @cached_property
    def leads(self) -> dict[int, list[User]]:
        leads: dict[int, list[User]] = {}
        for user in User.objects.filter(is_active=True, groups__name=roles.LEAD, department__isnull=False):
            leads.setdefault(user.department_id, []).append(user)
        return leads

    def for_deadline(self, request: SupportRequest, *, overdue: bool) -> list[User]:
        if request.status == Status.SORTING:
            return self.quality
        people = list(self.leads.get(request.department_id, []))
        return people + self.quality if overdue else people


def _stamp(*, now: datetime, batch: int, overdue: bool, directory: _Directory) -> int:
    """Claim requests past their warning point (or promised date) that nobody stamped yet: stamp the real moment and
    write the history at that moment in one transaction (so once), then tell the people concerned."""
    point = OVERDUE if overdue else WARNING
    action = Action.OVERDUE if overdue else Action.DEADLINE_NEAR

    def record(due):
        SupportEvent.objects.bulk_create([
            SupportEvent(request=r, action=action, actor=None, actor_name="system", from_status=r.status,
                         to_status=r.status, data={"due_at": _iso(r.due_at)}, created_at=getattr(r, point.at))
            for r in due
        ])

    def notify(due):
        kind = Notification.Kind.OVERDUE if overdue else Notification.Kind.DEADLINE_NEAR
        rows = []
        with translation.override(settings.LANGUAGE_CODE):
            for r in due:
                what = (_("overdue since %(due)s") if overdue else _("answer due by %(due)s")) % {"due": _local(r.due_at)}
                rows += _rows(directory.for_deadline(r, overdue=overdue), request=r, kind=kind,
                              subject=_subject(r, what))
        notify_rows(rows)

    waiting = (SupportRequest.objects.filter(status__in=SupportRequest.ANSWER_PENDING)
               .only("pk", "number", "title", "status", "department_id", "warn_at", "due_at"))
    return len(sweep_due(waiting, point, now=now, limit=batch, record=record, notify=notify))


# The rating window: the request leaves the rating step when it closes, so nothing is stamped.
_RATING_ENDS = Point("request__rating_due_at", None)


def requests_close_unrated(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Answers the requester did not rate within the rating window are closed without a rating, stamped with the
    moment the window ended. The process and request rows are claimed together, SKIP LOCKED: a requester rating at
    this moment is never waited for (nor overridden: the row is skipped, and the rating wins)."""
    now = now or timezone.now()

    def record(processes):
        closed = []
        for process in processes:
            request = process.request
            ctx = RequestContext(request=request, process=process, task=_open_task(process))
            if ctx.stage != "rate":
                continue
            closed.append(process)
            before, at = request.status, request.rating_due_at
            request.resolution = SupportRequest.Resolution.NOT_RATED
            request.save(update_fields=["resolution"])
            _complete_task(ctx, None, "expired")
            request.closed_at = at
            request.save(update_fields=["closed_at"])
            _event(request, actor=None, action=Action.AUTO_CLOSED, before=before, at=at,
                   rating_due_at=_iso(at))
        return closed

    rating = SupportProcess.objects.select_related("request").filter(request__status=Status.RATING)
    return len(sweep_due(rating, _RATING_ENDS, now=now, limit=batch, record=record, lock=("self", "request")))


def support_sweep(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> dict:
    """Warnings, breaches of the promised date, and unrated answers past their window. Idempotent: a stamped row is
    never picked again, so re-running (or two sweeps at once) tells nobody twice; after downtime it catches up
    with the true times."""
    now = now or timezone.now()
    directory = _Directory()
    counts = {"warned": 0, "overdue": 0, "closed_unrated": 0}
    for key, overdue in (("warned", False), ("overdue", True)):
        counts[key] = sweep_until_done(partial(_stamp, now=now, batch=batch, overdue=overdue, directory=directory))
    counts["closed_unrated"] = sweep_until_done(lambda: requests_close_unrated(now=now, batch=batch))
    return counts
