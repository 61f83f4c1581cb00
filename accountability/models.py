"""Accountability (认责): who answers for each closed complaint, the yearly indicators and deduction items, the
monthly scores, notices and improvement orders.

Every closed complaint gets a determination: the responsible department(s) with their shares and the cause,
proposed from the responsibility rules in force when it closed, confirmed or changed by the complaint centre, open
to appeal by the department's lead for a few working days, final afterwards. A department's month is scored from
the determinations of the complaints closed in it and the deductions recorded against it, against the indicators
and targets of that year. Rules, indicators, targets and deduction items are data, edited in admin.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import AuditEvent
from core.effective import EffectiveDated, EffectivePolicy
from core.timed import TimedRow, timed_indexes


class Cause(models.TextChoices):
    COMPANY = "company", _("Company-caused")
    CUSTOMER = "customer", _("Customer-caused")
    THIRD_PARTY = "third_party", _("Third party (e.g. an SP)")
    FORCE_MAJEURE = "force_majeure", _("Force majeure")


# The causes a department answers for: its attributed complaints count against it.
ATTRIBUTABLE_CAUSES = (Cause.COMPANY, Cause.THIRD_PARTY)


class AccountabilityPolicy(EffectivePolicy):
    """Accountability rules an operator tunes; the version in force is the latest effective one."""

    appeal_working_days = models.PositiveSmallIntegerField(
        _("appeal within (working days)"), default=5,
        help_text=_("How long a department lead has to appeal a determination or a deduction."))
    notice_ack_working_days = models.PositiveSmallIntegerField(
        _("acknowledge a notice within (working days)"), default=3)
    improvement_answer_working_days = models.PositiveSmallIntegerField(
        _("answer an improvement order within (working days)"), default=10)
    warn_percent = models.PositiveSmallIntegerField(_("warning point (per cent of the time)"), default=80)
    passes_allowed = models.PositiveSmallIntegerField(
        _("passes allowed (transfers and returns)"), default=2,
        help_text=_("An order passed between departments more often than this gets a buck-passing (推诿) deduction "
                    "proposed to the complaint centre when it closes."))

    class Meta:
        verbose_name = _("accountability policy")
        verbose_name_plural = _("accountability policies")
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(condition=Q(appeal_working_days__gte=1), name="acc_appeal_days_positive"),
            models.CheckConstraint(condition=Q(notice_ack_working_days__gte=1), name="acc_notice_days_positive"),
            models.CheckConstraint(condition=Q(improvement_answer_working_days__gte=1),
                                   name="acc_improvement_days_positive"),
            models.CheckConstraint(condition=Q(warn_percent__gte=1, warn_percent__lte=99), name="acc_warn_1_99"),
        ]


# --- responsibility rules and determinations ----------------------------------------------------------------


class ResponsibilityRule(EffectiveDated):
    """Who answers for the complaints of a category (and below) from a date on: one department, or several with
    their shares (they add up to 1). The deepest category of an order's path that has a rule decides (level 3
    decides; levels 4–5 refine cross-department cases); of several versions, the latest in force."""

    category = models.ForeignKey("complaints.Category", verbose_name=_("category (and below)"),
                                 on_delete=models.PROTECT, related_name="+")
    cause = models.CharField(_("usual cause"), max_length=16, choices=Cause.choices, default=Cause.COMPANY)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("responsibility rule")
        verbose_name_plural = _("responsibility rules")
        ordering = ["category__path", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["category", "effective_from"], name="one_rule_per_day")]

    def __str__(self):
        return f"{self.category} ({self.effective_from})"


class RuleShare(models.Model):
    rule = models.ForeignKey(ResponsibilityRule, verbose_name=_("rule"), on_delete=models.CASCADE,
                             related_name="shares")
    department = models.ForeignKey("org.Department", verbose_name=_("department"), on_delete=models.PROTECT,
                                   related_name="+")
    share = models.DecimalField(_("share"), max_digits=5, decimal_places=4, default=Decimal("1"))

    class Meta:
        verbose_name = _("rule share")
        verbose_name_plural = _("rule shares")
        constraints = [
            models.UniqueConstraint(fields=["rule", "department"], name="one_share_per_department"),
            models.CheckConstraint(condition=Q(share__gt=0, share__lte=1), name="rule_share_0_to_1"),
        ]

    def __str__(self):
        return f"{self.department} {self.share}"


class Determination(models.Model):
    """认责: the department(s) answering for one closed complaint, and why."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed from the rules")
        CONFIRMED = "confirmed", _("Confirmed by the complaint centre")
        APPEALED = "appealed", _("Under appeal")
        FINAL = "final", _("Final")

    order = models.OneToOneField("complaints.WorkOrder", verbose_name=_("work order"), on_delete=models.PROTECT,
                                 related_name="determination")
    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("month"), help_text=_("The month the order closed in (its first day)."))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PROPOSED)
    cause = models.CharField(_("cause"), max_length=16, choices=Cause.choices)
    rule = models.ForeignKey(ResponsibilityRule, verbose_name=_("rule"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.TextField(_("reason for the change"), blank=True)
    appeal_due_at = models.DateTimeField(_("appeal until"))
    final_at = models.DateTimeField(_("final at"), null=True, blank=True)
    # From the department clocks when it was proposed: each department whose own clock ran late, its working
    # time holding the order and that time's share of the whole ({"department": id, "name", "seconds", "share"}).
    late_holdings = models.JSONField(_("departments late on their own clock"), default=list, blank=True)
    # Transfers and returns of the order; past the policy's allowance a buck-passing deduction is proposed to the
    # centre against the department that passed it on most (`passed_on_by`), never recorded without it.
    passes = models.PositiveSmallIntegerField(_("times passed on"), default=0)
    passed_on_by = models.ForeignKey("org.Department", verbose_name=_("passed on most by"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("determination")
        verbose_name_plural = _("determinations")
        ordering = ["-proposed_at", "-id"]
        indexes = [
            models.Index(fields=["month", "region"], name="determination_month"),
            models.Index(fields=["appeal_due_at"], name="determination_to_finalise",
                         condition=Q(status__in=["proposed", "confirmed"])),
            models.Index(fields=["region", "proposed_at"], name="determination_to_confirm",
                         condition=Q(status="proposed")),
        ]
        constraints = [models.CheckConstraint(condition=Q(month__day=1), name="determination_month_first_day")]

    def __str__(self):
        return f"{self.order_id} {self.get_cause_display()}"

    @property
    def buck_passing_proposed(self) -> bool:
        return self.passed_on_by_id is not None

    @property
    def is_open_to_appeal(self) -> bool:
        return self.status in (self.Status.PROPOSED, self.Status.CONFIRMED) and timezone.now() < self.appeal_due_at


class DeterminationShare(models.Model):
    determination = models.ForeignKey(Determination, verbose_name=_("determination"), on_delete=models.CASCADE,
                                      related_name="shares")
    department = models.ForeignKey("org.Department", verbose_name=_("department"), on_delete=models.PROTECT,
                                   related_name="+")
    share = models.DecimalField(_("share"), max_digits=5, decimal_places=4)

    class Meta:
        verbose_name = _("determination share")
        verbose_name_plural = _("determination shares")
        indexes = [models.Index(fields=["department", "determination"], name="share_by_department")]
        constraints = [
            models.UniqueConstraint(fields=["determination", "department"], name="one_share_per_determination"),
            models.CheckConstraint(condition=Q(share__gt=0, share__lte=1), name="determination_share_0_to_1"),
        ]

    def __str__(self):
        return f"{self.department_id} {self.share}"


# --- indicators, deductions ---------------------------------------------------------------------------------


class Indicator(models.Model):
    """A scored indicator of a year: a KPI of the library (or an accountability count) with its direction, a
    default monthly target and its weight in the score."""

    class Measure(models.TextChoices):
        TIMELINESS = "timeliness", _("Timeliness rate")
        # The department's own clocks: its holdings of the month's closed complaints ended within its limit.
        DEPARTMENT_TIMELINESS = "department_timeliness", _("Departmental timeliness (its own clock)")
        OVERDUE_COUNT = "overdue_count", _("Overdue orders")
        OVERDUE_RATE = "overdue_rate", _("Overdue rate")
        REPEAT_RATE = "repeat_rate", _("Repeat-complaint rate")
        SATISFACTION = "satisfaction", _("Satisfaction")
        DISSATISFACTION = "dissatisfaction", _("Dissatisfaction")
        ESCALATION_COUNT = "escalation_count", _("Escalated orders")
        REOPEN_RATE = "reopen_rate", _("Reopen rate")
        ATTRIBUTED = "attributed", _("Complaints attributed")
        PER_10K = "per_10k", _("Attributed complaints per 10,000 subscribers")
        APPEALS_LOST = "appeals_lost", _("Appeals lost")
        INCIDENT_FEEDBACK = "incident_feedback", _("Batch incidents: feedback in time (%)")
        INCIDENT_RECOVERY = "incident_recovery", _("Batch incidents: hours to recovery")

    year = models.PositiveSmallIntegerField(_("year"))
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    measure = models.CharField(_("definition"), max_length=24, choices=Measure.choices)
    higher_is_better = models.BooleanField(_("higher is better"))
    target = models.DecimalField(_("default monthly target"), max_digits=10, decimal_places=2,
                                 help_text=_("Rates in per cent, counts as numbers."))
    weight = models.DecimalField(_("weight (points)"), max_digits=6, decimal_places=2)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["-year", "code"]
        constraints = [
            models.UniqueConstraint(fields=["year", "code"], name="one_indicator_code_per_year"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="indicator_weight_positive"),
        ]

    def __str__(self):
        return f"{self.year} {self.name}"

    @property
    def is_rate(self) -> bool:
        """Its values are per cent (0–100)."""
        return self.measure in RATE_MEASURES


RATE_MEASURES = (Indicator.Measure.TIMELINESS, Indicator.Measure.OVERDUE_RATE, Indicator.Measure.REPEAT_RATE,
                 Indicator.Measure.SATISFACTION, Indicator.Measure.DISSATISFACTION, Indicator.Measure.REOPEN_RATE,
                 Indicator.Measure.INCIDENT_FEEDBACK)


class IndicatorTarget(models.Model):
    """A step of a department's own target of an indicator: in force from its month until the department's next
    step of the same indicator (the indicator's yearly default before the first). Written only through
    accountability.services.indicator_targets_set, which keeps an IndicatorTargetChange of every change."""

    indicator = models.ForeignKey(Indicator, verbose_name=_("indicator"), on_delete=models.CASCADE,
                                  related_name="targets")
    department = models.ForeignKey("org.Department", verbose_name=_("department"), on_delete=models.PROTECT,
                                   related_name="+")
    from_month = models.DateField(_("from month"), help_text=_("The first day of the first month the target is "
                                                              "in force."))
    target = models.DecimalField(_("monthly target"), max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = _("department target")
        verbose_name_plural = _("department targets")
        ordering = ["indicator", "department", "from_month"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "department", "from_month"],
                                    name="one_target_step_per_month"),
            models.CheckConstraint(condition=Q(from_month__day=1), name="target_step_month_first_day"),
            models.CheckConstraint(condition=Q(target__gte=0), name="target_step_not_negative"),
        ]

    def __str__(self):
        return f"{self.indicator} {self.department} {self.from_month:%Y-%m}: {self.target}"


class IndicatorTargetChange(models.Model):
    """Who set, changed or removed which step of a department's target, from what to what (append-only)."""

    indicator = models.ForeignKey(Indicator, verbose_name=_("indicator"), on_delete=models.CASCADE,
                                  related_name="+")
    department = models.ForeignKey("org.Department", verbose_name=_("department"), on_delete=models.PROTECT,
                                   related_name="+")
    from_month = models.DateField(_("from month"))
    old_target = models.DecimalField(_("old target"), max_digits=10, decimal_places=2, null=True, blank=True)
    new_target = models.DecimalField(_("new target"), max_digits=10, decimal_places=2, null=True, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("changed by"), null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    changed_by_name = models.CharField(_("changed by"), max_length=150)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("target change")
        verbose_name_plural = _("target changes")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["department", "-changed_at"], name="target_change_by_department")]

    def __str__(self):
        return f"{self.changed_by_name} {self.indicator} {self.department} {self.from_month:%Y-%m}"


class DeductionItem(models.Model):
    """扣分项 of a year: what it is and how many points it costs."""

    class Kind(models.TextChoices):
        MAJOR_COMPLAINT = "major_complaint", _("Major complaint")
        MEDIA = "media", _("Exposure in the media")
        REGULATOR = "regulator", _("Case filed with the regulator (MIIT)")
        MISHANDLED = "mishandled", _("Escalated because of mishandling")
        OVERDUE = "overdue", _("Overdue order")
        BUCK_PASSING = "buck_passing", _("Buck-passing")
        LATE_REPORT = "late_report", _("Late or false report of a major complaint")

    year = models.PositiveSmallIntegerField(_("year"))
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    points = models.DecimalField(_("points"), max_digits=6, decimal_places=2)
    major = models.BooleanField(_("major incident"), default=False,
                                help_text=_("Makes an accountability record (问责) as well."))

    class Meta:
        verbose_name = _("deduction item")
        verbose_name_plural = _("deduction items")
        ordering = ["-year", "code"]
        constraints = [
            models.UniqueConstraint(fields=["year", "code"], name="one_deduction_code_per_year"),
            models.CheckConstraint(condition=Q(points__gt=0), name="deduction_points_positive"),
        ]

    def __str__(self):
        return f"{self.year} {self.name} (−{self.points})"


class Deduction(models.Model):
    class Status(models.TextChoices):
        RECORDED = "recorded", _("Recorded")
        APPEALED = "appealed", _("Under appeal")
        FINAL = "final", _("Final")
        CANCELLED = "cancelled", _("Cancelled on appeal")

    item = models.ForeignKey(DeductionItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey("org.Department", verbose_name=_("department"), on_delete=models.PROTECT,
                                   related_name="+")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("person"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey("complaints.WorkOrder", verbose_name=_("work order"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("month"))
    points = models.DecimalField(_("points"), max_digits=6, decimal_places=2)
    evidence = models.TextField(_("evidence"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.RECORDED)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    appeal_due_at = models.DateTimeField(_("appeal until"))

    class Meta:
        verbose_name = _("deduction")
        verbose_name_plural = _("deductions")
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["month", "department"], name="deduction_month")]
        constraints = [models.CheckConstraint(condition=Q(month__day=1), name="deduction_month_first_day")]

    def __str__(self):
        return f"{self.department} −{self.points} ({self.month:%Y-%m})"

    @property
    def counts(self) -> bool:
        return self.status != self.Status.CANCELLED

    @property
    def is_open_to_appeal(self) -> bool:
        return self.status == self.Status.RECORDED and timezone.now() < self.appeal_due_at


class AccountabilityRecord(models.Model):
    """问责: the record a major incident leaves, with what was decided about it."""

    deduction = models.OneToOneField(Deduction, verbose_name=_("deduction"), on_delete=models.PROTECT,
                                     related_name="record")
    summary = models.TextField(_("summary"))
    decision = models.TextField(_("decision"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("accountability record")
        verbose_name_plural = _("accountability records")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.deduction}"


class Appeal(models.Model):
    """申诉 against a determination or a deduction: filed by the department's lead with evidence, upheld (the
    original stands) or overturned (it changes) by the complaint centre with a reason."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        UPHELD = "upheld", _("Upheld: the original stands")
        OVERTURNED = "overturned", _("Overturned")

    determination = models.ForeignKey(Determination, verbose_name=_("determination"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="appeals")
    deduction = models.ForeignKey(Deduction, verbose_name=_("deduction"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="appeals")
    department = models.ForeignKey("org.Department", verbose_name=_("department"), on_delete=models.PROTECT,
                                   related_name="+")
    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("filed by"), on_delete=models.PROTECT,
                                 related_name="+")
    filed_at = models.DateTimeField(_("filed at"), default=timezone.now)
    reason = models.TextField(_("reason"))
    evidence = models.TextField(_("evidence"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("decision reason"), blank=True)

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["-filed_at", "-id"]
        indexes = [models.Index(fields=["region", "filed_at"], name="appeal_pending",
                                condition=Q(status="pending")),
                   models.Index(fields=["department", "decided_at"], name="appeal_decided")]
        constraints = [
            models.CheckConstraint(condition=Q(determination__isnull=False, deduction__isnull=True)
                                   | Q(determination__isnull=True, deduction__isnull=False), name="appeal_one_target"),
            models.UniqueConstraint(fields=["determination"], condition=Q(status="pending"),
                                    name="one_pending_appeal_per_determination"),
            models.UniqueConstraint(fields=["deduction"], condition=Q(status="pending"),
                                    name="one_pending_appeal_per_deduction"),
        ]

    def __str__(self):
        return f"{self.department} {self.get_status_display()}"


class AccountabilityEvent(AuditEvent):
    """The append-only history of determinations, deductions and appeals (proposed, changed, appealed, decided) and
    of improvement orders (opened, every answer with its measures, every review, closed)."""

    class Action(models.TextChoices):
        PROPOSED = "proposed", _("Proposed from the rules")
        CONFIRMED = "confirmed", _("Confirmed")
        CHANGED = "changed", _("Changed")
        APPEALED = "appealed", _("Appealed")
        APPEAL_UPHELD = "appeal_upheld", _("Appeal rejected: the original stands")
        APPEAL_OVERTURNED = "appeal_overturned", _("Appeal granted: overturned")
        RECORDED = "recorded", _("Recorded")
        IMPROVEMENT_OPENED = "improvement_opened", _("Opened: indicator below target")
        IMPROVEMENT_ANSWERED = "improvement_answered", _("Answered with measures")
        IMPROVEMENT_ACCEPTED = "improvement_accepted", _("Measures accepted")
        IMPROVEMENT_RETURNED = "improvement_returned", _("Answer returned")
        IMPROVEMENT_CLOSED = "improvement_closed", _("Closed: the indicator met its target")

    determination = models.ForeignKey(Determination, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="events")
    deduction = models.ForeignKey(Deduction, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    improvement = models.ForeignKey("ImprovementOrder", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="events")
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)

    class Meta(AuditEvent.Meta):
        verbose_name = _("accountability event")
        verbose_name_plural = _("accountability events")

    def __str__(self):
        return f"{self.action} {self.created_at:%Y-%m-%d}"


# --- the monthly cycle --------------------------------------------------------------------------------------


class MonthlyScore(models.Model):
    """A department's score for a month, as computed (recomputing replaces it)."""

    department = models.ForeignKey("org.Department", verbose_name=_("department"), on_delete=models.PROTECT,
                                   related_name="+")
    month = models.DateField(_("month"))
    year = models.PositiveSmallIntegerField(_("indicators of"))
    indicator_points = models.DecimalField(_("indicator points"), max_digits=8, decimal_places=2)
    deduction_points = models.DecimalField(_("deductions"), max_digits=8, decimal_places=2)
    total = models.DecimalField(_("score"), max_digits=8, decimal_places=2)
    rank = models.PositiveSmallIntegerField(_("rank"))
    ranked = models.PositiveSmallIntegerField(_("of"))
    attributed = models.DecimalField(_("complaints attributed"), max_digits=12, decimal_places=4)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    class Meta:
        verbose_name = _("monthly score")
        verbose_name_plural = _("monthly scores")
        ordering = ["-month", "rank"]
        constraints = [models.UniqueConstraint(fields=["department", "month"], name="one_score_per_month")]

    def __str__(self):
        return f"{self.department} {self.month:%Y-%m}: {self.total}"


class ScoreRecomputation(models.Model):
    """An archived month's scores computed again, on purpose: who asked, when, why, and each department's total
    before and after. Without one, the scores of a month stay as they were archived (accountability.scoring)."""

    month = models.DateField(_("month"), help_text=_("The first day of the month recomputed."))
    reason = models.TextField(_("reason"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recomputed by"), null=True,
                              on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(_("recomputed by"), max_length=64)
    recomputed_at = models.DateTimeField(_("recomputed at"), default=timezone.now)
    # {department code: {"name": …, "total": "…", "rank": n}}; a department missing on one side had no score there.
    old_totals = models.JSONField(_("totals before"), default=dict)
    new_totals = models.JSONField(_("totals after"), default=dict)
    late_arrivals = models.PositiveIntegerField(
        _("orders arrived after archiving"), default=0,
        help_text=_("Orders flagged as arriving for this month after it was closed, when it was recomputed."))

    class Meta:
        verbose_name = _("score recomputation")
        verbose_name_plural = _("score recomputations")
        ordering = ["-recomputed_at", "-id"]
        indexes = [models.Index(fields=["month", "-recomputed_at"], name="recomputation_by_month")]
        constraints = [models.CheckConstraint(condition=Q(month__day=1), name="recomputation_month_first_day")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.recomputed_at:%Y-%m-%d %H:%M} {self.actor_name}"


class IndicatorResult(models.Model):
    score = models.ForeignKey(MonthlyScore, verbose_name=_("score"), on_delete=models.CASCADE, related_name="results")
    indicator = models.ForeignKey(Indicator, verbose_name=_("indicator"), on_delete=models.PROTECT, related_name="+")
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=4, null=True, blank=True)
    numerator = models.DecimalField(_("numerator"), max_digits=14, decimal_places=4, null=True, blank=True)
    denominator = models.DecimalField(_("denominator"), max_digits=14, decimal_places=4, null=True, blank=True)
    target = models.DecimalField(_("target"), max_digits=10, decimal_places=2)
    met = models.BooleanField(_("target met"))
    points = models.DecimalField(_("points"), max_digits=8, decimal_places=2)

    class Meta:
        verbose_name = _("indicator result")
        verbose_name_plural = _("indicator results")
        constraints = [models.UniqueConstraint(fields=["score", "indicator"], name="one_result_per_indicator")]

    def __str__(self):
        return f"{self.indicator}: {self.value}"


class MonthlyNotice(TimedRow):
    """通报工单: the month's notice to a department (its score, rank, indicators below target, worst categories,
    sample orders), acknowledged by the lead within a time limit."""

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")

    department = models.ForeignKey("org.Department", verbose_name=_("department"), on_delete=models.PROTECT,
                                   related_name="+")
    month = models.DateField(_("month"))
    score = models.ForeignKey(MonthlyScore, verbose_name=_("score"), null=True, on_delete=models.SET_NULL,
                              related_name="+")
    content = models.JSONField(_("content"), default=dict)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SENT)
    due_at = models.DateTimeField(_("acknowledge by"))  # warn_at, warned_at, overdue_at: TimedRow's
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("acknowledged by"), null=True,
                                        blank=True, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("monthly notice")
        verbose_name_plural = _("monthly notices")
        ordering = ["-month", "department__name"]
        indexes = timed_indexes(prefix="notice", open_rows={"status": "sent"})
        constraints = [models.UniqueConstraint(fields=["department", "month"], name="one_notice_per_month")]

    def __str__(self):
        return f"{self.department} {self.month:%Y-%m}"


class ImprovementOrder(TimedRow):
    """劣势指标改进单: an indicator below target. The department answers with the cause and its measures by a
    deadline; the complaint centre accepts or returns the answer; it closes by itself when a later month meets the
    target, and stays open (flagged) while none does."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for the department's answer")
        ANSWERED = "answered", _("Answered, waiting for review")
        ACCEPTED = "accepted", _("Measures accepted, waiting for the indicator to recover")
        CLOSED = "closed", _("Closed: the indicator met its target")

    department = models.ForeignKey("org.Department", verbose_name=_("department"), on_delete=models.PROTECT,
                                   related_name="+")
    indicator = models.ForeignKey(Indicator, verbose_name=_("indicator"), on_delete=models.PROTECT, related_name="+")
    opened_month = models.DateField(_("opened for"))
    opened_value = models.DecimalField(_("value then"), max_digits=12, decimal_places=4, null=True)
    target = models.DecimalField(_("target"), max_digits=10, decimal_places=2)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    latest_month = models.DateField(_("latest month"))
    latest_value = models.DecimalField(_("latest value"), max_digits=12, decimal_places=4, null=True)
    months_below = models.PositiveSmallIntegerField(_("months below target"), default=1)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    due_at = models.DateTimeField(_("answer by"))  # warn_at, warned_at, overdue_at: TimedRow's
    cause_analysis = models.TextField(_("cause analysis"), blank=True)
    measures = models.TextField(_("measures"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("answered by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reviewed by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_reason = models.TextField(_("review comment"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("improvement order")
        verbose_name_plural = _("improvement orders")
        ordering = ["-opened_at", "-id"]
        indexes = timed_indexes(prefix="improvement", open_rows={"status": "open"})
        constraints = [
            models.UniqueConstraint(fields=["department", "indicator"], condition=~Q(status="closed"),
                                    name="one_open_improvement_per_indicator"),
            models.CheckConstraint(condition=Q(status="closed", closed_at__isnull=False)
                                   | (~Q(status="closed") & Q(closed_at__isnull=True)),
                                   name="improvement_closed_iff_closed_at"),
        ]

    def __str__(self):
        return f"{self.department} {self.indicator} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED

    @property
    def flagged(self) -> bool:
        """Still below target after the month it was opened for."""
        return self.is_open and self.latest_month > self.opened_month


def clean_shares(shares) -> None:
    total = sum((s for s in shares), Decimal("0"))
    if shares and total != Decimal("1"):
        raise ValidationError(_("The shares add up to %(total)s; they must add up to 1.") % {"total": total})
