"""The deadline sweep, run by Celery beat (every SLA_SWEEP_SECONDS) or by hand (`manage.py sla_sweep`).

Detection and notification are separate steps, and both are idempotent:

1. Detection claims stage rows whose warning point, deadline or next escalation time has passed, in batches, with
   SELECT … FOR UPDATE SKIP LOCKED (two sweeps at once take different rows, and neither waits for a user who is
   working on the same order). In the same transaction it stamps the stage with the moment the event really
   happened (`warned_at = warn_at`, `overdue_at = due_at`), raises the order's escalation level, writes the
   audit trail stamped with that moment, and writes one SlaAlert per event. A stage, once stamped, is never
   picked again: running the sweep twice finds nothing new, and after downtime it catches up with the true times.
2. Notification claims unnotified alerts the same way, turns each into inbox notifications for the right people
   (the holder and the department's leads for a warning; the escalation level's people for a breach) and marks
   it notified. E-mails then leave through the notification outbox.

Everything runs in set-based statements per batch, so 10,000 stages falling due at once stay cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from complaints.models import OrderStatus, WorkOrder
from core.timed import OVERDUE, WARNING, Point, sweep_due, sweep_until_done
from org import roles
from org.models import Department, Region, User
from workflow import notifications
from workflow.escalation import (
    MAX_ESCALATION_LEVEL,
    EscalationStep,
    escalation_interval,
    escalation_step,
    escalations_write,
)
from workflow.models import Notification, OrderEvent, OrderStage, SlaAlert, Stage, WorkflowPolicy

BATCH = 500


@dataclass
class SweepReport:
    warned: int = 0
    overdue: int = 0
    escalated: int = 0
    notified: int = 0
    timings: dict = field(default_factory=dict)

    def __str__(self):
        return (f"warnings {self.warned}, breaches {self.overdue}, further escalations {self.escalated}, "
                f"alerts notified {self.notified}")


def sweep(*, now: datetime | None = None, batch: int = BATCH) -> SweepReport:
    now = now or timezone.now()
    report = SweepReport()
    report.warned = sweep_until_done(lambda: _detect_warnings(now, batch))
    report.overdue = sweep_until_done(lambda: _detect_overdue(now, batch))
    report.escalated = sweep_until_done(lambda: _detect_further_escalations(now, batch))
    directory = []  # built on first need, once per sweep

    def notify():
        if not directory:
            directory.append(Directory())
        return _notify_alerts(now, batch, directory[0])

    report.notified = sweep_until_done(notify) if SlaAlert.objects.filter(notified_at__isnull=True).exists() else 0
    return report


def _system_event(order_id, action, at, **data) -> OrderEvent:
    return OrderEvent(order_id=order_id, action=action, actor=None, actor_name="system", data=data, created_at=at)


# The stages whose clock runs: not ended, not paused.
_RUNNING = OrderStage.objects.filter(ended_at__isnull=True, paused_at__isnull=True)


def _detect_warnings(now: datetime, batch: int) -> int:
    def record(stages):
        SlaAlert.objects.bulk_create([
            SlaAlert(stage=stage, order_id=stage.order_id, kind=SlaAlert.Kind.WARNING, happened_at=stage.warn_at,
                     detected_at=now) for stage in stages
        ])
        OrderEvent.objects.bulk_create([
            _system_event(stage.order_id, OrderEvent.Action.DEADLINE_NEAR, stage.warn_at, stage=stage.kind,
                          due_at=stage.due_at.isoformat()) for stage in stages
        ])

    stages = _RUNNING.only("pk", "order_id", "kind", "warn_at", "due_at")
    return len(sweep_due(stages, WARNING, now=now, limit=batch, record=record))


@dataclass
class _Escalations:
    """The orders of one batch raised one level, written in three statements whatever the batch size."""

    now: datetime
    raised: dict[int, tuple[EscalationStep, datetime]] = field(default_factory=dict)  # order -> (step, at)
    events: list = field(default_factory=list)
    alerts: list = field(default_factory=list)

    def level_after(self, order: WorkOrder, at: datetime) -> int:
        """Raise the order once in this batch (not beyond the top); its level afterwards."""
        if order.pk in self.raised:
            return self.raised[order.pk][0].level
        step = escalation_step(order)
        if step is None:
            return order.escalation_level
        self.raised[order.pk] = (step, at)
        self.events.append(_system_event(order.pk, OrderEvent.Action.ESCALATED, at, reason_kind="overdue",
                                         level=step.level))
        return step.level

    def write(self) -> None:
        escalations_write(self.raised)
        OrderEvent.objects.bulk_create(self.events)
        SlaAlert.objects.bulk_create(self.alerts)


def _set_next_escalation(stages_by_time: dict) -> None:
    """One UPDATE per distinct next-escalation time offset (a handful per batch)."""
    for (base_field, interval), ids in stages_by_time.items():
        if interval is None:
            OrderStage.objects.filter(pk__in=ids).update(next_escalation_at=None)
        else:
            OrderStage.objects.filter(pk__in=ids).update(next_escalation_at=F(base_field) + interval)


def _with_orders(queryset):
    # Claimed with their order, skipping either when someone holds it: no waiting, and no deadlock with a user's
    # action (which locks the order first); a skipped row is picked up by the next sweep.
    return (queryset.select_related("order")
            .only("pk", "kind", "order_id", "due_at", "next_escalation_at",
                  "order__id", "order__status", "order__escalation_level", "order__current_owner"))


_WITH_ORDERS = ("self", "order")


def _detect_overdue(now: datetime, batch: int) -> int:
    policy = WorkflowPolicy.in_force()

    def record(stages):
        work = _Escalations(now)
        next_times: dict = {}
        for stage in stages:
            work.events.append(_system_event(stage.order_id, OrderEvent.Action.OVERDUE, stage.due_at,
                                             stage=stage.kind, due_at=stage.due_at.isoformat()))
            if stage.kind == Stage.PROMISE:  # told to the holder and the centre; the steps' clocks escalate
                work.alerts.append(SlaAlert(stage=stage, order_id=stage.order_id, kind=SlaAlert.Kind.OVERDUE,
                                            level=stage.order.escalation_level, happened_at=stage.due_at,
                                            detected_at=now))
                continue
            level = work.level_after(stage.order, stage.due_at)
            next_times.setdefault(("due_at", escalation_interval(level, policy)), []).append(stage.pk)
            work.alerts.append(SlaAlert(stage=stage, order_id=stage.order_id, kind=SlaAlert.Kind.OVERDUE,
                                        level=level, happened_at=stage.due_at, detected_at=now))
        _set_next_escalation(next_times)
        work.write()

    return len(sweep_due(_with_orders(_RUNNING), OVERDUE, now=now, limit=batch, record=record, lock=_WITH_ORDERS))


# The next escalation time is moved on (or cleared at the top) by the step itself: nothing to stamp.
_NEXT_ESCALATION = Point("next_escalation_at", None)


def _detect_further_escalations(now: datetime, batch: int) -> int:
    """Still open after the time between levels: level 2 (complaint-centre manager), then 3 (emergency group)."""
    policy = WorkflowPolicy.in_force()

    def record(stages):
        work = _Escalations(now)
        next_times: dict = {}
        for stage in stages:
            at = stage.next_escalation_at
            raised_before = stage.order_id in work.raised
            level = work.level_after(stage.order, at)
            if not raised_before and stage.order_id in work.raised:
                work.alerts.append(SlaAlert(stage=stage, order_id=stage.order_id, kind=SlaAlert.Kind.ESCALATION,
                                            level=level, happened_at=at, detected_at=now))
            interval = escalation_interval(level, policy) if level < MAX_ESCALATION_LEVEL else None
            next_times.setdefault(("next_escalation_at", interval), []).append(stage.pk)
        _set_next_escalation(next_times)
        work.write()

    return len(sweep_due(_with_orders(_RUNNING), _NEXT_ESCALATION, now=now, limit=batch, record=record,
                         lock=_WITH_ORDERS))


class Directory:
    """Who to tell, looked up once per batch instead of once per alert."""

    def __init__(self):
        active = User.objects.filter(is_active=True)
        self.leads_by_department: dict[int, list[User]] = {}
        for user in active.filter(groups__name=roles.LEAD).select_related("department__region"):
            self.leads_by_department.setdefault(user.department_id, []).append(user)
        centres = set(Department.objects.filter(kind=Department.Kind.COMPLAINT_CENTRE).values_list("pk", flat=True))
        self.centre_leads = [u for dept, users in self.leads_by_department.items() if dept in centres for u in users]
        self.dispatchers = list(active.filter(groups__name=roles.DISPATCHER, department__isnull=False)
                                .select_related("department__region"))
        self.emergency = list(active.filter(groups__name=roles.EMERGENCY))
        self.region_paths = dict(Region.objects.values_list("pk", "path"))

    def _covering(self, users, region_id) -> list[User]:
        path = self.region_paths.get(region_id, "")
        return [u for u in users if path.startswith(u.department.region.path)]

    def centre_leads_for(self, region_id) -> list[User]:
        return self._covering(self.centre_leads, region_id)

    def dispatchers_for(self, region_id) -> list[User]:
        return self._covering(self.dispatchers, region_id)

    def for_alert(self, alert: SlaAlert) -> list[User]:
        order = alert.order
        if alert.stage.kind == Stage.PROMISE:
            return self._for_promise(order)
        if alert.kind == SlaAlert.Kind.WARNING:
            department = order.current_department_id or alert.stage.department_id
            if not department:  # dispatch, an inquiry's answer, review: the complaint centre's step
                return self.dispatchers_for(order.region_id) + self.centre_leads_for(order.region_id)
            people = list(self.leads_by_department.get(department, []))
            if order.current_owner_id:
                people.append(order.current_owner)
            return people
        if alert.level >= 3:
            return self.emergency
        if not order.current_department_id:
            return self.dispatchers_for(order.region_id) + self.centre_leads_for(order.region_id)
        if alert.level == 2:
            return self.centre_leads_for(order.region_id)
        return self.leads_by_department.get(order.current_department_id, [])


    def _for_promise(self, order) -> list[User]:
        """The customer's promise nears or has passed: whoever holds the order now (its handler, or its
        department's leads) and the complaint centre, even when the holder's own clock is fine."""
        if order.current_owner_id:
            holders = [order.current_owner]
        elif order.current_department_id:
            holders = list(self.leads_by_department.get(order.current_department_id, []))
        else:
            holders = []
        return holders + self.dispatchers_for(order.region_id) + self.centre_leads_for(order.region_id)


def _waiting_incident(alert: SlaAlert) -> int | None:
    """The incident a customer's-promise alert's order waits in, if it does."""
    order = alert.order
    if alert.stage.kind == Stage.PROMISE and order.incident_id and order.status == OrderStatus.IN_INCIDENT:
        return order.incident_id
    return None


def _incident_notices_unread(alerts) -> set:
    """(recipient, "incident", incident, kind) of the promise notices about an incident's orders still unread."""
    incidents = {incident for alert in alerts if (incident := _waiting_incident(alert))}
    if not incidents:
        return set()
    unread = Notification.objects.filter(read_at__isnull=True, order__incident_id__in=incidents,
                                         kind__in=[KIND_OF_ALERT[SlaAlert.Kind.WARNING],
                                                   KIND_OF_ALERT[SlaAlert.Kind.OVERDUE]])
    return {(recipient, "incident", incident, kind)
            for recipient, incident, kind in unread.values_list("recipient_id", "order__incident_id", "kind")}


