"""Internal support requests (内部服务支撑工单): a frontline unit asks head office a question (problem) or for a
change (requirement); the quality department sorts it, a back-office department answers it with its lead's
approval, the requester rates the answer. The request row keeps its current step and its deadline columns, so lists
and the sweep read one table; the viewflow process (SupportProcess / SupportTask) keeps the steps' history."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import AbstractProcess, AbstractTask

from core.audit import AuditEvent
from core.effective import EffectivePolicy
from core.timed import TimedRow, timed_indexes
from workflow.steps import process_label, task_label


class SupportPolicy(EffectivePolicy):
    """The time limits of support requests; a request is judged by the version in force the day it was raised."""

    problem_working_days = models.PositiveSmallIntegerField(_("problem: answer within (working days)"), default=5)
    requirement_working_days = models.PositiveSmallIntegerField(
        _("requirement: answer within (working days)"), default=10)
    max_deferral_working_days = models.PositiveSmallIntegerField(
        _("longest deferral (working days)"), default=30,
        help_text=_("A deferred request's new date must lie within this many working days of the deferral."))
    warn_percent = models.PositiveSmallIntegerField(
        _("warning point (per cent of the time limit)"), default=80)
    rating_window_working_days = models.PositiveSmallIntegerField(
        _("rating window (working days)"), default=5,
        help_text=_("An answer the requester has not rated within this many working days is closed without a "
                    "rating."))
    reopen_at_or_below = models.PositiveSmallIntegerField(
        _("reopen at or below"), default=2,
        help_text=_("A rating at or below this lets the requester send the request back to the quality department "
                    "(once). 0: never."))
    calendar = models.ForeignKey("workflow.BusinessCalendar", verbose_name=_("calendar"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+", help_text=_("Empty: the default calendar."))

    class Meta:
        verbose_name = _("support policy")
        verbose_name_plural = _("support policies")
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(condition=Q(problem_working_days__gte=1, requirement_working_days__gte=1,
                                               max_deferral_working_days__gte=1, rating_window_working_days__gte=1),
                                   name="support_policy_days_positive"),
            models.CheckConstraint(condition=Q(warn_percent__gte=1, warn_percent__lte=99),
                                   name="support_policy_warn_percent_1_to_99"),
            models.CheckConstraint(condition=Q(reopen_at_or_below__lte=4), name="support_policy_reopen_0_to_4"),
        ]

    def working_days_for(self, kind: str) -> int:
        return self.problem_working_days if kind == SupportRequest.Kind.PROBLEM else self.requirement_working_days


class SupportRequest(TimedRow):
    class Kind(models.TextChoices):
        PROBLEM = "problem", _("Problem")
        REQUIREMENT = "requirement", _("Requirement")

    class Status(models.TextChoices):
        SORTING = "sorting", _("Being sorted")
        HANDLING = "handling", _("With the department")
        APPROVAL = "approval", _("Awaiting the lead's approval")
        RATING = "rating", _("Answered, awaiting rating")
        CLOSED = "closed", _("Closed")

    class Resolution(models.TextChoices):
        RATED = "rated", _("Rated by the requester")
        NOT_RATED = "not_rated", _("Closed without a rating")
        REJECTED = "rejected", _("Not a support matter")

    # Steps whose promised date is running (the sweep watches these).
    ANSWER_PENDING = (Status.SORTING, Status.HANDLING, Status.APPROVAL)

    number = models.CharField(_("request number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("requester"), on_delete=models.PROTECT,
                                  related_name="+")
    requester_name = models.CharField(_("requester name"), max_length=64)
    requester_department = models.ForeignKey("org.Department", verbose_name=_("requesting unit"),
                                             on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(_("request raised at"), default=timezone.now)
    policy = models.ForeignKey(SupportPolicy, verbose_name=_("policy"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")

    # The current step (kept in step by the flow's hooks).
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SORTING)
    department = models.ForeignKey("org.Department", verbose_name=_("department"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   help_text=_("The back-office department the quality department routed it to."))
    routed_at = models.DateTimeField(_("routed at"), null=True, blank=True)

    # The promised answer: set when the request is raised (or reopened), moved by a deferral.
    clock_started_at = models.DateTimeField(_("clock started at"))
    due_at = models.DateTimeField(_("promised answer by"))  # warn_at, warned_at, overdue_at: TimedRow's
    original_due_at = models.DateTimeField(_("originally promised by"))
    calendar_unconfirmed = models.BooleanField(_("calendar unconfirmed"), default=False)

    # 暂缓: at most once, within the policy's working days.
    deferred_at = models.DateTimeField(_("deferred at"), null=True, blank=True)
    deferred_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("deferred by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    deferral_reason = models.TextField(_("reason for the deferral"), blank=True)

    # The answer: written by a handler (or the quality department directly), approved by the department's lead.
    answer = models.TextField(_("answer"), blank=True)
    answer_written_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("answer written by"), null=True,
                                          blank=True, on_delete=models.SET_NULL, related_name="+")
    answer_written_at = models.DateTimeField(_("answer written at"), null=True, blank=True)
    answered_department = models.ForeignKey("org.Department", verbose_name=_("answered by department"), null=True,
                                            blank=True, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True,
                                       help_text=_("When the answer was approved and sent to the requester."))
    answered_on_time = models.BooleanField(_("answered on time"), null=True, blank=True)

    # The requester's verdict.
    rating_due_at = models.DateTimeField(_("rate by"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.TextField(_("rating comment"), blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)

    resolution = models.CharField(_("resolution"), max_length=16, choices=Resolution.choices, blank=True)
    close_reason = models.TextField(_("reason"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("support request")
        verbose_name_plural = _("support requests")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["-received_at", "-id"], name="support_received"),
            models.Index(fields=["requester_department", "-received_at"], name="support_by_unit"),
            models.Index(fields=["department", "-received_at"], name="support_by_department"),
            # The on-time rates: answers by department (and period).
            models.Index(fields=["answered_department", "answered_at"], name="support_answered",
                         condition=Q(answered_at__isnull=False)),
            models.Index(fields=["status", "received_at"], name="support_open_by_status",
                         condition=~Q(status="closed")),
            # The sweep's questions, each answered from a partial index on the rows still waiting.
            *timed_indexes(prefix="support", open_rows={"status__in": ["sorting", "handling", "approval"]}),
            models.Index(fields=["rating_due_at"], name="support_rating_due", condition=Q(status="rating")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(warn_at__lte=models.F("due_at")), name="support_warn_before_due"),
            models.CheckConstraint(condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                                   name="support_rating_1_to_5"),
            models.CheckConstraint(condition=Q(reopen_count__lte=1), name="support_reopened_at_most_once"),
            models.CheckConstraint(condition=Q(status="closed", closed_at__isnull=False)
                                   | (~Q(status="closed") & Q(closed_at__isnull=True)),
                                   name="support_closed_iff_closed_at"),
        ]

    def __str__(self):
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED

    @property
    def is_deferred(self) -> bool:
        return self.deferred_at is not None

    @property
    def awaits_answer(self) -> bool:
        return self.status in self.ANSWER_PENDING

    def is_overdue(self, now=None) -> bool:
        """Still waiting for its answer after the promised date (after any deferral)."""
        return self.awaits_answer and (now or timezone.now()) >= self.due_at

    def is_near_deadline(self, now=None) -> bool:
        now = now or timezone.now()
        return self.awaits_answer and self.warn_at <= now < self.due_at

    def colour(self, now=None) -> str:
        """closed (black) / overdue (red) / open (orange): the colour of the request in every list."""
        if not self.is_open:
            return "closed"
        return "overdue" if self.is_overdue(now) else "open"


class SupportEvent(AuditEvent):
    """The append-only history of a support request (a PostgreSQL trigger refuses UPDATE and DELETE)."""

    class Action(models.TextChoices):
        RAISED = "raised", _("Request raised")
        ROUTED = "routed", _("Routed to a department")
        ANSWERED_BY_QUALITY = "answered_by_quality", _("Answered by the quality department")
        REJECTED = "rejected", _("Rejected as not a support matter")
        ANSWER_WRITTEN = "answer_written", _("Answer written")
        RETURNED = "returned", _("Returned to the quality department")
        DEFERRED = "deferred", _("Deferred")
        APPROVED = "approved", _("Answer approved and sent")
        SENT_BACK = "sent_back", _("Answer sent back to the handler")
        RATED = "rated", _("Rated")
        REOPENED = "reopened", _("Reopened")
        CLOSED = "closed", _("Closed")
        AUTO_CLOSED = "auto_closed", _("Closed without a rating")
        COMMENTED = "commented", _("Comment")
        DEADLINE_NEAR = "deadline_near", _("Deadline near (warning)")
        OVERDUE = "overdue", _("Overdue")

    request = models.ForeignKey(SupportRequest, verbose_name=_("support request"), on_delete=models.PROTECT,
                                related_name="events")
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)

    class Meta(AuditEvent.Meta):
        verbose_name = _("support request event")
        verbose_name_plural = _("support request events")
        indexes = [models.Index(fields=["request", "created_at"], name="support_event_request")]

    def __str__(self):
        return f"{self.request_id} {self.get_action_display()} {self.created_at:%Y-%m-%d %H:%M}"

    def _status_label(self, value: str) -> str:
        return SupportRequest.Status(value).label if value in SupportRequest.Status.values else value

    @property
    def from_label(self) -> str:
        return self._status_label(self.from_status)

    @property
    def to_label(self) -> str:
        return self._status_label(self.to_status)


class SupportProcess(AbstractProcess):
    """The viewflow process that drives one support request."""

    def __str__(self):
        return process_label(self)

    request = models.OneToOneField(SupportRequest, verbose_name=_("support request"), on_delete=models.PROTECT,
                                   related_name="process")

    class Meta:
        verbose_name = _("support process")
        verbose_name_plural = _("support processes")


class SupportTask(AbstractTask):
    """One step of a support request's process (sort, handle, approve, rate), with the department it sat with."""

    def __str__(self):
        return task_label(self)

    # viewflow reaches a process's tasks as `process.task_set`.
    process = models.ForeignKey(SupportProcess, verbose_name=_("process"), on_delete=models.CASCADE,
                                related_name="task_set")
    department = models.ForeignKey("org.Department", verbose_name=_("department"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("support task")
        verbose_name_plural = _("support tasks")
        ordering = ["created", "id"]
        indexes = [
            models.Index(fields=["process"], name="support_task_open",
                         condition=Q(status__in=["NEW", "ASSIGNED", "STARTED"])),
        ]
