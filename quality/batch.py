"""Early warning (监控 → 预警 → 行动): batch-complaint detection, incidents and bulletins.

Detection (Celery beat, every minute; `manage.py batch_detect`) counts the complaints received in the last
`window_minutes` per category (folded to the policy's level) × region (city or county), and per cell/area where
orders carry one, and compares each slice with its baseline: the mean count of the same window on the same weekday
of the weeks before. Only the orders of those few windows are read (through the index on received_at), never the
whole table. A slice at or above `min_count` and `min_ratio` × baseline raises an alert — one per slice while it is
live: running the detector again, or twice at once (a lease row lets one run at a time), updates the alert instead
of raising another. Its level rises with the complaints counted since the first one (orange, red); a dispatcher may
raise it by hand (media or government attention). An unconfirmed alert lapses after `quiet_minutes` below the
threshold.

An incident is opened from an alert (or by hand) by a dispatcher: the slice's open complaints and every new
matching one (at intake) wait on it in its department; resolving it answers them all, and each customer still gets
their own callback. It has its own time limits: the department's first feedback, and the expected recovery.
"""

from __future__ import annotations

import datetime
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from complaints.models import Category, Kind, OrderStatus, WorkOrder
from complaints.selectors import category_responsible_department, regions_visible_to
from core.memo import cached_for
from core.permissions import is_dispatcher, is_lead_of, is_member_of, is_staff_of
from core.timed import Point, sweep_all
from core.transitions import ActionSpec, Rule, Transitions
from org import roles
from org.models import Department, Region, User
from quality.kpis import Context
from quality.models import (
    LEVEL_ORDER,
    BatchAlert,
    BatchPolicy,
    Bulletin,
    DetectorState,
    Incident,
    WarningLevel,
)
from workflow.models import Notification
from workflow.notifications import leads_notify, notify_about
from workflow.services import ActionNotPossible, order_answer_from_incident, order_attach_incident

log = logging.getLogger(__name__)


# --- detection ---------------------------------------------------------------------------------------------


SliceKey = tuple[int, int, str]  # category node, region node, area ('' for the region as a whole)


@dataclass
class SliceCount:
    count: int = 0
    first_at: datetime.datetime | None = None


def _window_counts(start, end, *, policy: BatchPolicy, ctx: Context) -> dict[SliceKey, SliceCount]:
    """Complaints received in [start, end) per slice: one grouped query over the window's rows."""
    rows = (WorkOrder.objects.filter(received_at__gte=start, received_at__lt=end, kind=Kind.COMPLAINT)
            .order_by().values("category_id", "region_id", "area").annotate(n=Count("id"), first=Min("received_at")))
    out: dict[SliceKey, SliceCount] = {}
    for row in rows:
        category = ctx.categories.ancestor_at(row["category_id"], policy.category_level)
        region = ctx.regions.ancestor_at(row["region_id"], policy.region_level)
        keys = [(category, region, "")]
        if row["area"]:
            keys.append((category, region, row["area"]))
        for key in keys:
            item = out.setdefault(key, SliceCount())
            item.count += row["n"]
            item.first_at = row["first"] if item.first_at is None else min(item.first_at, row["first"])
    return out


def _baselines(start, end, *, policy: BatchPolicy, ctx: Context) -> dict[SliceKey, float]:
    """The mean count of the same window on the same weekday of the baseline weeks."""
    totals: dict[SliceKey, float] = {}
    for week in range(1, policy.baseline_weeks + 1):
        shift = datetime.timedelta(weeks=week)
        for key, item in _window_counts(start - shift, end - shift, policy=policy, ctx=ctx).items():
            totals[key] = totals.get(key, 0.0) + item.count
    return {key: total / policy.baseline_weeks for key, total in totals.items()}


def _slice_orders(key: SliceKey, *, ctx: Context):
    category, region, area = key
    qs = WorkOrder.objects.filter(kind=Kind.COMPLAINT, category_id__in=ctx.categories.subtree(category),
                                  region_id__in=ctx.regions.subtree(region))
    return qs.filter(area=area) if area else qs


def _crossing_time(key: SliceKey, start, *, need: int, ctx: Context) -> datetime.datetime:
    """When the complaint that brought the window to the threshold was received."""
    received = (_slice_orders(key, ctx=ctx).filter(received_at__gte=start).order_by("received_at")
                .values_list("received_at", flat=True)[need - 1:need])
    return received[0] if received else timezone.now()


