from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from viewflow.workflow.models import AbstractProcess, AbstractTask

from complaints.models import Kind, OrderStatus, RatingVerdict, Severity, Tier, bilingual
from core.audit import AuditEvent
from core.effective import EffectiveDated, EffectivePolicy
from core.timed import TimedRow, timed_indexes
from workflow.steps import process_label, task_label


class OrderEvent(AuditEvent):
    """The append-only audit trail of a work order: who did what, when, from which state to which."""

    class Action(models.TextChoices):
        RECEIVED = "received", _("Received")
        RESOLVED_ON_SPOT = "resolved_on_spot", _("Resolved on the spot")
        LINKED_REPEAT = "linked_repeat", _("Linked as repeat complaint")
        NOTE_ADDED = "note_added", _("Note added")
        ATTACHMENT_ADDED = "attachment_added", _("Attachment added")
        IMPORTED = "imported", _("Imported")
        DISPATCHED = "dispatched", _("Dispatched")
        AUTO_DISPATCHED = "auto_dispatched", _("Dispatched automatically")
        CLAIMED = "claimed", _("Claimed")
        RELEASED = "released", _("Claim released")
        ASSIGNED = "assigned", _("Assigned")
        TRANSFERRED = "transferred", _("Transferred")
        RETURNED = "returned", _("Returned to the dispatcher")
        WAITING = "waiting", _("Waiting for the customer")
        RESUMED = "resumed", _("Resumed")
        REPLIED = "replied", _("Replied")
        REVIEW_ACCEPTED = "review_accepted", _("Reply accepted")
        REVIEW_REJECTED = "review_rejected", _("Reply sent back")
        CALLBACK_UNREACHED = "callback_unreached", _("Callback: customer not reached")
        CALLED_BACK = "called_back", _("Called back")
        REOPENED = "reopened", _("Reopened")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")
        ESCALATED = "escalated", _("Escalated")
        DEADLINE_NEAR = "deadline_near", _("Deadline near (warning)")
        OVERDUE = "overdue", _("Overdue")
        EXTENSION_REQUESTED = "extension_requested", _("Extension requested")
        EXTENSION_APPROVED = "extension_approved", _("Extension approved")
        EXTENSION_REFUSED = "extension_refused", _("Extension refused")
        ATTACHED_TO_INCIDENT = "attached_incident", _("Attached to an incident")
        DETACHED_FROM_INCIDENT = "detached_incident", _("Detached from the incident")

    # Actions whose fact (never the comment or the actor) a customer may see on the progress page.
    PUBLIC_ACTIONS = frozenset({
        Action.RECEIVED, Action.RESOLVED_ON_SPOT, Action.IMPORTED, Action.DISPATCHED, Action.AUTO_DISPATCHED,
        Action.CLAIMED, Action.REPLIED, Action.CALLED_BACK, Action.REOPENED, Action.CLOSED, Action.CANCELLED,
        Action.ATTACHED_TO_INCIDENT,
    })

    order = models.ForeignKey(
        "complaints.WorkOrder", verbose_name=_("work order"), on_delete=models.PROTECT, related_name="events"
    )
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)

    class Meta(AuditEvent.Meta):
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        indexes = [models.Index(fields=["order", "created_at"], name="event_order_created")]

    def __str__(self):
        return f"{self.order_id} {self.get_action_display()} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_public(self) -> bool:
        return self.action in self.PUBLIC_ACTIONS

    def status_label(self, value: str) -> str:
        return OrderStatus(value).label if value in OrderStatus.values else value

    @property
    def from_label(self) -> str:
        return self.status_label(self.from_status)

    @property
    def to_label(self) -> str:
        return self.status_label(self.to_status)


class OrderProcess(AbstractProcess):
    """The viewflow process that drives one work order."""

    def __str__(self):
        return process_label(self)

    order = models.OneToOneField(
        "complaints.WorkOrder", verbose_name=_("work order"), on_delete=models.PROTECT, related_name="process"
    )

    class Meta:
        verbose_name = _("order process")
        verbose_name_plural = _("order processes")