KIND_OF_ALERT = {
    SlaAlert.Kind.WARNING: Notification.Kind.DEADLINE_NEAR,
    SlaAlert.Kind.OVERDUE: Notification.Kind.OVERDUE,
    SlaAlert.Kind.ESCALATION: Notification.Kind.ESCALATED,
}


def _notify_alerts(now: datetime, batch: int, directory: Directory | None = None) -> int:
    with transaction.atomic():
        alerts = list(
            SlaAlert.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("order__current_owner", "stage")
            .only("pk", "kind", "level", "happened_at", "order__id", "order__region_id", "order__status",
                  "order__incident_id", "order__current_department_id", "order__current_owner", "stage__kind",
                  "stage__due_at", "stage__department_id")
            .filter(notified_at__isnull=True)
            .order_by("detected_at", "id")[:batch]
        )
        if not alerts:
            return 0
        directory = directory or Directory()
        rows, told = [], _incident_notices_unread(alerts)
        for alert in alerts:
            stage_label = alert.stage.get_kind_display()
            comment = f"{stage_label}: {timezone.localtime(alert.stage.due_at):%Y-%m-%d %H:%M}"
            kind = KIND_OF_ALERT[alert.kind]
            incident = _waiting_incident(alert)
            for user in {u.pk: u for u in directory.for_alert(alert)}.values():
                # The customer's promise and the holder's own clock often warn together: one notice each. The
                # promises of orders waiting in one incident run out together: one notice per incident while
                # it is unread (the incident page lists its orders and their promises).
                key = (user.pk, "incident", incident, kind) if incident else (user.pk, alert.order.pk, kind)
                if key in told:
                    continue
                told.add(key)
                rows.append(Notification(recipient=user, order=alert.order, kind=kind, actor_name="system",
                                         comment=comment))
        notifications.notify_rows(rows)
        SlaAlert.objects.filter(pk__in=[alert.pk for alert in alerts]).update(notified_at=now)
        return len(alerts)