def _level_for(total: int, policy: BatchPolicy, current: str = WarningLevel.YELLOW) -> str:
    level = WarningLevel.YELLOW
    if total >= policy.red_count:
        level = WarningLevel.RED
    elif total >= policy.orange_count:
        level = WarningLevel.ORANGE
    return level if LEVEL_ORDER[level] >= LEVEL_ORDER[current] else current


@dataclass
class DetectReport:
    raised: list[BatchAlert] = field(default_factory=list)
    rose: list[BatchAlert] = field(default_factory=list)
    lapsed: int = 0
    slices: int = 0
    skipped: bool = False

    def __str__(self):
        return (f"{len(self.raised)} raised, {len(self.rose)} rose, {self.lapsed} lapsed over {self.slices} slices"
                + (" (another detector was running)" if self.skipped else ""))


def batch_detect(*, now: datetime.datetime | None = None) -> DetectReport:
    now = now or timezone.now()
    policy = BatchPolicy.in_force(on=timezone.localdate(now))
    ctx = Context()
    report = DetectReport()
    window = datetime.timedelta(minutes=policy.window_minutes)
    start = now - window
    with transaction.atomic():
        DetectorState.objects.get_or_create(pk=1)
        state = DetectorState.objects.select_for_update(skip_locked=True).filter(pk=1).first()
        if state is None:
            report.skipped = True
            return report
        DetectorState.objects.filter(pk=1).update(ran_at=now)  # SQLite: takes the write lock now
        counts = _window_counts(start, now, policy=policy, ctx=ctx)
        report.slices = len(counts)
        live = {(a.category_id, a.region_id, a.area): a for a in
                BatchAlert.objects.select_for_update().filter(status__in=[BatchAlert.Status.OPEN,
                                                                         BatchAlert.Status.CONFIRMED])}
        candidates = [key for key, item in counts.items() if item.count >= policy.min_count or key in live]
        baselines = _baselines(start, now, policy=policy, ctx=ctx) if candidates else {}
        for key in candidates:
            item = counts.get(key, SliceCount())
            baseline = baselines.get(key, 0.0)
            passes = item.count >= policy.min_count and item.count >= float(policy.min_ratio) * max(baseline, 1.0)
            alert = live.get(key)
            if alert is None:
                if passes:
                    report.raised.append(_raise(key, item, baseline, now=now, start=start, policy=policy, ctx=ctx))
                continue
            _update(alert, item, baseline, passes, now=now, policy=policy, ctx=ctx, report=report)
        for key, alert in live.items():  # live alerts whose slice had nothing at all in the window
            if key not in counts and alert.status == BatchAlert.Status.OPEN:
                _update(alert, SliceCount(), baselines.get(key, 0.0), False, now=now, policy=policy, ctx=ctx,
                        report=report)
    for alert in report.raised:
        _tell(alert, _("Batch-complaint alert: %(alert)s") % {"alert": alert})
    for alert in report.rose:
        _tell(alert, _("Batch-complaint alert raised to %(level)s: %(alert)s")
              % {"level": alert.get_level_display(), "alert": alert})
    return report


def _raise(key: SliceKey, item: SliceCount, baseline: float, *, now, start, policy, ctx) -> BatchAlert:
    category, region, area = key
    need = max(policy.min_count, int(float(policy.min_ratio) * max(baseline, 1.0) + 0.999))
    total = _slice_orders(key, ctx=ctx).filter(received_at__gte=item.first_at).count()
    return BatchAlert.objects.create(
        category_id=category, region_id=region, area=area, level=_level_for(total, policy),
        window_count=item.count, total_count=total, baseline=Decimal(str(round(baseline, 2))),
        first_order_at=item.first_at, crossed_at=_crossing_time(key, start, need=need, ctx=ctx), raised_at=now,
        level_raised_at=now, checked_at=now)