class OrderTask(AbstractTask):
    """One step of an order's process (dispatch, handle, review, callback…), with the department it sat with."""

    def __str__(self):
        return task_label(self)

    # viewflow reaches a process's tasks as `process.task_set`.
    process = models.ForeignKey(OrderProcess, verbose_name=_("process"), on_delete=models.CASCADE,
                                related_name="task_set")
    department = models.ForeignKey(
        "org.Department", verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("order task")
        verbose_name_plural = _("order tasks")
        ordering = ["created", "id"]
        indexes = [
            models.Index(fields=["process"], name="task_open_by_process",
                         condition=Q(status__in=["NEW", "ASSIGNED", "STARTED"])),
        ]


class Notification(models.Model):
    """The in-app inbox, and the outbox of the e-mails that mirror it (sent by a Celery task, at most once)."""

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned to you")
        RETURNED = "returned", _("Returned")
        REOPENED = "reopened", _("Reopened")
        ESCALATED = "escalated", _("Escalated")
        SENT_BACK = "sent_back", _("Reply sent back")
        DEADLINE_NEAR = "deadline_near", _("Deadline near")
        OVERDUE = "overdue", _("Overdue")
        EXTENSION_REQUESTED = "extension_asked", _("Extension requested")
        EXTENSION_DECIDED = "extension_decided", _("Extension decided")
        NOTICE = "notice", _("Monthly notice")
        IMPROVEMENT = "improvement", _("Improvement order")
        ACCOUNTABILITY = "accountability", _("Accountability")
        SUPPORT = "support", _("Support request")
        QUEUED = "queued", _("New in your queue")

    class Delivery(models.TextChoices):
        # E-mails about ordinary orders wait for working hours; major and VIP ones go at once.
        STANDARD = "standard", _("In the app and by e-mail")
        IN_APP = "in_app", _("In the app only")
        AT_ONCE = "at_once", _("In the app and by e-mail at once")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    # About a work order, or (order empty) about something else the subject names and the link opens: a monthly
    # notice, an improvement order, a determination.
    order = models.ForeignKey(
        "complaints.WorkOrder", verbose_name=_("work order"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="+"
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    actor_name = models.CharField(_("by"), max_length=64, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Outbox state: NULL until a sender claims it; a recipient without an address is marked done at once.
    email_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True, editable=False)
    delivery = models.CharField(_("delivery"), max_length=8, choices=Delivery.choices, default=Delivery.STANDARD)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            models.Index(fields=["recipient"], name="notification_unread", condition=Q(read_at__isnull=True)),
            models.Index(fields=["created_at"], name="notification_unsent",
                         condition=Q(emailed_at__isnull=True) & ~Q(delivery="in_app")),
        ]

    def __str__(self):
        return f"{self.recipient_id} {self.get_kind_display()} {self.order_id or ''}"


class WorkflowPolicy(EffectivePolicy):
    """Workflow rules an operator tunes; the version in force is the latest effective one."""

    callback_max_attempts = models.PositiveSmallIntegerField(
        _("callback attempts"), default=3,
        help_text=_("After this many unanswered calls the order is closed as 'customer not reached'."),
    )
    dissatisfied_at_or_below = models.PositiveSmallIntegerField(
        _("dissatisfied at or below"), default=2,
        help_text=_("A callback rating (1–5) at or below this is a dissatisfied customer: the order is reopened, a "
                    "follow-up opens and the satisfaction KPIs count it as dissatisfied."),
    )
    satisfied_at_or_above = models.PositiveSmallIntegerField(
        _("satisfied at or above"), default=4,
        help_text=_("A callback rating at or above this counts as satisfied; ratings in between are neutral."),
    )
    max_wait_days = models.PositiveSmallIntegerField(
        _("longest wait for the customer (days)"), default=7,
    )
    escalate_level2_after_minutes = models.PositiveIntegerField(
        _("overdue → level 2 after (minutes)"), default=120,
        help_text=_("Time from the first breach (level 1: the department lead) to the complaint-centre manager."),
    )
    escalate_level3_after_minutes = models.PositiveIntegerField(
        _("level 2 → level 3 after (minutes)"), default=240,
        help_text=_("Time from level 2 to the emergency group."),
    )
    quiet_outside_working_hours = models.BooleanField(
        _("no e-mails outside working hours"), default=True,
        help_text=_("E-mails about ordinary orders wait for working hours; major and VIP orders go at once."),
    )

    class Meta:
        verbose_name = _("workflow policy")
        verbose_name_plural = _("workflow policies")
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(condition=Q(callback_max_attempts__gte=1), name="policy_callback_attempts_positive"),
            models.CheckConstraint(
                condition=Q(dissatisfied_at_or_below__gte=1, satisfied_at_or_above__lte=5,
                            dissatisfied_at_or_below__lt=models.F("satisfied_at_or_above")),
                name="policy_rating_thresholds_ordered"),
            models.CheckConstraint(condition=Q(max_wait_days__gte=1), name="policy_max_wait_positive"),
        ]

    def rating_verdict(self, rating: int) -> str:
        if rating <= self.dissatisfied_at_or_below:
            return RatingVerdict.DISSATISFIED
        if rating >= self.satisfied_at_or_above:
            return RatingVerdict.SATISFIED
        return RatingVerdict.NEUTRAL


# --- time limits ---------------------------------------------------------------------------------------------


class BusinessCalendar(models.Model):
    """Working hours per weekday and a day table of exceptions (holidays, make-up working days 调休)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=64)
    name_en = models.CharField(_("name (English)"), max_length=64, blank=True)
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["-is_default", "code"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_calendar"),
        ]

    def __str__(self):
        return bilingual(self.name, self.name_en)


class WorkingPeriod(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE,
                                 related_name="periods")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(pgettext_lazy("time", "from"))
    end = models.TimeField(pgettext_lazy("time", "to"))

    class Meta:
        verbose_name = _("working period")
        verbose_name_plural = _("working periods")
        ordering = ["calendar", "weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="working_period_start_before_end"),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self):
        if self.start and self.end and self.start >= self.end:
            raise ValidationError({"end": _("The period must end after it starts.")})
        if self.calendar_id and self.start and self.end:
            overlapping = WorkingPeriod.objects.filter(
                calendar_id=self.calendar_id, weekday=self.weekday, start__lt=self.end, end__gt=self.start
            ).exclude(pk=self.pk)
            if overlapping.exists():
                raise ValidationError(_("This period overlaps another one on the same weekday."))


class CalendarDay(models.Model):
    class Source(models.TextChoices):
        PACKAGE = "package", _("Official notice (holidays package)")
        ADMIN = "admin", _("Entered by an administrator")

    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE,
                                 related_name="days")
    date = models.DateField(_("date"))
    is_working = models.BooleanField(_("working day"))
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.ADMIN)
    note = models.CharField(_("note (Chinese)"), max_length=200, blank=True)
    note_en = models.CharField(_("note (English)"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["calendar", "date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="one_entry_per_calendar_day")]

    def __str__(self):
        return f"{self.date} {_('working day') if self.is_working else _('day off')}"

    @property
    def note_label(self) -> str:
        return bilingual(self.note, self.note_en)


class CalendarYear(models.Model):
    """Whether a year's official holiday notice is in the day table; deadlines in other years are marked
    'calendar unconfirmed' and administrators are told once."""

    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE,
                                 related_name="years")
    year = models.PositiveSmallIntegerField(_("year"))
    confirmed = models.BooleanField(_("official notice entered"), default=False)
    note = models.CharField(_("note (Chinese)"), max_length=200, blank=True)
    note_en = models.CharField(_("note (English)"), max_length=200, blank=True)
    admins_told_at = models.DateTimeField(_("administrators told at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["calendar", "year"]
        constraints = [models.UniqueConstraint(fields=["calendar", "year"], name="one_entry_per_calendar_year")]

    def __str__(self):
        return f"{self.calendar} {self.year}"


class Stage(models.TextChoices):
    DISPATCH = "dispatch", _("Dispatch")
    CLAIM = "claim", _("Claim")
    HANDLE = "handle", _("Handle to reply")
    REVIEW = "review", _("Review")
    CALLBACK = "callback", _("Callback")
    # The customer's promise (承诺时限): the reply time promised at receipt, one clock for the whole order beside the
    # departments' own. Its limit is the policy's "promise" row, or its "handle to reply" row where it sets none.
    PROMISE = "promise", _("Customer's promise")


# The stages that are a step's own clock (a department's or the centre's); they end with their step.
STEP_STAGES = tuple(kind for kind in Stage.values if kind != Stage.PROMISE)
# The department clocks: each holding of the order by one unit, from arrival in its queue to passing it on or
# replying (the claim clock runs inside a department's handling and is not a holding of its own).
HOLDING_STAGES = (Stage.DISPATCH, Stage.HANDLE, Stage.REVIEW, Stage.CALLBACK)


class StageOutcome(models.TextChoices):
    """How a stage ended, judged by its own clock at that moment (blank while it runs)."""

    IN_TIME = "in_time", _("in time")
    LATE = "late", _("late")
    # A department's holding that ended in a return as "wrong department": not its lateness; the routing that sent
    # the order there (the dispatch or the transfer before) is judged late instead.
    MISROUTED = "misrouted", _("returned as misrouted")


class PromiseCause(models.TextChoices):
    """Why a customer's promise was made."""

    RECEIPT = "receipt", _("at receipt")
    REOPEN = "reopen", _("reopened after the callback")


# Pauses the customer causes: only these stop the customer's promise (an incident or any internal wait does not).
CUSTOMER_PAUSES = frozenset({"waiting_for_customer"})


class LimitUnit(models.TextChoices):
    CLOCK_MINUTES = "clock_minutes", _("minutes")
    CLOCK_HOURS = "clock_hours", _("hours")
    WORKING_HOURS = "working_hours", _("working hours")
    WORKING_DAYS = "working_days", _("working days")


class TimeLimitPolicy(EffectiveDated):
    """Which orders a set of stage limits applies to. Blank criteria match anything; when several policies match,
    the most specific wins, with criteria in this order of weight: category (deeper weighs more), customer tier,
    severity, channel, kind. A stage the winning policy leaves out comes from the next matching one. An order's
    stage is judged by the policies in force on the day the stage started."""

    name = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=16, blank=True, choices=Kind.choices)
    severity = models.CharField(_("severity"), max_length=16, blank=True, choices=Severity.choices)
    customer_tier = models.CharField(_("customer tier"), max_length=16, blank=True, choices=Tier.choices)
    channel = models.ForeignKey("complaints.Channel", verbose_name=_("channel"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey("complaints.Category", verbose_name=_("category (and below)"), null=True,
                                 blank=True, on_delete=models.PROTECT, related_name="+")
    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("calendar"), null=True, blank=True,
                                 on_delete=models.PROTECT, help_text=_("Empty: the default calendar."))
    warn_percent = models.PositiveSmallIntegerField(_("warning point (per cent of the limit)"), default=80)
    note = models.CharField(_("note (Chinese)"), max_length=200, blank=True)
    note_en = models.CharField(_("note (English)"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("time-limit policy")
        verbose_name_plural = _("time-limit policies")
        ordering = ["-effective_from", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(warn_percent__gte=1, warn_percent__lte=99),
                                   name="policy_warn_percent_1_to_99"),
        ]

    def __str__(self):
        return f"{self.label} ({self.effective_from})"

    @property
    def label(self) -> str:
        return bilingual(self.name, self.name_en)

    def criteria(self) -> tuple:
        return (self.kind, self.severity, self.customer_tier, self.channel_id, self.category_id)

    @property
    def specificity(self) -> int:
        level = self.category.level if self.category_id else 0
        return (
            16 * level + 8 * bool(self.customer_tier) + 4 * bool(self.severity) + 2 * bool(self.channel_id)
            + bool(self.kind)
        )

    def clean(self):
        same = TimeLimitPolicy.objects.filter(
            effective_from=self.effective_from, kind=self.kind, severity=self.severity,
            customer_tier=self.customer_tier, channel_id=self.channel_id, category_id=self.category_id,
        ).exclude(pk=self.pk)
        if same.exists():
            raise ValidationError(
                _("Policy “%(name)s” already has these criteria from the same day: the two would tie. Change the "
                  "criteria or the effective date.") % {"name": same.first().name}
            )


class StageLimit(models.Model):
    policy = models.ForeignKey(TimeLimitPolicy, verbose_name=_("policy"), on_delete=models.CASCADE,
                               related_name="limits")
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    amount = models.PositiveIntegerField(_("limit"))
    unit = models.CharField(_("unit"), max_length=16, choices=LimitUnit.choices)
    warn_percent = models.PositiveSmallIntegerField(_("warning point (per cent)"), null=True, blank=True,
                                                    help_text=_("Empty: the policy's."))

    class Meta:
        verbose_name = _("stage limit")
        verbose_name_plural = _("stage limits")
        ordering = ["policy", "stage"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "stage"], name="one_limit_per_stage"),
            models.CheckConstraint(condition=Q(amount__gte=1), name="stage_limit_positive"),
            models.CheckConstraint(condition=Q(warn_percent__isnull=True)
                                   | Q(warn_percent__gte=1, warn_percent__lte=99), name="stage_warn_percent_1_to_99"),
        ]

    def __str__(self):
        return f"{self.get_stage_display()}: {self.amount} {self.get_unit_display()}"


