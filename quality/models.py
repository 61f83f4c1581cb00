"""Quality: callback surveys, the facts and rollups behind every KPI, targets, subscriber counts and the follow-up of
dissatisfied customers.

The KPI numbers are read from rollup tables ("cubes") that are kept up to date incrementally: every change of an
order queues it (FactQueue); a periodic task recomputes the order's fact row (OrderFact, one per order, computed
in SQL by quality.facts) and moves the cubes by the difference between the old and the new fact. The cubes can
always be rebuilt from the orders (`manage.py rollups_rebuild`). See quality/facts.py and quality/kpis.py.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from complaints.models import CallbackMethod, Rating, RatingVerdict
from core.audit import AuditEvent
from core.effective import EffectiveDated, EffectivePolicy

# Handling time (received → replied) is summed exactly and also counted in these buckets (upper edges in hours),
# so a percentile can be estimated from rollups: within the bucket it falls in, by linear interpolation.
HANDLING_BUCKET_EDGES_HOURS = (0.5, 1, 2, 4, 6, 8, 12, 16, 20, 24, 30, 36, 48, 60, 72, 96, 120, 168, 240, 360, 720)
HANDLING_BUCKETS = len(HANDLING_BUCKET_EDGES_HOURS) + 1  # the last one is open-ended

# The summable measures every cube carries, grouped by the moment that puts an order into a period.
MEASURES_BY_BASIS = {
    "received": ("received", "on_spot", "repeat", "escalated"),
    "closed": ("closed", "timed", "in_time", "in_time_original", "breached", "extended", "reopened",
               "dispatched_closed", "called_back", "called_back_sms", "called_back_phone", "promise_kept", "ping_pong",
               "holdings", "holdings_in_time"),
    "replied": ("replied", "handling_seconds", *(f"h{k:02d}" for k in range(HANDLING_BUCKETS))),
    "rated": ("rated", "satisfied", "dissatisfied", "rating_sum"),
    "due": ("due", "looped"),
}
MEASURES = tuple(m for group in MEASURES_BY_BASIS.values() for m in group)


class CallbackSurvey(models.Model):
    """One callback that reached the customer (回访): the rating and whether the problem is solved. Append-only; a
    reopened order that is called back again has a second survey."""

    order = models.ForeignKey("complaints.WorkOrder", verbose_name=_("work order"), on_delete=models.PROTECT,
                              related_name="surveys")
    at = models.DateTimeField(_("called back at"))
    # The local (Asia/Shanghai) day and hour of the call: what puts the rating into a period.
    day = models.DateField(_("day"))
    hour = models.PositiveSmallIntegerField(_("hour"))
    rating = models.PositiveSmallIntegerField(_("satisfaction (1–5)"), choices=Rating.choices)
    # Judged once, at the call, by the workflow policy in force when the order was received; every KPI, the
    # follow-ups and the scores read this, never the rating against a number of their own.
    verdict = models.CharField(_("verdict"), max_length=16, choices=RatingVerdict.choices)
    # None: not asked (the SMS survey asks only for the rating).
    solved = models.BooleanField(_("problem solved"), null=True, blank=True)
    method = models.CharField(_("how"), max_length=8, choices=CallbackMethod.choices, default=CallbackMethod.PHONE,
                              db_default=CallbackMethod.PHONE)
    comment = models.TextField(_("comment"), blank=True)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("agent"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    agent_name = models.CharField(_("agent name"), max_length=64)
    unit = models.ForeignKey("org.Department", verbose_name=_("callback unit"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    round = models.PositiveSmallIntegerField(_("round"), default=1, help_text=_("1 for the first answer, 2 after "
                                                                              "one reopening, …"))

    class Meta:
        verbose_name = _("callback survey")
        verbose_name_plural = _("callback surveys")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["order", "id"], name="survey_order"),
                   models.Index(fields=["day"], name="survey_day")]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="survey_rating_1_to_5"),
            models.CheckConstraint(condition=Q(hour__lte=23), name="survey_hour_0_to_23"),
        ]

    def __str__(self):
        return f"{self.order_id} {self.rating} {self.at:%Y-%m-%d}"


class FactQueue(models.Model):
    """Orders whose fact row must be recomputed: a row per audited change, written by a trigger on the audit trail
    in the transaction that changed the order (migration 0006), taken by the rollup task. Append-only (no
    contention on hot rows); an order queued twice is computed once."""

    order_id = models.BigIntegerField()
    queued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("fact queue entry")
        verbose_name_plural = _("fact queue")
        indexes = [models.Index(fields=["order_id"], name="factqueue_order")]

    def __str__(self):
        return str(self.order_id)


class OrderFact(models.Model):
    """What one order contributes to the KPIs, as the rollups last counted it. Computed in SQL by
    quality.facts.FACT_COLUMNS from the order, its stages, extensions and surveys; never edited by hand.
    Dimensions are plain integers (0 = none), so cube keys never hold NULL."""

    order = models.OneToOneField("complaints.WorkOrder", primary_key=True, on_delete=models.DO_NOTHING,
                                 db_constraint=False, related_name="+")
    region_id = models.IntegerField()
    city_id = models.IntegerField()  # the region folded to city level (a province-level order keeps the province)
    kind = models.CharField(max_length=16)
    severity = models.CharField(max_length=16)
    tier = models.CharField(max_length=16)
    brand = models.CharField(max_length=16)
    channel_id = models.IntegerField()
    category_id = models.IntegerField()
    department_id = models.IntegerField()
    agent_id = models.IntegerField()
    received_day = models.DateField()
    received_hour = models.SmallIntegerField()
    closed_day = models.DateField(null=True)
    closed_hour = models.SmallIntegerField(null=True)
    replied_day = models.DateField(null=True)
    replied_hour = models.SmallIntegerField(null=True)
    due_day = models.DateField(null=True)
    due_hour = models.SmallIntegerField(null=True)
    on_spot = models.SmallIntegerField()
    repeat = models.SmallIntegerField()
    escalated = models.SmallIntegerField()
    timed = models.SmallIntegerField()
    in_time = models.SmallIntegerField()
    in_time_original = models.SmallIntegerField()
    breached = models.SmallIntegerField()
    extended = models.SmallIntegerField()
    reopened = models.SmallIntegerField()
    dispatched_closed = models.SmallIntegerField()
    called_back = models.SmallIntegerField()
    # reached by the customer's SMS reply / by an agent's call (an order reopened may have both)
    called_back_sms = models.SmallIntegerField(default=0, db_default=0)
    called_back_phone = models.SmallIntegerField(default=0, db_default=0)
    promise_kept = models.SmallIntegerField(default=0)
    ping_pong = models.SmallIntegerField(default=0)
    holdings = models.SmallIntegerField(default=0)  # department holdings judged by their own clock
    holdings_in_time = models.SmallIntegerField(default=0)
    looped = models.SmallIntegerField()
    handling_seconds = models.BigIntegerField(null=True)
    handling_bucket = models.SmallIntegerField(null=True)
    # The surveys of the order (ids up to this one) that the rollups have counted.
    survey_max_id = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("order fact")
        verbose_name_plural = _("order facts")
        indexes = [
            models.Index(fields=["received_day", "city_id"], name="fact_received"),
            models.Index(fields=["closed_day", "city_id"], name="fact_closed", condition=Q(closed_day__isnull=False)),
            models.Index(fields=["replied_day", "city_id"], name="fact_replied",
                         condition=Q(replied_day__isnull=False)),
            models.Index(fields=["due_day", "city_id"], name="fact_due", condition=Q(due_day__isnull=False)),
        ]

    def __str__(self):
        return str(self.order_id)


class RollupBase(models.Model):
    """The measures of a cube row: sums over the orders (and surveys) of one day and one combination of the cube's
    dimensions. Which day an order counts on depends on the measure (see MEASURES_BY_BASIS)."""

    day = models.DateField()
    region_id = models.IntegerField()  # city level (see OrderFact.city_id)
    kind = models.CharField(max_length=16)

    received = models.IntegerField(default=0)
    on_spot = models.IntegerField(default=0)
    repeat = models.IntegerField(default=0)
    escalated = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    timed = models.IntegerField(default=0)
    in_time = models.IntegerField(default=0)
    in_time_original = models.IntegerField(default=0)
    breached = models.IntegerField(default=0)
    extended = models.IntegerField(default=0)
    reopened = models.IntegerField(default=0)
    dispatched_closed = models.IntegerField(default=0)
    called_back = models.IntegerField(default=0)
    called_back_sms = models.IntegerField(default=0, db_default=0)
    called_back_phone = models.IntegerField(default=0, db_default=0)
    promise_kept = models.IntegerField(default=0)
    ping_pong = models.IntegerField(default=0)
    holdings = models.IntegerField(default=0)
    holdings_in_time = models.IntegerField(default=0)
    replied = models.IntegerField(default=0)
    handling_seconds = models.BigIntegerField(default=0)
    rated = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)
    dissatisfied = models.IntegerField(default=0)
    rating_sum = models.IntegerField(default=0)
    due = models.IntegerField(default=0)
    looped = models.IntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.day} {self.region_id} {self.kind}: {self.received}"


for _k in range(HANDLING_BUCKETS):
    RollupBase.add_to_class(f"h{_k:02d}", models.IntegerField(default=0))


class RollupDaily(RollupBase):
    class Meta:
        verbose_name = _("daily rollup")
        verbose_name_plural = _("daily rollups")
        constraints = [models.UniqueConstraint(fields=["day", "region_id", "kind"], name="rollup_daily_key")]


class RollupCounty(RollupBase):
    """The daily cube by the order's own region (a county, or the city for an order filed at city level): a
    breakdown or filter by county reads a few hundred rows a day instead of every order's facts."""

    order_region_id = models.IntegerField()

    class Meta:
        verbose_name = _("county rollup")
        verbose_name_plural = _("county rollups")
        constraints = [models.UniqueConstraint(fields=["day", "region_id", "kind", "order_region_id"],
                                               name="rollup_county_key")]