def _update(alert: BatchAlert, item: SliceCount, baseline: float, passes: bool, *, now, policy, ctx,
            report: DetectReport) -> None:
    key = (alert.category_id, alert.region_id, alert.area)
    total = _slice_orders(key, ctx=ctx).filter(received_at__gte=alert.first_order_at).count()
    level = _level_for(total, policy, alert.level)
    fields = ["window_count", "total_count", "baseline", "checked_at", "below_since"]
    alert.window_count, alert.total_count, alert.checked_at = item.count, total, now
    alert.baseline = Decimal(str(round(baseline, 2)))
    if passes:
        alert.below_since = None
    elif alert.below_since is None:
        alert.below_since = now
    if level != alert.level:
        alert.level, alert.level_raised_at = level, now
        fields += ["level", "level_raised_at"]
        report.rose.append(alert)
        if alert.incident_id:
            Incident.objects.filter(pk=alert.incident_id).exclude(level=level).update(level=level)
    lapsed = (alert.status == BatchAlert.Status.OPEN and alert.below_since is not None
              and now - alert.below_since >= datetime.timedelta(minutes=policy.quiet_minutes))
    if lapsed:
        alert.status = BatchAlert.Status.LAPSED
        fields.append("status")
        report.lapsed += 1
    alert.save(update_fields=fields)


def _dispatchers_for(region_id: int) -> list[User]:
    region = Region.objects.get(pk=region_id)
    codes = [c for c in region.path.strip("/").split("/") if c]
    return list(User.objects.filter(is_active=True, groups__name=roles.DISPATCHER,
                                    department__region__code__in=codes))


def _tell(alert: BatchAlert, subject: str) -> None:
    recipients = _dispatchers_for(alert.region_id)
    department = category_responsible_department(category=alert.category)
    if department is not None:
        recipients += list(User.objects.filter(is_active=True, department=department, groups__name=roles.LEAD))
    notify_about(recipients=recipients, kind=Notification.Kind.ESCALATED, subject=subject,
                 link=f"/early-warning/alerts/{alert.pk}/",
                 comment=_("%(count)s complaints in the window (baseline %(baseline)s); %(total)s since %(first)s.")
                 % {"count": alert.window_count, "baseline": alert.baseline, "total": alert.total_count,
                    "first": f"{timezone.localtime(alert.first_order_at):%m-%d %H:%M}"})


# --- who may -----------------------------------------------------------------------------------------------


def _require_dispatcher_of(actor, region: Region) -> None:
    if not is_dispatcher(actor):
        raise PermissionDenied(_("Alerts and incidents are handled by dispatchers of the complaint centre."))
    if not actor.is_superuser and not regions_visible_to(actor).filter(pk=region.pk).exists():
        raise PermissionDenied(_("This belongs to another city's complaint centre."))


def alert_dismiss(*, actor, alert: BatchAlert, reason: str) -> BatchAlert:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the alert is not an incident.")]})
    with transaction.atomic():
        locked = BatchAlert.objects.select_for_update().get(pk=alert.pk)
        _require_dispatcher_of(actor, locked.region)
        if locked.status != BatchAlert.Status.OPEN:
            raise ValidationError(_("The alert is “%(status)s” already.") % {"status": locked.get_status_display()})
        locked.status, locked.closed_by, locked.closed_reason = BatchAlert.Status.DISMISSED, actor, reason
        locked.save(update_fields=["status", "closed_by", "closed_reason"])
        return locked


def alert_raise_level(*, actor, alert: BatchAlert, level: str, reason: str) -> BatchAlert:
    """Media or government attention: a dispatcher raises the level by hand (never lowers it)."""
    reason = (reason or "").strip()
    if level not in WarningLevel.values:
        raise ValidationError({"level": [_("Choose yellow, orange or red.")]})
    if not reason:
        raise ValidationError({"reason": [_("Say why the level is raised.")]})
    with transaction.atomic():
        locked = BatchAlert.objects.select_for_update().get(pk=alert.pk)
        _require_dispatcher_of(actor, locked.region)
        if LEVEL_ORDER[level] <= LEVEL_ORDER[locked.level]:
            raise ValidationError({"level": [_("The alert is %(level)s already.") % {
                "level": locked.get_level_display()}]})
        locked.level, locked.level_raised_at, locked.closed_reason = level, timezone.now(), reason
        locked.save(update_fields=["level", "level_raised_at", "closed_reason"])
        if locked.incident_id:
            Incident.objects.filter(pk=locked.incident_id).update(level=level)
    _tell(locked, _("Batch-complaint alert raised to %(level)s: %(alert)s") % {
        "level": locked.get_level_display(), "alert": locked})
    return locked


# --- incidents -------------------------------------------------------------------------------------------