class OrderStage(TimedRow):
    """One running (or finished) timed stage of an order: its deadline and warning point, the policy that set
    them, pauses, and what the sweep found. Deadlines are columns, not timers: the sweep reads the open rows
    through partial indexes."""

    order = models.ForeignKey("complaints.WorkOrder", verbose_name=_("work order"), on_delete=models.PROTECT,
                              related_name="stages")
    kind = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    department = models.ForeignKey("org.Department", verbose_name=_("department"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(_("started at"))
    original_due_at = models.DateTimeField(_("original deadline"))
    policy = models.ForeignKey(TimeLimitPolicy, verbose_name=_("policy"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    limit_amount = models.PositiveIntegerField(_("limit"))
    limit_unit = models.CharField(_("unit"), max_length=16, choices=LimitUnit.choices)
    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("calendar"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    calendar_unconfirmed = models.BooleanField(_("calendar unconfirmed"), default=False)
    paused_at = models.DateTimeField(_("paused since"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    next_escalation_at = models.DateTimeField(_("next escalation at"), null=True, blank=True)
    extended = models.BooleanField(_("extended"), default=False)
    # A customer's promise: why it was made (receipt, reopen); blank for the steps' own stages.
    cause = models.CharField(_("promised because"), max_length=16, choices=PromiseCause.choices, blank=True, default="")
    # Recorded when the stage ends, for whatever reason (reply, transfer, return, assignment, cancellation):
    # late when its clock had run past the deadline; a paused clock stopped when the pause began.
    outcome = models.CharField(_("outcome"), max_length=12, choices=StageOutcome.choices, blank=True, default="")

    class Meta:
        verbose_name = _("order stage")
        verbose_name_plural = _("order stages")
        ordering = ["started_at", "id"]
        indexes = [
            models.Index(fields=["order", "started_at"], name="stage_order"),
            # The sweep's three questions, each answered from a partial index on open rows only.
            *timed_indexes(prefix="stage", open_rows={"ended_at__isnull": True, "paused_at__isnull": True}),
            models.Index(fields=["next_escalation_at"], name="stage_escalation_due",
                         condition=Q(ended_at__isnull=True, next_escalation_at__isnull=False)),
            models.Index(fields=["order"], name="stage_open_by_order", condition=Q(ended_at__isnull=True)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(warn_at__lte=models.F("due_at")), name="stage_warn_before_due"),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True, outcome="")
                | Q(ended_at__isnull=False, outcome__in=StageOutcome.values),
                name="stage_outcome_when_ended"),
        ]

    def __str__(self):
        return _("%(order)s %(stage)s due %(at)s") % {"order": self.order_id, "stage": self.get_kind_display(),
                                                      "at": f"{self.due_at:%Y-%m-%d %H:%M}"}

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @property
    def met(self) -> bool | None:
        """Ended within its (possibly extended) deadline; None while running, and for a holding returned as
        misrouted (not the department's to meet)."""
        if not self.outcome or self.outcome == StageOutcome.MISROUTED:
            return None
        return self.outcome == StageOutcome.IN_TIME


class StagePause(models.Model):
    stage = models.ForeignKey(OrderStage, verbose_name=_("stage"), on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField(_("paused at"))
    ended_at = models.DateTimeField(_("resumed at"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=32)

    class Meta:
        verbose_name = _("stage pause")
        verbose_name_plural = _("stage pauses")
        ordering = ["started_at"]

    def __str__(self):
        return f"{self.stage_id} {self.started_at:%Y-%m-%d %H:%M}"


class SlaAlert(models.Model):
    """What the sweep detected (a warning, a breach, a further escalation level), stamped with the moment it
    really happened; a second step turns it into notifications, once."""

    class Kind(models.TextChoices):
        WARNING = "warning", _("Deadline near")
        OVERDUE = "overdue", _("Overdue")
        ESCALATION = "escalation", _("Escalated further")

    stage = models.ForeignKey(OrderStage, verbose_name=_("stage"), on_delete=models.CASCADE, related_name="alerts")
    order = models.ForeignKey("complaints.WorkOrder", verbose_name=_("work order"), on_delete=models.CASCADE,
                              related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    happened_at = models.DateTimeField(_("happened at"))
    detected_at = models.DateTimeField(_("detected at"), default=timezone.now)
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)

    class Meta:
        verbose_name = _("deadline alert")
        verbose_name_plural = _("deadline alerts")
        ordering = ["happened_at", "id"]
        indexes = [models.Index(fields=["detected_at"], name="alert_unnotified",
                                condition=Q(notified_at__isnull=True))]

    def __str__(self):
        return f"{self.order_id} {self.get_kind_display()} {self.happened_at:%Y-%m-%d %H:%M}"


class ExtensionRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    stage = models.ForeignKey(OrderStage, verbose_name=_("stage"), on_delete=models.PROTECT,
                              related_name="extensions")
    order = models.ForeignKey("complaints.WorkOrder", verbose_name=_("work order"), on_delete=models.PROTECT,
                              related_name="extension_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("requested by"), null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    requested_by_name = models.CharField(_("requested by"), max_length=64)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    until = models.DateTimeField(_("new deadline asked for"))
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("decision reason"), blank=True)

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["requested_at"], name="extension_pending",
                                condition=Q(status="pending"))]
        constraints = [
            models.UniqueConstraint(fields=["stage"], condition=Q(status="pending"),
                                    name="one_pending_extension_per_stage"),
        ]

    def __str__(self):
        return f"{self.order_id} → {self.until:%Y-%m-%d %H:%M} ({self.get_status_display()})"


class Heartbeat(models.Model):
    """When a periodic job last ran, by name: beat schedules `workflow.tasks.heartbeat`, a worker runs it, so a
    fresh row says both are alive (`/healthz`); the sweeps stamp their own names too."""

    name = models.CharField(_("name"), max_length=64, primary_key=True)
    ran_at = models.DateTimeField(_("last ran at"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self):
        return f"{self.name} {self.ran_at:%Y-%m-%d %H:%M:%S}"
