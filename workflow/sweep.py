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
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from complaints.models import WorkOrder
from org import roles
from org.models import Department, Region, User
from workflow import notifications
from workflow.models import Notification, OrderEvent, OrderStage, SlaAlert, WorkflowPolicy

BATCH = 500
MAX_LEVEL = 3


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
    report.warned = _until_done(_detect_warnings, now, batch)
    report.overdue = _until_done(_detect_overdue, now, batch)
    report.escalated = _until_done(_detect_further_escalations, now, batch)
    directory = []  # built on first need, once per sweep

    def notify(now, batch):
        if not directory:
            directory.append(Directory())
        return _notify_alerts(now, batch, directory[0])

    report.notified = _until_done(notify, now, batch) if SlaAlert.objects.filter(notified_at__isnull=True).exists() \
        else 0
    return report


def _until_done(step, now, batch) -> int:
    """Batches until a step finds nothing (a stage that caught up through several escalation levels comes back
    once per level)."""
    total = 0
    while True:
        done = step(now, batch)
        total += done
        if done == 0:
            return total


def _system_event(order_id, action, at, **data) -> OrderEvent:
    return OrderEvent(order_id=order_id, action=action, actor=None, actor_name="system", data=data, created_at=at)


def _escalation_interval(level: int, policy) -> timedelta | None:
    """Time from reaching `level` to the next one; None at the top."""
    if level == 1:
        return timedelta(minutes=policy.escalate_level2_after_minutes)
    if level == 2:
        return timedelta(minutes=policy.escalate_level3_after_minutes)
    return None


def _detect_warnings(now: datetime, batch: int) -> int:
    with transaction.atomic():
        stages = list(
            OrderStage.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(ended_at__isnull=True, paused_at__isnull=True, warned_at__isnull=True, warn_at__lte=now)
            .only("pk", "order_id", "kind", "warn_at", "due_at")
            .order_by("warn_at")[:batch]
        )
        if not stages:
            return 0
        OrderStage.objects.filter(pk__in=[stage.pk for stage in stages]).update(warned_at=F("warn_at"))
        SlaAlert.objects.bulk_create([
            SlaAlert(stage=stage, order_id=stage.order_id, kind=SlaAlert.Kind.WARNING, happened_at=stage.warn_at,
                     detected_at=now) for stage in stages
        ])
        OrderEvent.objects.bulk_create([
            _system_event(stage.order_id, OrderEvent.Action.DEADLINE_NEAR, stage.warn_at, stage=stage.kind,
                          due_at=stage.due_at.isoformat()) for stage in stages
        ])
        return len(stages)


@dataclass
class _Escalations:
    """The orders of one batch raised one level, written in three statements whatever the batch size."""

    now: datetime
    raised: dict[int, tuple[int, datetime, bool]] = field(default_factory=dict)  # order -> (level, at, to lead)
    events: list = field(default_factory=list)
    alerts: list = field(default_factory=list)

    def level_after(self, order: WorkOrder, at: datetime) -> int:
        """Raise the order once in this batch (not beyond the top); its level afterwards."""
        if order.pk in self.raised:
            return self.raised[order.pk][0]
        if order.status in ("closed", "cancelled") or order.escalation_level >= MAX_LEVEL:
            return order.escalation_level
        level = order.escalation_level + 1
        self.raised[order.pk] = (level, at, order.status == "queued")
        self.events.append(_system_event(order.pk, OrderEvent.Action.ESCALATED, at, reason_kind="overdue",
                                         level=level))
        return level

    def write(self) -> None:
        if self.raised and connection.vendor != "postgresql":  # the zero-setup SQLite default: demo sizes
            for pk, (level, at, lead) in self.raised.items():
                changes = {"escalation_level": level, "escalated_at": at}
                if lead:
                    changes["queue_level"] = "lead"
                WorkOrder.objects.filter(pk=pk).update(**changes)
        elif self.raised:
            rows = [(pk, level, at, lead) for pk, (level, at, lead) in self.raised.items()]
            table = WorkOrder._meta.db_table
            with connection.cursor() as cursor:
                # An unclaimed order moves to the lead's queue, as with a manual escalation.
                cursor.execute(
                    f"UPDATE {table} AS o SET escalation_level = v.level, escalated_at = v.at, "
                    f"queue_level = CASE WHEN v.to_lead THEN 'lead' ELSE o.queue_level END "
                    f"FROM (VALUES {', '.join(['(%s, %s, %s::timestamptz, %s)'] * len(rows))}) "
                    f"AS v(id, level, at, to_lead) WHERE o.id = v.id",
                    [value for row in rows for value in row],
                )
        OrderEvent.objects.bulk_create(self.events)
        SlaAlert.objects.bulk_create(self.alerts)