def _feedback_deadlines(opened_at, policy: BatchPolicy):
    due = opened_at + datetime.timedelta(minutes=policy.feedback_minutes)
    warn = opened_at + datetime.timedelta(minutes=policy.feedback_minutes * policy.warn_percent / 100)
    return due, warn


def incident_open(*, actor, title: str, department: Department, category: Category, region: Region,
                  expected_recovery_at: datetime.datetime, cause: str = "", services: str = "", area: str = "",
                  alert: BatchAlert | None = None, started_at: datetime.datetime | None = None) -> Incident:
    """A dispatcher confirms an alert as an incident (or opens one by hand). Its open matching complaints are
    attached to it at once (in batches, after commit)."""
    title = (title or "").strip()
    errors = {}
    now = timezone.now()
    if not title:
        errors["title"] = [_("Give the incident a title.")]
    if not isinstance(department, Department) or department.kind != Department.Kind.BACK_OFFICE:
        errors["department"] = [_("Choose the responsible back-office department.")]
    if not isinstance(expected_recovery_at, datetime.datetime) or expected_recovery_at <= now:
        errors["expected_recovery_at"] = [_("The expected recovery lies in the future.")]
    if errors:
        raise ValidationError(errors)
    _require_dispatcher_of(actor, region)
    policy = BatchPolicy.in_force()
    due, warn = _feedback_deadlines(now, policy)
    with transaction.atomic():
        if alert is not None:
            alert = BatchAlert.objects.select_for_update().get(pk=alert.pk)
            if alert.status != BatchAlert.Status.OPEN:
                raise ValidationError(_("The alert is “%(status)s” already.") % {"status": alert.get_status_display()})
        incident = Incident.objects.create(
            title=title, cause=(cause or "").strip(), department=department, category=category, region=region,
            area=(area or "").strip(), services=(services or "").strip(), opened_by=actor, opened_at=now,
            level=alert.level if alert else WarningLevel.YELLOW, started_at=started_at or (
                alert.first_order_at if alert else now),
            expected_recovery_at=expected_recovery_at, feedback_due_at=due, feedback_warn_at=warn)
        if alert is not None:
            alert.status, alert.incident = BatchAlert.Status.CONFIRMED, incident
            alert.save(update_fields=["status", "incident"])
        transaction.on_commit(lambda: _attach_later(incident.pk))
    leads_notify(department=department, kind="accountability", actor=actor,
                 subject=_("Batch-complaint incident for your department: %(title)s") % {"title": title},
                 link=f"/early-warning/incidents/{incident.pk}/")
    return incident


def _attach_later(incident_id: int) -> None:
    from quality.tasks import incident_attach  # local: quality.tasks imports this module

    try:
        incident_attach.apply_async(args=[incident_id], retry=False)
    except Exception:  # the broker is down: the sweep attaches them
        log.warning("Could not queue attaching orders to incident %s; the sweep will.", incident_id, exc_info=True)


def incident_matching_orders(incident: Incident):
    """The open complaints the incident covers (category and region subtrees, the area when it has one), received
    since the fault began, not yet attached."""
    ctx = Context()
    qs = WorkOrder.objects.filter(
        kind=Kind.COMPLAINT, received_at__gte=incident.started_at, incident__isnull=True,
        status__in=[OrderStatus.NEW, OrderStatus.QUEUED, OrderStatus.IN_PROGRESS],
        category_id__in=ctx.categories.subtree(incident.category_id),
        region_id__in=ctx.regions.subtree(incident.region_id))
    return qs.filter(area=incident.area) if incident.area else qs


def incident_attach_open_orders(*, incident_id: int, batch: int = 200) -> int:
    """Attach the incident's open matching complaints, batch by batch (safe to run twice)."""
    incident = Incident.objects.get(pk=incident_id)
    attached, passed_over = 0, set()
    while incident.is_open:
        ids = list(incident_matching_orders(incident).exclude(pk__in=passed_over).order_by("received_at")
                   .values_list("pk", flat=True)[:batch])
        if not ids:
            break
        for order in WorkOrder.objects.filter(pk__in=ids):
            try:
                order_attach_incident(actor=None, order=order, incident=incident)
                attached += 1
            except (ActionNotPossible, ValidationError):
                passed_over.add(order.pk)  # it moved on meanwhile (claimed and waiting, say): leave it
        incident.refresh_from_db()
    return attached


