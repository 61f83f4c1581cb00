"""Writes of the quality app: callback surveys (recorded by the workflow's callback step) and the follow-up of
dissatisfied customers (不满意客户维护). Each function takes the acting user, checks permission and state, and
writes its audit record in the same transaction."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.models import CallbackMethod, WorkOrder
from core.permissions import is_centre_or_quality
from quality.models import CallbackSurvey, FollowUp, FollowUpEvent, QualityPolicy
from quality.selectors import follow_ups_visible_to
from workflow.calendars import work_calendar
from workflow.models import LimitUnit


def callback_survey_record(*, order: WorkOrder, actor, rating: int, verdict: str, solved: bool | None,
                           comment: str = "", at: datetime | None = None,
                           method: str = CallbackMethod.PHONE) -> CallbackSurvey:
    """A callback that reached the customer (workflow.hooks.order_rated, inside the callback's transaction);
    `verdict` is the workflow policy's reading of the rating."""
    at = at or timezone.now()
    local = timezone.localtime(at)
    return CallbackSurvey.objects.create(
        order=order, at=at, day=local.date(), hour=local.hour, rating=rating, verdict=verdict, solved=solved,
        comment=comment, method=method,
        agent=actor if actor is not None and actor.pk else None, agent_name=str(actor or "system")[:64],
        unit=actor.department if actor is not None and actor.department_id else None,
        round=order.reopen_count + 1,
    )


def _event(follow_up: FollowUp, *, actor, action: str, comment: str = "", **data) -> FollowUpEvent:
    return FollowUpEvent.objects.record(follow_up=follow_up, actor=actor, action=action, comment=comment, data=data)


def follow_up_open(*, order: WorkOrder, reason: str, rating: int | None = None, actor=None) -> FollowUp:
    """A dissatisfied customer needs a follow-up: one open task per order; a second trigger while it is open is
    recorded on it. Subscribed to workflow.hooks.order_reopened (inside the callback's or the reopen's
    transaction)."""
    existing = FollowUp.objects.select_for_update().filter(order=order).exclude(status=FollowUp.Status.CLOSED).first()
    if existing is not None:
        _event(existing, actor=actor, action=FollowUpEvent.Action.TRIGGERED_AGAIN, reason=reason, rating=rating)
        return existing
    now = timezone.now()
    calendar, _calendar_id = work_calendar(None)
    # the rules the order was received under, whenever its customer turns out dissatisfied
    days = QualityPolicy.in_force(on=timezone.localdate(order.received_at)).follow_up_working_days
    follow_up = FollowUp.objects.create(
        customer_id=order.customer_id, order=order, region_id=order.region_id, reason=reason, rating=rating,
        opened_at=now, due_at=calendar.add_limit(now, days, LimitUnit.WORKING_DAYS).at,
    )
    _event(follow_up, actor=actor, action=FollowUpEvent.Action.OPENED, reason=reason, rating=rating)
    return follow_up


def _locked(*, actor, follow_up: FollowUp) -> FollowUp:
    if not is_centre_or_quality(actor):
        raise PermissionDenied(_("Follow-ups of dissatisfied customers are worked by the quality team and the "
                                 "complaint centre."))
    locked = follow_ups_visible_to(actor).select_for_update(of=("self",)).filter(pk=follow_up.pk).first()
    if locked is None:
        raise PermissionDenied(_("This follow-up belongs to another region."))
    if not locked.is_open:
        raise ValidationError(_("The follow-up is closed."))
    return locked


def follow_up_take(*, actor, follow_up: FollowUp) -> FollowUp:
    with transaction.atomic():
        locked = _locked(actor=actor, follow_up=follow_up)
        if locked.assignee_id == actor.pk:
            raise ValidationError(_("You already hold this follow-up."))
        previous = str(locked.assignee) if locked.assignee_id else ""
        locked.assignee = actor
        locked.status = FollowUp.Status.IN_PROGRESS
        locked.save(update_fields=["assignee", "status"])
        _event(locked, actor=actor, action=FollowUpEvent.Action.TAKEN, previous=previous)
        return locked


def follow_up_contact(*, actor, follow_up: FollowUp, reached: bool, outcome: str = "", note: str = "",
                      close: bool = False) -> FollowUp:
    """One call to the customer. Reached: the outcome says whether they are satisfied now; closing needs an
    outcome ("could not be reached" when never reached)."""
    note = (note or "").strip()
    errors = {}
    if outcome and outcome not in FollowUp.Outcome.values:
        errors["outcome"] = [_("Choose one of: %(values)s.") % {"values": ", ".join(FollowUp.Outcome.values)}]
    if reached and not outcome:
        errors["outcome"] = [_("Say how the customer feels now.")]
    if not reached and outcome and outcome != FollowUp.Outcome.UNREACHABLE:
        errors["outcome"] = [_("A customer who was not reached can only be closed as “could not be reached”.")]
    if close and not outcome:
        errors["outcome"] = [_("Closing needs an outcome.")]
    if not note:
        errors["note"] = [_("Write what was said or tried.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = _locked(actor=actor, follow_up=follow_up)
        locked.attempts += 1
        locked.assignee = locked.assignee or actor
        fields = ["attempts", "assignee", "status"]
        locked.status = FollowUp.Status.IN_PROGRESS
        _event(locked, actor=actor, action=FollowUpEvent.Action.CONTACTED, comment=note, reached=reached,
               outcome=outcome)
        if close:
            locked.status = FollowUp.Status.CLOSED
            locked.outcome = outcome
            locked.outcome_note = note
            locked.closed_at = timezone.now()
            locked.closed_by = actor
            fields += ["outcome", "outcome_note", "closed_at", "closed_by"]
            _event(locked, actor=actor, action=FollowUpEvent.Action.CLOSED, comment=note, outcome=outcome)
        locked.save(update_fields=fields)
        return locked
