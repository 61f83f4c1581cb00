from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import AbstractProcess, AbstractTask


class OrderEvent(models.Model):
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

    # Actions whose fact (never the comment or the actor) a customer may see on the progress page.
    PUBLIC_ACTIONS = frozenset({
        Action.RECEIVED, Action.RESOLVED_ON_SPOT, Action.IMPORTED, Action.DISPATCHED, Action.AUTO_DISPATCHED,
        Action.CLAIMED, Action.REPLIED, Action.CALLED_BACK, Action.REOPENED, Action.CLOSED, Action.CANCELLED,
    })

    order = models.ForeignKey(
        "complaints.WorkOrder", verbose_name=_("work order"), on_delete=models.PROTECT, related_name="events"
    )
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=64)
    from_status = models.CharField(_("from"), max_length=24, blank=True)
    to_status = models.CharField(_("to"), max_length=24, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"], name="event_order_created")]

    def __str__(self):
        return f"{self.order_id} {self.action} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_public(self) -> bool:
        return self.action in self.PUBLIC_ACTIONS

    def status_label(self, value: str) -> str:
        from complaints.models import OrderStatus

        return OrderStatus(value).label if value in OrderStatus.values else value

    @property
    def from_label(self) -> str:
        return self.status_label(self.from_status)

    @property
    def to_label(self) -> str:
        return self.status_label(self.to_status)


class OrderProcess(AbstractProcess):
    """The viewflow process that drives one work order."""

    order = models.OneToOneField(
        "complaints.WorkOrder", verbose_name=_("work order"), on_delete=models.PROTECT, related_name="process"
    )

    class Meta:
        verbose_name = _("order process")
        verbose_name_plural = _("order processes")


class OrderTask(AbstractTask):
    """One step of an order's process (dispatch, handle, review, callback…), with the department it sat with."""

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

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    order = models.ForeignKey(
        "complaints.WorkOrder", verbose_name=_("work order"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    actor_name = models.CharField(_("by"), max_length=64, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Outbox state: NULL until a sender claims it; a recipient without an address is marked done at once.
    email_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            models.Index(fields=["recipient"], name="notification_unread", condition=Q(read_at__isnull=True)),
            models.Index(fields=["created_at"], name="notification_unsent", condition=Q(emailed_at__isnull=True)),
        ]

    def __str__(self):
        return f"{self.recipient_id} {self.kind} {self.order_id}"


class WorkflowPolicy(models.Model):
    """Workflow rules an operator tunes; the version in force is the latest effective one."""

    effective_from = models.DateField(_("effective from"), unique=True)
    callback_max_attempts = models.PositiveSmallIntegerField(
        _("callback attempts"), default=3,
        help_text=_("After this many unanswered calls the order is closed as 'customer not reached'."),
    )
    reopen_at_or_below = models.PositiveSmallIntegerField(
        _("reopen at or below"), default=2,
        help_text=_("A callback rating at or below this (1–5) reopens the order."),
    )
    max_wait_days = models.PositiveSmallIntegerField(
        _("longest wait for the customer (days)"), default=7,
    )

    class Meta:
        verbose_name = _("workflow policy")
        verbose_name_plural = _("workflow policies")
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(condition=Q(callback_max_attempts__gte=1), name="policy_callback_attempts_positive"),
            models.CheckConstraint(condition=Q(reopen_at_or_below__gte=1, reopen_at_or_below__lte=4),
                                   name="policy_reopen_threshold_1_to_4"),
            models.CheckConstraint(condition=Q(max_wait_days__gte=1), name="policy_max_wait_positive"),
        ]

    def __str__(self):
        return str(self.effective_from)