class RollupHourly(RollupBase):
    hour = models.SmallIntegerField()

    class Meta:
        verbose_name = _("hourly rollup")
        verbose_name_plural = _("hourly rollups")
        constraints = [models.UniqueConstraint(fields=["day", "hour", "region_id", "kind"], name="rollup_hourly_key")]


class RollupCategory(RollupBase):
    # The category usually decides the department (按类定责), so the pair adds few rows to the category alone.
    category_id = models.IntegerField()
    department_id = models.IntegerField()

    class Meta:
        verbose_name = _("category rollup")
        verbose_name_plural = _("category rollups")
        constraints = [models.UniqueConstraint(fields=["day", "region_id", "kind", "category_id", "department_id"],
                                               name="rollup_category_department_key")]
        indexes = [models.Index(fields=["category_id", "day"], name="rollup_category_by_cat")]


class RollupCategoryAll(RollupBase):
    """The category cube summed over every region: what the province reads (a few hundred rows a day)."""

    region_id = None
    category_id = models.IntegerField()
    department_id = models.IntegerField()

    class Meta:
        verbose_name = _("category rollup, all regions")
        verbose_name_plural = _("category rollups, all regions")
        constraints = [models.UniqueConstraint(fields=["day", "kind", "category_id", "department_id"],
                                               name="rollup_category_all_key")]
        indexes = [models.Index(fields=["category_id", "day"], name="rollup_category_all_by_cat"),
                   models.Index(fields=["department_id", "day"], name="rollup_category_all_by_dept")]

    def __str__(self):
        return f"{self.day} {self.category_id} {self.kind}: {self.received}"