def _set_next_escalation(stages_by_time: dict) -> None:
    """One UPDATE per distinct next-escalation time offset (a handful per batch)."""
    for (base_field, interval), ids in stages_by_time.items():
        if interval is None:
            OrderStage.objects.filter(pk__in=ids).update(next_escalation_at=None)
        else:
            OrderStage.objects.filter(pk__in=ids).update(next_escalation_at=F(base_field) + interval)


def _locked_due(filter_q, order_by: str, batch: int) -> list[OrderStage]:
    # Lock the stage and its order together, skipping either when someone holds it: no waiting, and no deadlock
    # with a user's action (which locks the order first); a skipped row is picked up by the next sweep.
    return list(
        OrderStage.objects.select_for_update(skip_locked=True, of=("self", "order"))
        .select_related("order")
        .only("pk", "kind", "order_id", "due_at", "next_escalation_at",
              "order__id", "order__status", "order__escalation_level")
        .filter(filter_q)
        .order_by(order_by)[:batch]
    )


def _detect_overdue(now: datetime, batch: int) -> int:
    policy = WorkflowPolicy.in_force()
    with transaction.atomic():
        stages = _locked_due(Q(ended_at__isnull=True, paused_at__isnull=True, overdue_at__isnull=True,
                               due_at__lte=now), "due_at", batch)
        if not stages:
            return 0
        work = _Escalations(now)
        next_times: dict = {}
        for stage in stages:
            work.events.append(_system_event(stage.order_id, OrderEvent.Action.OVERDUE, stage.due_at,
                                             stage=stage.kind, due_at=stage.due_at.isoformat()))
            level = work.level_after(stage.order, stage.due_at)
            next_times.setdefault(("due_at", _escalation_interval(level, policy)), []).append(stage.pk)
            work.alerts.append(SlaAlert(stage=stage, order_id=stage.order_id, kind=SlaAlert.Kind.OVERDUE,
                                        level=level, happened_at=stage.due_at, detected_at=now))
        OrderStage.objects.filter(pk__in=[stage.pk for stage in stages]).update(overdue_at=F("due_at"))
        _set_next_escalation(next_times)
        work.write()
        return len(stages)


def _detect_further_escalations(now: datetime, batch: int) -> int:
    """Still open after the time between levels: level 2 (complaint-centre manager), then 3 (emergency group)."""
    policy = WorkflowPolicy.in_force()
    with transaction.atomic():
        stages = _locked_due(Q(ended_at__isnull=True, paused_at__isnull=True, next_escalation_at__lte=now),
                             "next_escalation_at", batch)
        if not stages:
            return 0
        work = _Escalations(now)
        next_times: dict = {}
        for stage in stages:
            at = stage.next_escalation_at
            raised_before = stage.order_id in work.raised
            level = work.level_after(stage.order, at)
            if not raised_before and stage.order_id in work.raised:
                work.alerts.append(SlaAlert(stage=stage, order_id=stage.order_id, kind=SlaAlert.Kind.ESCALATION,
                                            level=level, happened_at=at, detected_at=now))
            interval = _escalation_interval(level, policy) if level < MAX_LEVEL else None
            next_times.setdefault(("next_escalation_at", interval), []).append(stage.pk)
        _set_next_escalation(next_times)
        work.write()
        return len(stages)


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
            .only("pk", "kind", "level", "happened_at", "order__id", "order__region_id",
                  "order__current_department_id", "order__current_owner", "stage__kind", "stage__due_at",
                  "stage__department_id")
            .filter(notified_at__isnull=True)
            .order_by("detected_at", "id")[:batch]
        )
        if not alerts:
            return 0
        directory = directory or Directory()
        rows = []
        for alert in alerts:
            stage_label = alert.stage.get_kind_display()
            comment = f"{stage_label}: {timezone.localtime(alert.stage.due_at):%Y-%m-%d %H:%M}"
            for user in {u.pk: u for u in directory.for_alert(alert)}.values():
                rows.append(Notification(recipient=user, order=alert.order, kind=KIND_OF_ALERT[alert.kind],
                                         actor_name="system", comment=comment))
        notifications.notify_rows(rows)
        SlaAlert.objects.filter(pk__in=[alert.pk for alert in alerts]).update(notified_at=now)
        return len(alerts)
