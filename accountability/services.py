"""Writes of accountability: determinations (proposed when a complaint closes, confirmed or changed by the
complaint centre), appeals and their decisions, deductions. Each function takes the acting user, checks who may do
it and that the current state allows it, and writes its history in the same transaction."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accountability.models import (
    AccountabilityEvent,
    AccountabilityPolicy,
    AccountabilityRecord,
    Appeal,
    Cause,
    Deduction,
    DeductionItem,
    Determination,
    DeterminationShare,
    ImprovementOrder,
    Indicator,
    IndicatorTarget,
    IndicatorTargetChange,
    MonthlyNotice,
    MonthlyScore,
    ResponsibilityRule,
    ScoreRecomputation,
)
from accountability.selectors import late_arrivals, may_recompute_scores
from complaints.models import Kind, OrderSource, WorkOrder
from complaints.selectors import category_responsible_department, regions_visible_to
from core.permissions import has_role, is_centre_or_quality, is_centre_staff, is_lead_of, is_quality
from core.timed import OVERDUE, WARNING, Point, sweep_all
from core.transitions import ActionSpec, Rule, Transitions
from jobs.models import Job
from jobs.services import job_create
from org import roles
from org.models import Department, User
from workflow.calendars import work_calendar
from workflow.models import LimitUnit, Notification, Stage, StageOutcome
from workflow.notifications import leads_notify, notify
from workflow.selectors import order_department_clocks

log = logging.getLogger("accountability")


def working_days_after(moment: datetime, days: int) -> datetime:
    calendar, _id = work_calendar(None)
    return calendar.add_limit(moment, days, LimitUnit.WORKING_DAYS).at


def month_of(moment: datetime) -> date:
    return timezone.localtime(moment).date().replace(day=1)


def _event(*, actor, action: str, determination=None, deduction=None, improvement=None, comment: str = "", **data):
    return AccountabilityEvent.objects.record(
        determination=determination, deduction=deduction, improvement=improvement, actor=actor, action=action,
        system_name=_("system"), comment=comment, data=data)


# --- rules -----------------------------------------------------------------------------------------------------


def rule_for(*, category, on_date: date) -> ResponsibilityRule | None:
    """The rule in force for a category: the deepest category of its path that has one, its latest version."""
    codes = [code for code in category.path.strip("/").split("/") if code]
    rules = (ResponsibilityRule.objects.in_force(on=on_date).filter(category__code__in=codes)
             .select_related("category").prefetch_related("shares__department")
             .order_by("-category__level", "-effective_from"))
    return rules.first()


def _shares_from_rules(order: WorkOrder, on_date: date) -> tuple[list[tuple[Department, Decimal]], str, object]:
    rule = rule_for(category=order.category, on_date=on_date)
    if rule is not None and rule.shares.all():
        return [(s.department, s.share) for s in rule.shares.all()], rule.cause, rule
    department = (category_responsible_department(category=order.category) or order.replied_department
                  or order.first_responder_department)
    return [(department, Decimal("1"))], Cause.COMPANY, None


def determination_propose(*, order: WorkOrder) -> Determination | None:
    """认责 when a complaint closes, from the rules in force that day. Called inside the closing transaction (the
    workflow's archive step, an on-the-spot resolution, the historical import)."""
    if order.kind != Kind.COMPLAINT or order.closed_at is None:
        return None
    existing = Determination.objects.filter(order=order).first()
    if existing is not None:
        return existing
    determination, shares = _determination_build(order=order, now=timezone.now(), shares_for=_shares_from_rules)
    _clocks_into(determination, order)
    determination.save(force_insert=True)
    DeterminationShare.objects.bulk_create([
        DeterminationShare(determination=determination, department=department, share=share)
        for department, share in shares if department is not None
    ])
    _event(actor=None, action="proposed", determination=determination, cause=determination.cause,
           rule=determination.rule_id, shares=_shares_data(shares), late_holdings=determination.late_holdings,
           passes=determination.passes)
    if determination.buck_passing_proposed:
        _buck_passing_tell(determination)
    return determination


def _clocks_into(determination: Determination, order: WorkOrder) -> None:
    """What the department clocks say at close: the departments whose own clock ran late and their share of the
    working time the order was held; and, when the order was passed on more often than the policy allows, the
    department that passed it on most (a buck-passing deduction is proposed against it, ties: the latest)."""
    clocks = order_department_clocks(order=order)
    held = sum(clock.working_seconds_used for clock in clocks)
    late: dict[int, dict] = {}
    for clock in clocks:
        if clock.outcome == StageOutcome.LATE and clock.department is not None:
            row = late.setdefault(clock.department.pk, {"department": clock.department.pk,
                                                        "name": clock.department.name, "seconds": 0})
            row["seconds"] += clock.working_seconds_used
    for row in late.values():
        row["share"] = f"{row['seconds'] / held:.4f}" if held else "0"
    determination.late_holdings = list(late.values())
    determination.passes = order.transfer_count + order.return_count
    if determination.passes > AccountabilityPolicy.in_force().passes_allowed:
        # a department passed the order on when its handling was followed by another department's or a dispatch
        passers = Counter(clock.department for clock, after in zip(clocks, clocks[1:], strict=False)
                          if clock.stage == Stage.HANDLE and clock.department is not None
                          and after.stage in (Stage.HANDLE, Stage.DISPATCH))
        if passers:
            most = max(passers.values())
            determination.passed_on_by = next(dept for dept in reversed(list(passers)) if passers[dept] == most)


def _buck_passing_tell(determination: Determination) -> None:
    """Propose the buck-passing deduction to the complaint centre's leads of the order's region: they record it
    (or not) from the determination's page; nothing is deducted without them."""
    order = determination.order
    path = order.region.path
    leads = [user for user in User.objects.filter(
        is_active=True, groups__name=roles.LEAD, department__kind=Department.Kind.COMPLAINT_CENTRE,
    ).select_related("department__region") if path.startswith(user.department.region.path)]
    notify(
        recipients=leads, order=order, kind=Notification.Kind.ACCOUNTABILITY,
        comment=_("Passed between departments %(n)s times: a buck-passing deduction against %(department)s is "
                  "proposed (determination of %(order)s).") % {
            "n": determination.passes, "department": determination.passed_on_by.name, "order": order.number})


def _determination_build(*, order: WorkOrder, now, shares_for) -> tuple[Determination, list]:
    closed_on = timezone.localtime(order.closed_at).date()
    shares, cause, rule = shares_for(order, closed_on)
    historical = order.source == OrderSource.IMPORT
    determination = Determination(
        order=order, region_id=order.region_id, month=closed_on.replace(day=1), cause=cause, rule=rule,
        proposed_at=now, status=Determination.Status.FINAL if historical else Determination.Status.PROPOSED,
        appeal_due_at=now if historical else working_days_after(now, AccountabilityPolicy.in_force().appeal_working_days),
        final_at=now if historical else None,
    )
    return determination, shares


def determinations_propose_bulk(*, orders: list[WorkOrder], memo: dict | None = None) -> int:
    """determination_propose for a batch of newly imported closed complaints (none has one yet), in a few
    statements: each category's rules are read once (per `memo`, e.g. a whole import run)."""
    memo = {} if memo is None else memo
    rules_of: dict[int, list[ResponsibilityRule]] = memo.setdefault("rules_of", {})
    department_of: dict[int, Department | None] = memo.setdefault("department_of", {})

    def shares_for(order, on_date):
        # rule_for and _shares_from_rules, with each category's rules (every version) read once per batch.
        category = order.category
        if category.pk not in rules_of:
            codes = [code for code in category.path.strip("/").split("/") if code]
            rules_of[category.pk] = list(
                ResponsibilityRule.objects.filter(category__code__in=codes).select_related("category")
                .prefetch_related("shares__department").order_by("-category__level", "-effective_from"))
        rule = next((r for r in rules_of[category.pk] if r.is_in_force(on_date)), None)
        if rule is not None and rule.shares.all():
            return [(s.department, s.share) for s in rule.shares.all()], rule.cause, rule
        if category.pk not in department_of:
            department_of[category.pk] = category_responsible_department(category=category)
        department = (department_of[category.pk] or order.replied_department or order.first_responder_department)
        return [(department, Decimal("1"))], Cause.COMPANY, None

    now = timezone.now()
    built = [_determination_build(order=order, now=now, shares_for=shares_for)
             for order in orders if order.kind == Kind.COMPLAINT and order.closed_at is not None]
    if not built:
        return 0
    Determination.objects.bulk_create([d for d, _shares in built])
    DeterminationShare.objects.bulk_create([
        DeterminationShare(determination=d, department=department, share=share)
        for d, shares in built for department, share in shares if department is not None])
    AccountabilityEvent.objects.bulk_create([
        AccountabilityEvent.objects.build(determination=d, actor=None, action="proposed", system_name=_("system"),
                                          data={"cause": d.cause, "rule": d.rule_id, "shares": _shares_data(shares)})
        for d, shares in built])
    return len(built)


def month_close_start(*, actor, month: date):
    """Close an ended month in the background (jobs): its scores, notices and improvement orders. One close of a
    month at a time."""
    if not is_centre_or_quality(actor):
        raise PermissionDenied(_("Scores are computed by the complaint centre and the quality team."))
    month = month.replace(day=1)
    if month >= timezone.localdate().replace(day=1):
        raise ValidationError(_("Only a month that has ended is scored; this month's running score is on each "
                                "department's page."))
    if not Indicator.objects.filter(year=month.year).exists():
        raise ValidationError(_("No indicators are configured for %(year)s.") % {"year": month.year})
    from accountability.scoring import MonthArchived, month_archived  # local: scoring imports this module

    if month_archived(month):
        raise MonthArchived(month)
    return job_create(actor=actor, kind=Job.Kind.ACCOUNTABILITY_MONTH, key=f"{month:%Y-%m}",
                      title=_("Scores of %(month)s") % {"month": f"{month:%Y-%m}"}, params={"month": month.isoformat()})


def month_scores_recompute(*, actor, month: date, reason: str):
    """Compute an archived month's scores again (after a late order, an appeal decided late, a corrected rule):
    only by an administrator or a quality manager, with a reason; the record keeps who, when, why and every
    department's total before and after, in the same transaction as the new scores."""
    from accountability.scoring import month_archived, month_close  # local: scoring imports this module

    if not may_recompute_scores(actor):
        raise PermissionDenied(_("Archived scores are recomputed only by administrators and quality managers."))
    month = month.replace(day=1)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the archived scores are computed again.")]})
    if not month_archived(month):
        raise ValidationError({"month": [_("The scores of %(month)s are not archived yet: close the month on the "
                                           "ranking page.") % {"month": f"{month:%Y-%m}"}]})

    def totals():
        return {s.department.code: {"name": s.department.name, "total": str(s.total), "rank": s.rank}
                for s in MonthlyScore.objects.filter(month=month).select_related("department").order_by("rank")}

    with transaction.atomic():
        record = ScoreRecomputation.objects.create(
            month=month, reason=reason, actor=actor, actor_name=str(actor)[:64], recomputed_at=timezone.now(),
            old_totals=totals(), late_arrivals=late_arrivals(month=month).count())
        month_close(month=month, recomputation=record)
        record.new_totals = totals()
        record.save(update_fields=["new_totals"])
    log.info("scores of %s recomputed by %s: %s", f"{month:%Y-%m}", actor.get_username(), reason)
    return record


def _shares_data(shares) -> list[dict]:
    return [{"department": d.name if d else None, "department_id": d.pk if d else None, "share": str(s)}
            for d, s in shares]


# --- who may -------------------------------------------------------------------------------------------------


def _in_region(user, region_id: int) -> bool:
    return user.is_superuser or regions_visible_to(user).filter(pk=region_id).exists()


# --- the action tables (core.transitions) ---------------------------------------------------------------------
# Every accountability action is declared here as data: the pages offer what `available_actions` allows, and the
# services take the same checks through the runner. Accountability keeps its order and its error type: the actor is
# checked before the state (actor_first), and a state that does not allow the action is a ValidationError (HTTP
# 400), as its callers and tests have always had it, not the runner's 409.


def _status_refusal(message) -> Callable[[Any], str]:
    return lambda row: str(message) % {"status": row.get_status_display()}


CENTRE = Rule(lambda user, row: is_centre_staff(user),
              lambda row: _("Determinations and appeals are ruled on by the complaint centre."))
CENTRE_OF_REGION = Rule(lambda user, row: _in_region(user, _region_of(row)),
                        lambda row: _("This belongs to another city's complaint centre."))
ANSWERING_LEAD = Rule(lambda user, row: _lead_of(user, _answering_departments(row)),
                      lambda row: _("Only the lead of a department that answers for it may appeal."))
DEPARTMENT_LEAD = Rule(lambda user, row: is_lead_of(user, row.department_id),
                       lambda row: _("Only the department's lead may do this."))
APPEAL_WINDOW_OPEN = Rule(lambda row: timezone.now() < row.appeal_due_at,
                          lambda row: _("The appeal window closed on %(at)s.")
                          % {"at": f"{timezone.localtime(row.appeal_due_at):%Y-%m-%d %H:%M}"})


def _region_of(row) -> int:
    return row.department.region_id if isinstance(row, ImprovementOrder) else row.region_id


def _answering_departments(row) -> list[int]:
    if isinstance(row, Determination):
        return list(row.shares.values_list("department_id", flat=True))
    return [row.department_id]


def _in_status(statuses, message) -> Rule:
    return Rule(lambda row: row.status in statuses, _status_refusal(message))


DETERMINATION_ACTIONS = {
    "decide": ActionSpec(gettext_lazy("Complaint centre"), actor=(CENTRE, CENTRE_OF_REGION), state=(
        _in_status((Determination.Status.PROPOSED, Determination.Status.CONFIRMED),
                   gettext_lazy("The determination is “%(status)s”: it can no longer be changed here.")),)),
    "appeal": ActionSpec(gettext_lazy("Appeal"), actor=(ANSWERING_LEAD,), state=(
        _in_status((Determination.Status.PROPOSED, Determination.Status.CONFIRMED),
                   gettext_lazy("It is “%(status)s”: there is nothing to appeal now.")), APPEAL_WINDOW_OPEN)),
}
DEDUCTION_ACTIONS = {
    "appeal": ActionSpec(gettext_lazy("Appeal"), actor=(ANSWERING_LEAD,), state=(
        _in_status((Deduction.Status.RECORDED,), gettext_lazy("It is “%(status)s”: there is nothing to appeal now.")),
        APPEAL_WINDOW_OPEN)),
}
APPEAL_ACTIONS = {
    "decide": ActionSpec(gettext_lazy("Decide the appeal"), actor=(CENTRE, CENTRE_OF_REGION), state=(
        _in_status((Appeal.Status.PENDING,), gettext_lazy("The appeal was decided already (%(status)s).")),)),
}
NOTICE_ACTIONS = {
    "acknowledge": ActionSpec(gettext_lazy("Acknowledge"), actor=(DEPARTMENT_LEAD,), state=(
        Rule(lambda row: row.status != MonthlyNotice.Status.ACKNOWLEDGED,
             lambda row: _("The notice was acknowledged already.")),)),
}
IMPROVEMENT_ACTIONS = {
    "answer": ActionSpec(gettext_lazy("Answer"), actor=(DEPARTMENT_LEAD,), state=(
        _in_status((ImprovementOrder.Status.OPEN,),
                   gettext_lazy("The improvement order is “%(status)s”: it waits for no answer now.")),)),
    "review": ActionSpec(gettext_lazy("Review"), actor=(CENTRE, CENTRE_OF_REGION), state=(
        _in_status((ImprovementOrder.Status.ANSWERED,),
                   gettext_lazy("The improvement order is “%(status)s”: there is no answer to review.")),)),
}


def _audit_of(link: str):
    """The domain's writer: an accountability event on the row (its status is not stored: the action says it)."""
    def audit(row, *, actor, action, before, comment, **data):
        return _event(actor=actor, action=action, comment=comment, **{link: row}, **data)
    return audit


def _table(model, actions, *, related=(), link=None) -> Transitions:
    @contextmanager
    def lock(*, actor, obj):
        yield model.objects.select_for_update().select_related(*related).get(pk=obj.pk)

    def conflict(row, message):
        return ValidationError(message)

    def not_now(row, action):  # never reached: no action names steps, every state rule names its refusal
        return ValidationError(str(actions[action].state[0].refusal(row)))

    return Transitions(model=model, actions=actions, read=lambda row: row, lock=lock,
                       step_of=lambda row: row.status, status_of=lambda row: row.status,
                       not_now=not_now, conflict=conflict, actor_first=True,
                       audit=_audit_of(link) if link else (lambda row, **kwargs: None))


DETERMINATIONS = _table(Determination, DETERMINATION_ACTIONS, related=("order",), link="determination")
DEDUCTIONS = _table(Deduction, DEDUCTION_ACTIONS, link="deduction")
APPEALS = _table(Appeal, APPEAL_ACTIONS)
NOTICES = _table(MonthlyNotice, NOTICE_ACTIONS)
IMPROVEMENTS = _table(ImprovementOrder, IMPROVEMENT_ACTIONS, related=("department", "indicator"), link="improvement")


def _validated_shares(shares) -> list[tuple[Department, Decimal]]:
    errors = []
    cleaned, seen = [], set()
    for department, share in shares:
        if not isinstance(department, Department) or department.kind not in (
                Department.Kind.BACK_OFFICE, Department.Kind.FRONTLINE, Department.Kind.COMPLAINT_CENTRE):
            errors.append(_("Choose a department for every share."))
            continue
        share = Decimal(share)
        if not Decimal("0") < share <= Decimal("1"):
            errors.append(_("A share lies between 0 and 1 (%(department)s: %(share)s).")
                          % {"department": department.name, "share": share})
        if department.pk in seen:
            errors.append(_("%(department)s is named twice.") % {"department": department.name})
        seen.add(department.pk)
        cleaned.append((department, share))
    if not cleaned:
        errors.append(_("Name at least one responsible department."))
    elif sum(s for _d, s in cleaned) != Decimal("1"):
        errors.append(_("The shares add up to %(total)s; they must add up to 1.")
                      % {"total": sum(s for _d, s in cleaned)})
    if errors:
        raise ValidationError({"shares": errors})
    return cleaned


def _locked_determination(determination: Determination) -> Determination:
    return Determination.objects.select_for_update().select_related("order").get(pk=determination.pk)


def _replace_shares(determination: Determination, shares) -> None:
    determination.shares.all().delete()
    DeterminationShare.objects.bulk_create([DeterminationShare(determination=determination, department=d, share=s)
                                            for d, s in shares])


def determination_decide(*, actor, determination: Determination, cause: str | None = None, shares=None,
                         reason: str = "") -> Determination:
    """The complaint centre confirms the proposal (no change) or changes the department(s), shares or cause with a
    reason; a change gives the departments a new appeal window."""
    reason = (reason or "").strip()
    changed = cause is not None or shares is not None
    if cause is not None and cause not in Cause.values:
        raise ValidationError({"cause": [_("Choose one of: %(values)s.") % {"values": ", ".join(Cause.values)}]})
    if changed and not reason:
        raise ValidationError({"reason": [_("Say why the determination is changed.")]})
    cleaned = _validated_shares(shares) if shares is not None else None
    with DETERMINATIONS.transition("decide", actor=actor, obj=determination) as step:
        locked = step.ctx
        before = {"cause": locked.cause, "shares": _current_shares(locked)}
        now = timezone.now()
        if cause is not None:
            locked.cause = cause
        if cleaned is not None:
            _replace_shares(locked, cleaned)
        if changed:
            # the rules the determination was proposed under
            policy = AccountabilityPolicy.in_force(on=timezone.localdate(locked.proposed_at))
            locked.appeal_due_at = working_days_after(now, policy.appeal_working_days)
            locked.reason = reason
        locked.status = Determination.Status.CONFIRMED
        locked.decided_by, locked.decided_at = actor, now
        locked.save(update_fields=["cause", "appeal_due_at", "reason", "status", "decided_by", "decided_at"])
        _event(actor=actor, action="changed" if changed else "confirmed", determination=locked, comment=reason,
               before=before, after={"cause": locked.cause, "shares": _current_shares(locked)})
        return locked


def _current_shares(determination: Determination) -> list[dict]:
    return [{"department": s.department.name, "department_id": s.department_id, "share": str(s.share)}
            for s in determination.shares.select_related("department")]


def _lead_of(actor, department_ids) -> bool:
    return has_role(actor, roles.LEAD) and actor.department_id in set(department_ids)


def appeal_file(*, actor, reason: str, evidence: str, determination: Determination | None = None,
                deduction: Deduction | None = None) -> Appeal:
    """申诉 by the lead of a department that answers for it, within the appeal window, with evidence."""
    reason, evidence = (reason or "").strip(), (evidence or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = [_("Say why the department should not answer for this.")]
    if not evidence:
        errors["evidence"] = [_("Give the evidence (what shows it).")]
    if errors:
        raise ValidationError(errors)
    table, row = (DETERMINATIONS, determination) if determination is not None else (DEDUCTIONS, deduction)
    with table.transition("appeal", actor=actor, obj=row) as step:
        target = step.ctx
        appeal = Appeal.objects.create(determination=determination and target, deduction=deduction and target,
                                       department=actor.department, region_id=target.region_id, filed_by=actor,
                                       reason=reason, evidence=evidence)
        target.status = Determination.Status.APPEALED if determination is not None else Deduction.Status.APPEALED
        target.save(update_fields=["status"])
        step.record("appealed", comment=reason, evidence=evidence, appeal=appeal.pk)
        return appeal


def appeal_decide(*, actor, appeal: Appeal, uphold: bool, reason: str, cause: str | None = None,
                  shares=None) -> Appeal:
    """The complaint centre upholds the original (it stands, now final) or overturns it: a determination gets the
    new department(s), shares or cause; a deduction is cancelled. Either way with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the appeal is decided so.")]})
    if cause is not None and cause not in Cause.values:
        raise ValidationError({"cause": [_("Choose one of: %(values)s.") % {"values": ", ".join(Cause.values)}]})
    with APPEALS.transition("decide", actor=actor, obj=appeal) as step:
        locked = step.ctx
        now = timezone.now()
        locked.status = Appeal.Status.UPHELD if uphold else Appeal.Status.OVERTURNED
        locked.decided_by, locked.decided_at, locked.decision_reason = actor, now, reason
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        if locked.determination_id:
            target = _locked_determination(locked.determination)
            before = {"cause": target.cause, "shares": _current_shares(target)}
            if not uphold:
                if cause is None and shares is None:
                    raise ValidationError({"shares": [_("Overturning needs the new department(s) or cause.")]})
                if shares is not None:
                    _replace_shares(target, _validated_shares(shares))
                if cause is not None:
                    target.cause = cause
            target.status, target.final_at = Determination.Status.FINAL, now
            target.decided_by, target.decided_at = actor, now
            target.save(update_fields=["cause", "status", "final_at", "decided_by", "decided_at"])
            _event(actor=actor, action="appeal_upheld" if uphold else "appeal_overturned", determination=target,
                   comment=reason, appeal=locked.pk, before=before,
                   after={"cause": target.cause, "shares": _current_shares(target)})
        else:
            target = Deduction.objects.select_for_update().get(pk=locked.deduction_id)
            target.status = Deduction.Status.FINAL if uphold else Deduction.Status.CANCELLED
            target.save(update_fields=["status"])
            _event(actor=actor, action="appeal_upheld" if uphold else "appeal_overturned", deduction=target,
                   comment=reason, appeal=locked.pk)
        return locked


def deduction_record(*, actor, item: DeductionItem, department: Department, month: date, evidence: str,
                     person: User | None = None, order: WorkOrder | None = None, summary: str = "") -> Deduction:
    """扣分: a deduction against a department (and a person where it applies), with evidence; a major incident also
    leaves an accountability record (问责)."""
    evidence = (evidence or "").strip()
    errors = {}
    if not evidence:
        errors["evidence"] = [_("Give the evidence.")]
    if item.year != month.year:
        errors["item"] = [_("%(item)s is an item of %(year)s, not of the month's year.")
                          % {"item": item.name, "year": item.year}]
    if person is not None and person.department_id != department.pk:
        errors["person"] = [_("%(person)s is not in %(department)s.") % {"person": person,
                                                                         "department": department.name}]
    if item.major and not (summary or "").strip():
        errors["summary"] = [_("A major incident needs a summary for its accountability record.")]
    if errors:
        raise ValidationError(errors)
    if not is_centre_or_quality(actor):
        raise PermissionDenied(_("Deductions are recorded by the complaint centre and the quality team."))
    region_id = order.region_id if order is not None else department.region_id
    if not _in_region(actor, region_id):
        raise PermissionDenied(_("This belongs to another city."))
    now = timezone.now()
    with transaction.atomic():
        deduction = Deduction.objects.create(
            item=item, department=department, person=person, order=order, region_id=region_id,
            month=month.replace(day=1), points=item.points, evidence=evidence, recorded_by=actor, recorded_at=now,
            appeal_due_at=working_days_after(now, AccountabilityPolicy.in_force().appeal_working_days))
        if item.major:
            AccountabilityRecord.objects.create(deduction=deduction, summary=summary.strip())
        _event(actor=actor, action="recorded", deduction=deduction, comment=evidence, points=str(item.points))
        return deduction


# A determination is final from the moment its appeal window closed; a deduction just leaves the recorded ones.
_APPEAL_CLOSED = Point("appeal_due_at", "final_at")
_APPEAL_ENDS = Point("appeal_due_at", None)


def accountability_finalise_due(*, now: datetime | None = None) -> int:
    """Determinations and deductions whose appeal window has passed without an appeal become final, determinations
    stamped with the moment the window closed."""
    now = now or timezone.now()

    def finalise(rows):
        Determination.objects.filter(pk__in=[row.pk for row in rows]).update(status=Determination.Status.FINAL)

    def finalise_deductions(rows):
        Deduction.objects.filter(pk__in=[row.pk for row in rows]).update(status=Deduction.Status.FINAL)

    pending = Determination.objects.filter(status__in=[Determination.Status.PROPOSED, Determination.Status.CONFIRMED])
    recorded = Deduction.objects.filter(status=Deduction.Status.RECORDED)
    return (sweep_all(pending.only("pk", "appeal_due_at"), _APPEAL_CLOSED, now=now, limit=5000, record=finalise)
            + sweep_all(recorded.only("pk", "appeal_due_at"), _APPEAL_ENDS, now=now, limit=5000,
                        record=finalise_deductions))


# --- notices and improvement orders ------------------------------------------------------------------------


def improvement_event(*, improvement, action: str, **data) -> AccountabilityEvent:
    """A step of an improvement order taken by the monthly cycle (opened, closed by itself)."""
    return _event(actor=None, action=action, improvement=improvement, **data)


def notice_acknowledge(*, actor, notice, comment: str = ""):
    with NOTICES.transition("acknowledge", actor=actor, obj=notice) as step:
        locked = step.ctx
        locked.status = MonthlyNotice.Status.ACKNOWLEDGED
        locked.acknowledged_by, locked.acknowledged_at = actor, timezone.now()
        locked.comment = (comment or "").strip()
        locked.save(update_fields=["status", "acknowledged_by", "acknowledged_at", "comment"])
        return locked


def improvement_answer(*, actor, improvement, cause_analysis: str, measures: str):
    """The department's answer: why the indicator fell short and what it does about it."""

    cause_analysis, measures = (cause_analysis or "").strip(), (measures or "").strip()
    errors = {}
    if not cause_analysis:
        errors["cause_analysis"] = [_("Analyse the cause.")]
    if not measures:
        errors["measures"] = [_("Say what the department will do.")]
    if errors:
        raise ValidationError(errors)
    with IMPROVEMENTS.transition("answer", actor=actor, obj=improvement) as step:
        locked = step.ctx
        locked.cause_analysis, locked.measures = cause_analysis, measures
        locked.answered_by, locked.answered_at = actor, timezone.now()
        locked.status = ImprovementOrder.Status.ANSWERED
        locked.save(update_fields=["cause_analysis", "measures", "answered_by", "answered_at", "status"])
        step.record(AccountabilityEvent.Action.IMPROVEMENT_ANSWERED, cause_analysis=cause_analysis, measures=measures)
        return locked


def improvement_review(*, actor, improvement, accept: bool, reason: str = ""):
    """The complaint centre accepts the measures (the order then waits for the indicator to recover) or returns
    the answer with a reason and a new deadline."""
    reason = (reason or "").strip()
    if not accept and not reason:
        raise ValidationError({"reason": [_("Say why the answer is returned.")]})
    with IMPROVEMENTS.transition("review", actor=actor, obj=improvement) as step:
        locked = step.ctx
        now = timezone.now()
        locked.reviewed_by, locked.reviewed_at, locked.review_reason = actor, now, reason
        fields = ["reviewed_by", "reviewed_at", "review_reason", "status"]
        if accept:
            locked.status = ImprovementOrder.Status.ACCEPTED
            step.record(AccountabilityEvent.Action.IMPROVEMENT_ACCEPTED, comment=reason)
        else:
            from accountability.scoring import _warn_point  # local: scoring imports this module

            policy = AccountabilityPolicy.in_force(on=timezone.localdate(locked.opened_at))  # as when opened
            locked.status = ImprovementOrder.Status.OPEN
            locked.due_at = working_days_after(now, policy.improvement_answer_working_days)
            locked.warn_at = _warn_point(now, locked.due_at, policy)
            locked.warned_at = locked.overdue_at = None
            fields += ["due_at", "warn_at", "warned_at", "overdue_at"]
            step.record(AccountabilityEvent.Action.IMPROVEMENT_RETURNED, comment=reason,
                        due_at=locked.due_at.isoformat())
        locked.save(update_fields=fields)
        step.notify(leads_notify, department=locked.department, kind="improvement", actor=actor, comment=reason,
                     subject=(_("Improvement measures accepted: %(indicator)s") if accept
                              else _("Improvement answer returned: %(indicator)s")) % {"indicator": locked.indicator.name},
                     link=f"/accountability/improvements/{locked.pk}/")
        return locked


def accountability_sweep(*, now: datetime | None = None) -> dict:
    """Notices and improvement orders past their warning point or deadline (stamped with the real moment, told to
    the department's leads once), and appeal windows that have closed. Idempotent."""
    now = now or timezone.now()
    counts = {"warned": 0, "overdue": 0, "finalised": accountability_finalise_due(now=now)}
    for model, label, link in ((MonthlyNotice, _("Monthly notice %(what)s"), "/accountability/notices/%s/"),
                               (ImprovementOrder, _("Improvement order %(what)s"), "/accountability/improvements/%s/")):
        open_status, kind = ("sent", "notice") if model is MonthlyNotice else ("open", "improvement")
        for point, word, key in ((WARNING, _("due soon"), "warned"), (OVERDUE, _("overdue"), "overdue")):
            counts[key] += sweep_all(model.objects.filter(status=open_status).select_related("department"), point,
                                     now=now, limit=1000,
                                     notify=partial(_leads_tell, kind=kind, subject=label, word=word, link=link))
    return counts


def _leads_tell(rows, *, kind: str, subject: str, word: str, link: str) -> None:
    for row in rows:
        leads_notify(department=row.department, kind=kind, subject=subject % {"what": f"{word}: {row}"},
                     link=link % row.pk)


# --- targets by month ---------------------------------------------------------------------------------------


def target_field(indicator_id: int, month: int) -> str:
    """The name of a month's cell of an indicator on the targets page (and the key of its errors)."""
    return f"t-{indicator_id}-{month}"


def indicator_targets_set(*, actor, department: Department, year: int,
                          steps: dict[tuple[int, int], Decimal | None]) -> int:
    """A department's target steps of a year's indicators: steps[(indicator id, month 1–12)] is the target in
    force from that month on (until the next step), None for no step there (the month keeps the one before; before
    the first step, the indicator's yearly default). Every value is checked before anything is written; each change
    is recorded with its old and new value and the actor. Returns how many steps changed."""
    if not is_quality(actor):
        raise PermissionDenied(_("Targets are set by the quality team."))
    if not _in_region(actor, department.region_id):
        raise PermissionDenied(_("This belongs to another city."))
    indicators = {i.pk: i for i in Indicator.objects.filter(year=year)}
    errors: dict[str, list[str]] = {}
    for (indicator_id, month), value in steps.items():
        key, indicator = target_field(indicator_id, month), indicators.get(indicator_id)
        if indicator is None or not 1 <= month <= 12:
            errors[key] = [_("Not an indicator of %(year)s.") % {"year": year}]
        elif value is not None and value < 0:
            errors[key] = [_("A target cannot be negative.")]
        elif value is not None and indicator.is_rate and value > 100:
            errors[key] = [_("%(indicator)s is a rate: at most 100.") % {"indicator": indicator.name}]
    if errors:
        raise ValidationError(errors)
    now, name = timezone.now(), str(actor)[:150]
    with transaction.atomic():
        existing = {(t.indicator_id, t.from_month.month): t for t in IndicatorTarget.objects.select_for_update()
                    .filter(department=department, indicator_id__in=list(indicators), from_month__year=year)}
        changes = []
        for (indicator_id, month), value in sorted(steps.items()):
            current = existing.get((indicator_id, month))
            old = current.target if current is not None else None
            if old == value:
                continue
            from_month = date(year, month, 1)
            if value is None:
                current.delete()
            elif current is None:
                IndicatorTarget.objects.create(indicator_id=indicator_id, department=department,
                                               from_month=from_month, target=value)
            else:
                current.target = value
                current.save(update_fields=["target"])
            changes.append(IndicatorTargetChange(
                indicator_id=indicator_id, department=department, from_month=from_month, old_target=old,
                new_target=value, changed_by=actor if actor.pk else None, changed_by_name=name, changed_at=now))
        IndicatorTargetChange.objects.bulk_create(changes)
    return len(changes)