class RollupDepartment(RollupBase):
    department_id = models.IntegerField()

    class Meta:
        verbose_name = _("department rollup")
        verbose_name_plural = _("department rollups")
        constraints = [models.UniqueConstraint(fields=["day", "region_id", "kind", "department_id"],
                                               name="rollup_department_key")]
        # A department's view reads its own rows, not every department's of the period.
        indexes = [models.Index(fields=["department_id", "day"], name="rollup_department_by_dept")]


class RollupChannel(RollupBase):
    channel_id = models.IntegerField()

    class Meta:
        verbose_name = _("channel rollup")
        verbose_name_plural = _("channel rollups")
        constraints = [models.UniqueConstraint(fields=["day", "region_id", "kind", "channel_id"],
                                               name="rollup_channel_key")]
        indexes = [models.Index(fields=["channel_id", "day"], name="rollup_channel_by_channel")]


class RollupCustomer(RollupBase):
    severity = models.CharField(max_length=16)
    tier = models.CharField(max_length=16)
    brand = models.CharField(max_length=16)

    class Meta:
        verbose_name = _("customer rollup")
        verbose_name_plural = _("customer rollups")
        constraints = [models.UniqueConstraint(fields=["day", "region_id", "kind", "severity", "tier", "brand"],
                                               name="rollup_customer_key")]