# Every intake asks whether an open incident takes the new complaint; incidents are few and change rarely, so the
# open ones are kept per process: a change takes effect at once in the process that made it, within this many
# seconds in the others (a complaint received meanwhile is handled on its own, as before the incident opened).
OPEN_INCIDENTS_MEMO_SECONDS = 10


@cached_for(OPEN_INCIDENTS_MEMO_SECONDS, invalidated_by=(Incident,))
def _open_incidents() -> list[tuple]:
    """(pk, category code, region code, area, started_at) of the open incidents, the latest opened first."""
    return list(Incident.objects.filter(status=Incident.Status.OPEN).order_by("-opened_at", "-pk")
                .values_list("pk", "category__code", "region__code", "area", "started_at"))


def incident_for_new_order(order: WorkOrder) -> Incident | None:
    """The open incident a newly received complaint belongs to, if any (checked at intake): its category and
    region cover the order's, its area is the order's or none, and the fault began before the complaint."""
    if order.kind != Kind.COMPLAINT:
        return None
    category_codes = {c for c in order.category.path.strip("/").split("/") if c}
    region_codes = {c for c in order.region.path.strip("/").split("/") if c}
    for pk, category, region, area, started_at in _open_incidents():
        if (category in category_codes and region in region_codes and started_at <= order.received_at
                and area in ("", order.area)):
            found = (Incident.objects.select_related("department")  # still open: read afresh, its department too
                     .filter(pk=pk, status=Incident.Status.OPEN).first())
            if found is not None:
                return found
    return None


# The incident's actions, declared as data (core.transitions): the incident page offers what the table allows.
# Like accountability, incidents keep their order and error type: the actor first, then the state, refused with a
# ValidationError (HTTP 400) as the page and its tests have it. Attaching and detaching orders are the order's
# actions (workflow.services.ORDER_ACTIONS "attach", "detach"); bulletins have no steps (published or withdrawn).
DEPARTMENT_OR_CENTRE = Rule(
    lambda user, incident: is_dispatcher(user) or is_staff_of(user, incident.department_id),
    lambda incident: _("Only the responsible department (or the complaint centre) may do this."))
LEAD_OR_CENTRE = Rule(
    lambda user, incident: is_lead_of(user, incident.department_id) or is_dispatcher(user),
    lambda incident: _("The responsible department's lead (or the complaint centre) resolves it."))
INCIDENT_ACTIONS = {
    "feedback": ActionSpec(gettext_lazy("Feedback"), actor=(DEPARTMENT_OR_CENTRE,),
                           state=(Rule(lambda incident: incident.is_open, lambda incident: _("The incident is resolved.")),)),
    "resolve": ActionSpec(gettext_lazy("Resolve"), actor=(LEAD_OR_CENTRE,), state=(
        Rule(lambda incident: incident.is_open, lambda incident: _("The incident is resolved already.")),)),
}


@contextmanager
def _locked_incident(*, actor, obj: Incident):
    yield Incident.objects.select_for_update().get(pk=obj.pk)


def _incident_refused(incident: Incident, message) -> ValidationError:
    return ValidationError(str(message))


INCIDENTS = Transitions(
    model=Incident, actions=INCIDENT_ACTIONS, read=lambda incident: incident, lock=_locked_incident,
    step_of=lambda incident: incident.status, status_of=lambda incident: incident.status,
    # never reached: no action names steps and every state rule names its refusal
    not_now=lambda incident, action: _incident_refused(incident, INCIDENT_ACTIONS[action].state[0].refusal(incident)),
    conflict=_incident_refused, actor_first=True,
    audit=lambda incident, **kwargs: None,  # an incident keeps its feedback and resolution on its row, no events
)


def incident_feedback(*, actor, incident: Incident, feedback: str) -> Incident:
    feedback = (feedback or "").strip()
    if not feedback:
        raise ValidationError({"feedback": [_("Write the progress so far.")]})
    with INCIDENTS.transition("feedback", actor=actor, obj=incident) as step:
        locked = step.ctx
        stamp = timezone.localtime()
        locked.feedback = (locked.feedback + "\n" if locked.feedback else "") + f"[{stamp:%m-%d %H:%M} {actor}] {feedback}"
        fields = ["feedback"]
        if locked.feedback_at is None:
            locked.feedback_at = stamp
            fields.append("feedback_at")
        locked.save(update_fields=fields)
        return locked