class RollupState(models.Model):
    """One row: the lease that lets one rollup task at a time apply the queue, and when it last did."""

    applied_at = models.DateTimeField(null=True, blank=True)
    applied_orders = models.BigIntegerField(default=0)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    snapshot_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup state")

    def __str__(self):
        return f"applied {self.applied_at}"


class OpenOrderCount(models.Model):
    """A snapshot of open orders by region, department, status and deadline state, taken every minute (the state
    of a deadline changes with the clock, not with an event)."""

    region_id = models.IntegerField()
    city_id = models.IntegerField()
    department_id = models.IntegerField()
    status = models.CharField(max_length=24)
    deadline_state = models.CharField(max_length=16)
    count = models.IntegerField()

    class Meta:
        verbose_name = _("open-order count")
        verbose_name_plural = _("open-order counts")

    def __str__(self):
        return f"{self.status} {self.deadline_state}: {self.count}"


class SubscriberCount(models.Model):
    """Subscribers of a region in a month, for 'complaints per 10,000 subscribers'."""

    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    subscribers = models.PositiveIntegerField(_("subscribers"))

    class Meta:
        verbose_name = _("subscriber count")
        verbose_name_plural = _("subscriber counts")
        ordering = ["-month", "region__path"]
        constraints = [
            models.UniqueConstraint(fields=["region", "month"], name="one_subscriber_count_per_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="subscriber_month_first_day"),
        ]

    def __str__(self):
        return f"{self.region} {self.month:%Y-%m}: {self.subscribers}"

    def clean(self):
        if self.month and self.month.day != 1:
            raise ValidationError({"month": _("Give the first day of the month.")})


class KpiTarget(EffectiveDated):
    """The target of a KPI, for one region (and below) or for all, from a date on. Rates are in per cent, times in
    hours, the subscriber ratio per 10,000."""

    kpi = models.CharField(_("KPI"), max_length=32)
    region = models.ForeignKey("org.Region", verbose_name=_("region"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+", help_text=_("Empty: every region."))
    value = models.DecimalField(_("target"), max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = _("KPI target")
        verbose_name_plural = _("KPI targets")
        ordering = ["kpi", "-effective_from"]

    def __str__(self):
        from quality.kpis import KPIS  # local: quality.kpis imports this module

        kpi = KPIS.get(self.kpi)
        return f"{kpi.label if kpi else self.kpi} {self.value} ({self.effective_from})"

    def clean(self):
        from quality.kpis import KPIS  # local: quality.kpis imports this module

        if self.kpi not in KPIS:
            raise ValidationError({"kpi": _("Unknown KPI.")})
        same = KpiTarget.objects.filter(kpi=self.kpi, region=self.region, effective_from=self.effective_from)
        if same.exclude(pk=self.pk).exists():
            raise ValidationError(_("This KPI already has a target for this region from the same day."))


class FollowUp(models.Model):
    """不满意客户维护: a task to win back a customer who rated a callback 1–2 or whose order was reopened."""

    class Reason(models.TextChoices):
        LOW_RATING = "low_rating", _("Rated 1–2 at callback")
        REOPENED = "reopened", _("Order reopened")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        CLOSED = "closed", _("Closed")

    class Outcome(models.TextChoices):
        WON_BACK = "won_back", _("Satisfied now")
        STILL_DISSATISFIED = "still_dissatisfied", _("Still dissatisfied")
        UNREACHABLE = "unreachable", _("Could not be reached")

    customer = models.ForeignKey("complaints.Customer", verbose_name=_("customer"), on_delete=models.PROTECT,
                                 related_name="follow_ups")
    order = models.ForeignKey("complaints.WorkOrder", verbose_name=_("work order"), on_delete=models.PROTECT,
                              related_name="follow_ups")
    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    due_at = models.DateTimeField(_("due at"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assignee"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    attempts = models.PositiveSmallIntegerField(_("contact attempts"), default=0)
    outcome = models.CharField(_("outcome"), max_length=24, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(_("outcome note"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("closed by"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("dissatisfied-customer follow-up")
        verbose_name_plural = _("dissatisfied-customer follow-ups")
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["region", "due_at"], name="followup_open", condition=~Q(status="closed")),
            models.Index(fields=["region", "-opened_at"], name="followup_region"),
            models.Index(fields=["customer", "-opened_at"], name="followup_customer"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["order"], condition=~Q(status="closed"), name="one_open_followup_per_order"),
            models.CheckConstraint(condition=Q(status="closed", closed_at__isnull=False)
                                   | (~Q(status="closed") & Q(closed_at__isnull=True)),
                                   name="followup_closed_iff_closed_at"),
        ]

    def __str__(self):
        return f"{self.customer} ({self.get_reason_display()})"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED

    def is_overdue(self, now=None) -> bool:
        return self.is_open and (now or timezone.now()) >= self.due_at


class FollowUpEvent(AuditEvent):
    """The follow-up's history (append-only): opened, taken, each contact attempt, closed."""

    class Action(models.TextChoices):
        OPENED = "opened", _("Opened")
        TRIGGERED_AGAIN = "triggered_again", _("Dissatisfied again")
        TAKEN = "taken", _("Taken")
        CONTACTED = "contacted", _("Contact attempt")
        CLOSED = "closed", _("Closed")

    follow_up = models.ForeignKey(FollowUp, verbose_name=_("follow-up"), on_delete=models.PROTECT,
                                  related_name="events")
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)

    class Meta(AuditEvent.Meta):
        verbose_name = _("follow-up event")
        verbose_name_plural = _("follow-up events")

    def __str__(self):
        return f"{self.follow_up_id} {self.get_action_display()}"



class QualityPolicy(EffectivePolicy):
    """Quality rules an operator tunes; the version in force is the latest effective one."""

    follow_up_working_days = models.PositiveSmallIntegerField(
        _("follow-up within (working days)"), default=2,
        help_text=_("How long the complaint centre has to call back a dissatisfied customer."))
    hotspot_baseline_weeks = models.PositiveSmallIntegerField(
        _("hot spots: baseline weeks"), default=8,
        help_text=_("This week's volume is compared with the weekly average of this many weeks before it."))
    hotspot_min_count = models.PositiveSmallIntegerField(
        _("hot spots: at least this many complaints"), default=5)
    hotspot_max_p = models.DecimalField(
        _("hot spots: significance level"), max_digits=4, decimal_places=3, default=Decimal("0.01"),
        help_text=_("A slice is a hot spot when a volume this high would occur by chance with less than this "
                    "probability (Poisson test against the baseline)."))

    class Meta:
        verbose_name = _("quality policy")
        verbose_name_plural = _("quality policies")
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(condition=Q(follow_up_working_days__gte=1), name="quality_follow_up_days_positive"),
            models.CheckConstraint(condition=Q(hotspot_baseline_weeks__gte=2), name="quality_baseline_weeks_2"),
            models.CheckConstraint(condition=Q(hotspot_max_p__gt=0, hotspot_max_p__lt=1), name="quality_p_0_1"),
        ]


# --- early warning: batch complaints, incidents, bulletins -----------------------------------------------------


class WarningLevel(models.TextChoices):
    YELLOW = "yellow", _("Yellow")
    ORANGE = "orange", _("Orange")
    RED = "red", _("Red")


LEVEL_ORDER = {WarningLevel.YELLOW: 1, WarningLevel.ORANGE: 2, WarningLevel.RED: 3}


class BatchPolicy(EffectivePolicy):
    """批量投诉预警: how intake is watched; the version in force is the latest effective one."""

    window_minutes = models.PositiveSmallIntegerField(_("window (minutes)"), default=60,
                                                      help_text=_("Complaints are counted over this sliding window."))
    baseline_weeks = models.PositiveSmallIntegerField(
        _("baseline weeks"), default=4,
        help_text=_("The baseline is the mean of the same window on the same weekday of this many weeks before."))
    category_level = models.PositiveSmallIntegerField(_("category level"), default=3)
    region_level = models.PositiveSmallIntegerField(_("region level"), default=2,
                                                    help_text=_("2: city, 3: county."))
    min_count = models.PositiveIntegerField(_("at least this many complaints"), default=30)
    min_ratio = models.DecimalField(_("at least this many times the baseline"), max_digits=6, decimal_places=2,
                                    default=Decimal("3"))
    orange_count = models.PositiveIntegerField(_("orange from (complaints)"), default=300)
    red_count = models.PositiveIntegerField(_("red from (complaints)"), default=1000)
    quiet_minutes = models.PositiveIntegerField(
        _("an unconfirmed alert lapses after (minutes below the threshold)"), default=120)
    feedback_minutes = models.PositiveIntegerField(
        _("incident feedback within (minutes)"), default=60,
        help_text=_("The responsible department's first feedback on an incident."))
    warn_percent = models.PositiveSmallIntegerField(_("warning point (per cent)"), default=80)

    class Meta:
        verbose_name = _("batch-complaint policy")
        verbose_name_plural = _("batch-complaint policies")
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(condition=Q(window_minutes__gte=5), name="batch_window_5_min"),
            models.CheckConstraint(condition=Q(baseline_weeks__gte=1), name="batch_baseline_weeks"),
            models.CheckConstraint(condition=Q(category_level__gte=1, category_level__lte=5), name="batch_cat_level"),
            models.CheckConstraint(condition=Q(region_level__gte=1, region_level__lte=3), name="batch_region_level"),
            models.CheckConstraint(condition=Q(min_ratio__gt=0), name="batch_ratio_positive"),
            models.CheckConstraint(condition=Q(orange_count__lte=models.F("red_count")), name="batch_orange_le_red"),
        ]


class Incident(models.Model):
    """批量投诉事件: one cause behind many complaints. The responsible department works the incident, not the
    orders: matching orders are attached to it and answered together when it is resolved (each customer still
    gets their own callback)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    title = models.CharField(_("title"), max_length=200)
    cause = models.TextField(_("cause"), blank=True)
    department = models.ForeignKey("org.Department", verbose_name=_("responsible department"),
                                   on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey("complaints.Category", verbose_name=_("category (and below)"),
                                 on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey("org.Region", verbose_name=_("affected area"), on_delete=models.PROTECT,
                               related_name="+")
    area = models.CharField(_("cell or area"), max_length=64, blank=True,
                            help_text=_("Empty: the whole region."))
    services = models.CharField(_("affected services"), max_length=200, blank=True)
    level = models.CharField(_("warning level"), max_length=8, choices=WarningLevel.choices,
                             default=WarningLevel.YELLOW)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("opened by"), on_delete=models.PROTECT,
                                  related_name="+")
    started_at = models.DateTimeField(_("fault began"), help_text=_("When the complaints began."))
    expected_recovery_at = models.DateTimeField(_("expected recovery"))
    feedback_due_at = models.DateTimeField(_("feedback due"))
    feedback_warn_at = models.DateTimeField(_("feedback warning at"))
    feedback_at = models.DateTimeField(_("feedback at"), null=True, blank=True)
    feedback = models.TextField(_("feedback"), blank=True)
    feedback_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    feedback_overdue_at = models.DateTimeField(null=True, blank=True, editable=False)
    recovery_overdue_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("resolved by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    answer = models.TextField(_("answer to the customers"), blank=True)
    cause_report = models.TextField(_("cause report"), blank=True)

    class Meta:
        verbose_name = _("batch-complaint incident")
        verbose_name_plural = _("batch-complaint incidents")
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["category", "region"], name="incident_open_match", condition=Q(status="open")),
            models.Index(fields=["feedback_warn_at"], name="incident_feedback_warn",
                         condition=Q(status="open", feedback_at__isnull=True, feedback_warned_at__isnull=True)),
            models.Index(fields=["feedback_due_at"], name="incident_feedback_due",
                         condition=Q(status="open", feedback_at__isnull=True, feedback_overdue_at__isnull=True)),
            models.Index(fields=["expected_recovery_at"], name="incident_recovery_due",
                         condition=Q(status="open", recovery_overdue_at__isnull=True)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status="resolved", resolved_at__isnull=False)
                                   | (~Q(status="resolved") & Q(resolved_at__isnull=True)),
                                   name="incident_resolved_iff_resolved_at"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def feedback_in_time(self) -> bool | None:
        return None if self.feedback_at is None else self.feedback_at <= self.feedback_due_at


class BatchAlert(models.Model):
    """A slice (category × region, and cell/area when orders carry one) whose intake is far above its baseline:
    raised by the detector, one per slice while open; confirmed into an incident, dismissed, or lapsed."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CONFIRMED = "confirmed", _("Confirmed as an incident")
        DISMISSED = "dismissed", _("Dismissed")
        LAPSED = "lapsed", _("Lapsed")

    category = models.ForeignKey("complaints.Category", verbose_name=_("category"), on_delete=models.PROTECT,
                                 related_name="+")
    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    area = models.CharField(_("cell or area"), max_length=64, blank=True)
    level = models.CharField(_("warning level"), max_length=8, choices=WarningLevel.choices,
                             default=WarningLevel.YELLOW)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    window_count = models.PositiveIntegerField(_("complaints in the window"))
    total_count = models.PositiveIntegerField(_("complaints since it began"))
    baseline = models.DecimalField(_("baseline (per window)"), max_digits=10, decimal_places=2)
    first_order_at = models.DateTimeField(_("first complaint"))
    crossed_at = models.DateTimeField(_("threshold crossed at"),
                                      help_text=_("When the complaint that crossed the threshold was received."))
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    level_raised_at = models.DateTimeField(_("level raised at"), default=timezone.now)
    below_since = models.DateTimeField(_("below the threshold since"), null=True, blank=True)
    checked_at = models.DateTimeField(_("last checked"), default=timezone.now)
    incident = models.ForeignKey(Incident, verbose_name=_("incident"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="alerts")
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("dismissed by"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    closed_reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("batch-complaint alert")
        verbose_name_plural = _("batch-complaint alerts")
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["category", "region", "area"], condition=Q(status__in=["open", "confirmed"]),
                                    name="one_live_alert_per_slice"),
        ]
        indexes = [models.Index(fields=["status", "raised_at"], name="alert_live",
                                condition=Q(status__in=["open", "confirmed"]))]

    def __str__(self):
        return f"{self.category} · {self.region} ({self.get_level_display()})"

    @property
    def ratio(self) -> float | None:
        return None if not self.baseline else float(self.window_count) / float(self.baseline)


class DetectorState(models.Model):
    """One row: the lease of the batch detector (one at a time) and when it last ran."""

    ran_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("batch detector state")
        verbose_name_plural = _("batch detector state")

    def __str__(self):
        return str(self.ran_at)


class Bulletin(models.Model):
    """资讯: a department tells the frontline of planned work (at least 24 hours ahead) or a sudden fault (within 3
    hours), with area, services, time window and a suggested answer."""

    class Kind(models.TextChoices):
        PLANNED = "planned", _("Planned work")
        SUDDEN = "sudden", _("Sudden fault")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    department = models.ForeignKey("org.Department", verbose_name=_("department"), on_delete=models.PROTECT,
                                   related_name="+")
    regions = models.ManyToManyField("org.Region", verbose_name=_("area (regions and below)"), related_name="+")
    categories = models.ManyToManyField("complaints.Category", verbose_name=_("categories (and below)"), blank=True,
                                        related_name="+", help_text=_("Empty: every category."))
    services = models.CharField(_("affected services"), max_length=200)
    starts_at = models.DateTimeField(pgettext_lazy("time", "from"))
    ends_at = models.DateTimeField(_("until"), null=True, blank=True, help_text=_("Empty: until withdrawn."))
    answer = models.TextField(_("suggested answer for the frontline"))
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("published by"),
                                     on_delete=models.PROTECT, related_name="+")
    late = models.BooleanField(pgettext_lazy("bulletin", "late"), default=False)
    late_reason = models.CharField(_("why late"), max_length=200, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("bulletin")
        verbose_name_plural = _("bulletins")
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["starts_at", "ends_at"], name="bulletin_live",
                                condition=Q(withdrawn_at__isnull=True))]
        constraints = [models.CheckConstraint(condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                                              name="bulletin_ends_after_start")]

    def __str__(self):
        return self.title