def incident_resolve(*, actor, incident: Incident, answer: str, cause_report: str) -> Incident:
    """Recovered: the answer goes to every attached customer (their orders move on to their own callbacks, in
    batches after commit); the cause report stays with the incident."""
    answer, cause_report = (answer or "").strip(), (cause_report or "").strip()
    errors = {}
    if not answer:
        errors["answer"] = [_("Write the answer the customers will get.")]
    if not cause_report:
        errors["cause_report"] = [_("Report the cause.")]
    if errors:
        raise ValidationError(errors)
    with INCIDENTS.transition("resolve", actor=actor, obj=incident) as step:
        locked = step.ctx
        locked.status, locked.resolved_at, locked.resolved_by = Incident.Status.RESOLVED, timezone.now(), actor
        locked.answer, locked.cause_report = answer, cause_report
        locked.save(update_fields=["status", "resolved_at", "resolved_by", "answer", "cause_report"])
        BatchAlert.objects.filter(incident=locked, status=BatchAlert.Status.CONFIRMED).update(
            status=BatchAlert.Status.LAPSED)
        step.on_commit(lambda: _answer_later(locked.pk))
        return locked


def _answer_later(incident_id: int) -> None:
    from quality.tasks import incident_answer  # local: quality.tasks imports this module

    try:
        incident_answer.apply_async(args=[incident_id], retry=False)
    except Exception:
        log.warning("Could not queue answering incident %s; the sweep will.", incident_id, exc_info=True)


def incident_answer_children(*, incident_id: int, batch: int = 200) -> int:
    """Answer every order still waiting on a resolved incident (safe to run twice: answered ones are skipped)."""
    incident = Incident.objects.select_related("department", "resolved_by").get(pk=incident_id)
    if incident.is_open:
        return 0
    answered = 0
    while True:
        ids = list(incident.orders.filter(status=OrderStatus.IN_INCIDENT).order_by("id").values_list("pk", flat=True)
                   [:batch])
        if not ids:
            return answered
        for order in WorkOrder.objects.filter(pk__in=ids):
            if order_answer_from_incident(actor=incident.resolved_by, order=order, incident=incident) is not None:
                answered += 1


# An incident's clocks: the department's first feedback (a warning point and a deadline), and the expected recovery.
FEEDBACK_WARNING = Point("feedback_warn_at", "feedback_warned_at")
FEEDBACK_OVERDUE = Point("feedback_due_at", "feedback_overdue_at")
RECOVERY_OVERDUE = Point("expected_recovery_at", "recovery_overdue_at")


def incidents_sweep(*, now: datetime.datetime | None = None) -> dict:
    """Feedback deadlines (warning, overdue) and missed recoveries, told once; and the safety net for attaching
    and answering that the broker missed."""
    now = now or timezone.now()
    counts = {"warned": 0, "overdue": 0, "recovery_overdue": 0, "answered": 0, "attached": 0}
    awaiting_feedback = Q(feedback_at__isnull=True)
    checks = ((FEEDBACK_WARNING, awaiting_feedback, "warned", _("Incident feedback due soon: %(title)s")),
              (FEEDBACK_OVERDUE, awaiting_feedback, "overdue", _("Incident feedback overdue: %(title)s")),
              (RECOVERY_OVERDUE, Q(), "recovery_overdue", _("Incident not recovered by the expected time: %(title)s")))
    for point, extra, key, subject in checks:
        def notify(rows, subject=subject):
            for incident in rows:
                leads_notify(department=incident.department, kind="accountability",
                             subject=subject % {"title": incident.title},
                             link=f"/early-warning/incidents/{incident.pk}/")

        open_incidents = Incident.objects.filter(extra, status=Incident.Status.OPEN).select_related("department")
        counts[key] += sweep_all(open_incidents, point, now=now, limit=500, notify=notify)
    for incident_id in (Incident.objects.filter(status=Incident.Status.RESOLVED, orders__status=OrderStatus.IN_INCIDENT)
                        .values_list("pk", flat=True).distinct()[:20]):
        counts["answered"] += incident_answer_children(incident_id=incident_id)
    return counts


# --- bulletins -------------------------------------------------------------------------------------------

PLANNED_NOTICE = datetime.timedelta(hours=24)
SUDDEN_WITHIN = datetime.timedelta(hours=3)


def bulletin_publish(*, actor, kind: str, title: str, department: Department, regions, categories, services: str,
                     starts_at, ends_at, answer: str) -> Bulletin:
    """资讯: published by a department (or the complaint centre). Planned work must be announced 24 hours ahead,
    a sudden fault within 3 hours and before the complaints begin; a bulletin that is not is recorded as late."""
    title, services, answer = (title or "").strip(), (services or "").strip(), (answer or "").strip()
    errors = {}
    if kind not in Bulletin.Kind.values:
        errors["kind"] = [_("Choose planned work or a sudden fault.")]
    for name, value in (("title", title), ("services", services), ("answer", answer)):
        if not value:
            errors[name] = [_("This field is required.")]
    if not regions:
        errors["regions"] = [_("Name the affected area.")]
    if not isinstance(starts_at, datetime.datetime):
        errors["starts_at"] = [_("Give when it begins.")]
    elif ends_at is not None and ends_at <= starts_at:
        errors["ends_at"] = [_("It ends before it begins.")]
    if errors:
        raise ValidationError(errors)
    if not (is_dispatcher(actor) or is_staff_of(actor, department.pk)):
        raise PermissionDenied(_("Bulletins are published by the department concerned or the complaint centre."))
    now = timezone.now()
    late_reason = ""
    if kind == Bulletin.Kind.PLANNED and starts_at - now < PLANNED_NOTICE:
        late_reason = _("planned work announced less than 24 hours ahead")
    first = _first_matching_complaint(regions, categories, since=starts_at, until=now)
    if kind == Bulletin.Kind.SUDDEN and now - starts_at > SUDDEN_WITHIN:
        late_reason = _("sudden fault announced more than 3 hours after it began")
    if first is not None:
        late_reason = _("complaints had begun at %(at)s") % {"at": f"{timezone.localtime(first):%m-%d %H:%M}"}
    with transaction.atomic():
        bulletin = Bulletin.objects.create(kind=kind, title=title, department=department, services=services,
                                           starts_at=starts_at, ends_at=ends_at, answer=answer, published_at=now,
                                           published_by=actor, late=bool(late_reason), late_reason=late_reason[:200])
        bulletin.regions.set(regions)
        bulletin.categories.set(categories)
        return bulletin


def _first_matching_complaint(regions, categories, *, since, until):
    if since >= until:
        return None
    ctx = Context()
    region_ids = [n for r in regions for n in ctx.regions.subtree(r.pk)]
    qs = WorkOrder.objects.filter(received_at__gte=since, received_at__lt=until, region_id__in=region_ids)
    if categories:
        qs = qs.filter(category_id__in=[n for c in categories for n in ctx.categories.subtree(c.pk)])
    return qs.order_by("received_at").values_list("received_at", flat=True).first()


def bulletin_withdraw(*, actor, bulletin: Bulletin) -> Bulletin:
    if not (is_dispatcher(actor) or is_member_of(actor, bulletin.department_id)):
        raise PermissionDenied(_("Bulletins are withdrawn by the department concerned or the complaint centre."))
    Bulletin.objects.filter(pk=bulletin.pk, withdrawn_at__isnull=True).update(withdrawn_at=timezone.now())
    bulletin.refresh_from_db()
    return bulletin


def bulletins_matching(*, region: Region | None, category: Category | None, at: datetime.datetime | None = None,
                       limit: int = 5) -> list[Bulletin]:
    """The bulletins the frontline should see for a customer's region and a category: live (or beginning within
    a day), covering the region (or an area above it) and the category (or one above it, or every category)."""
    at = at or timezone.now()
    if region is None:
        return []
    region_codes = [c for c in region.path.strip("/").split("/") if c]
    qs = (Bulletin.objects.filter(withdrawn_at__isnull=True, starts_at__lte=at + PLANNED_NOTICE,
                                  regions__code__in=region_codes)
          .filter(Q(ends_at__isnull=True) | Q(ends_at__gte=at)))
    if category is not None:
        codes = [c for c in category.path.strip("/").split("/") if c]
        qs = qs.filter(Q(categories__isnull=True) | Q(categories__code__in=codes))
    return list(qs.select_related("department").distinct().order_by("starts_at")[:limit])


def order_region_for(*, customer, actor) -> Region | None:
    """The region an order of this customer would get (for the intake panel)."""
    if customer is not None and customer.home_region_id:
        return customer.home_region
    return actor.region
