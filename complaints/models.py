from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from pypinyin import Style, lazy_pinyin

from complaints.phone import mask
from core.effective import EffectiveDated, EffectivePolicy


class BilingualName(models.Model):
    """Operators' data carries a Chinese name and an English one; the UI shows the one for the active language."""

    name = models.CharField(_("name (Chinese)"), max_length=128)
    name_en = models.CharField(_("name (English)"), max_length=128, blank=True)

    class Meta:
        abstract = True

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        return bilingual(self.name, self.name_en)


def bilingual(chinese: str, english: str) -> str:
    """Operators' data in the active language: the English text in the English UI when there is one."""
    if (get_language() or "").startswith("en") and english:
        return english
    return chinese


class Kind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    INQUIRY = "inquiry", _("Inquiry")
    SUGGESTION = "suggestion", _("Suggestion")


class Severity(models.TextChoices):
    ORDINARY = "ordinary", _("Ordinary")
    DIFFICULT = "difficult", _("Difficult")
    MAJOR = "major", _("Major")


class Tier(models.TextChoices):
    DIAMOND = "diamond", _("Diamond VIP")
    GOLD = "gold", _("Gold VIP")
    SILVER = "silver", _("Silver VIP")
    GROUP = "group", _("Group customer")
    ORDINARY = "ordinary", pgettext_lazy("customer tier", "Ordinary")


class Brand(models.TextChoices):
    GOTONE = "gotone", _("GoTone (全球通)")
    MZONE = "mzone", _("M-Zone (动感地带)")
    EASYOWN = "easyown", _("Easyown (神州行)")
    OTHER = "other", _("Other")


class Channel(BilingualName):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["id"]


class Category(BilingualName):
    code = models.CharField(_("code"), max_length=64, unique=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    level = models.PositiveSmallIntegerField(_("level"), editable=False, default=1)
    path = models.CharField(_("path"), max_length=400, editable=False, db_index=True)
    responsible_department = models.ForeignKey(
        "org.Department",
        verbose_name=_("responsible department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    standard_answer = models.TextField(_("standard answer (口径)"), blank=True)
    default_severity = models.CharField(
        _("default severity"), max_length=16, choices=Severity.choices, default=Severity.ORDINARY
    )
    # Derived from the name so the picker can match "xhfg" for 信号覆盖.
    pinyin = models.CharField(_("pinyin"), max_length=400, blank=True, editable=False)
    pinyin_initials = models.CharField(_("pinyin initials"), max_length=128, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    MAX_LEVEL = 5

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=5), name="category_level_1_to_5"),
        ]

    def save(self, *args, **kwargs):
        old_path = self.path
        if self.parent_id:
            self.level = self.parent.level + 1
            self.path = f"{self.parent.path}{self.code}/"
        else:
            self.level = 1
            self.path = f"/{self.code}/"
        self.pinyin = "".join(lazy_pinyin(self.name))[:400].lower()
        self.pinyin_initials = "".join(lazy_pinyin(self.name, style=Style.FIRST_LETTER))[:128].lower()
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            for child in self.children.all():
                child.save()

    def clean(self):
        node, depth = self.parent, 1
        while node is not None:
            if node.pk is not None and node.pk == self.pk:
                raise ValidationError({"parent": _("A category cannot be placed under itself or its own child.")})
            node, depth = node.parent, depth + 1
        if depth > self.MAX_LEVEL:
            raise ValidationError({"parent": _("The tree has at most %(max)s levels.") % {"max": self.MAX_LEVEL}})

    def full_label(self) -> str:
        return " / ".join(node.label for node in self.ancestors_and_self())

    def ancestors_and_self(self):
        chain, node = [], self
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))


# The one customer that history without phone numbers is filed under (not a real number: no mobile starts with 0).
PLACEHOLDER_PHONE = "00000000000"


class Customer(models.Model):
    phone = models.CharField(_("mobile number"), max_length=11, unique=True)
    name = models.CharField(_("name"), max_length=64, blank=True)
    brand = models.CharField(_("brand"), max_length=16, choices=Brand.choices, default=Brand.OTHER)
    tier = models.CharField(_("tier"), max_length=16, choices=Tier.choices, default=Tier.ORDINARY)
    home_region = models.ForeignKey(
        "org.Region", verbose_name=_("home region"), null=True, blank=True, on_delete=models.PROTECT
    )
    # Stands for the unknown customers of imported history that carried no phone number: never called back, never
    # a repeat complainant.
    is_placeholder = models.BooleanField(_("placeholder (no phone number)"), default=False, db_default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.CheckConstraint(
                condition=Q(phone__regex=r"^1[3-9][0-9]{9}$") | Q(is_placeholder=True, phone=PLACEHOLDER_PHONE),
                name="customer_phone_normalised_or_placeholder",
            ),
        ]
        # Pages show 138****8000 unless the reader's role needs the number (complaints.phone says who).
        permissions = [
            ("view_full_phone", _("Can see customers' full phone numbers")),
            ("unmask_phone", _("Can reveal a masked phone number (each reveal is logged)")),
        ]

    def __str__(self):
        return f"{self.name or '-'} {mask(self.phone)}"  # shown in admin titles and lists: masked for every reader

    @property
    def is_vip(self) -> bool:
        return self.tier in (Tier.DIAMOND, Tier.GOLD, Tier.SILVER)


class OrderStatus(models.TextChoices):
    """Where an order stands. Only the workflow (workflow.flows + workflow.services) changes it."""

    NEW = "new", _("Awaiting dispatch")
    ANSWERING = "answering", _("Awaiting answer")
    QUEUED = "queued", _("Awaiting claim")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING = "waiting", _("Waiting for the customer")
    IN_INCIDENT = "in_incident", _("Attached to an incident")
    REVIEW = "review", _("Awaiting review")
    CALLBACK = "callback", _("Awaiting callback")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


FINISHED_STATUSES = frozenset({OrderStatus.CLOSED, OrderStatus.CANCELLED})


class PublicStage(models.TextChoices):
    """The four words a customer reads on the progress page (已受理 / 处理中 / 已答复 / 已办结): where the complaint
    stands in their terms, never our internal steps (claim, automatic dispatch, archive)."""

    RECEIVED = "received", pgettext_lazy("customer progress", "Received")
    HANDLING = "handling", pgettext_lazy("customer progress", "Being handled")
    ANSWERED = "answered", pgettext_lazy("customer progress", "Answered")
    CLOSED = "closed", pgettext_lazy("customer progress", "Closed")


# Before anyone has worked on it, a complaint waiting for dispatch or a claim is "received"; once handled (claimed,
# transferred, returned, reopened), being back in a queue is still "being handled" to the customer.
_NOT_YET_HANDLED = frozenset({OrderStatus.NEW, OrderStatus.ANSWERING, OrderStatus.QUEUED})
_PUBLIC_STAGE = {
    OrderStatus.IN_PROGRESS: PublicStage.HANDLING, OrderStatus.WAITING: PublicStage.HANDLING,
    OrderStatus.IN_INCIDENT: PublicStage.HANDLING, OrderStatus.REVIEW: PublicStage.ANSWERED,
    OrderStatus.CALLBACK: PublicStage.ANSWERED, OrderStatus.CLOSED: PublicStage.CLOSED,
    OrderStatus.CANCELLED: PublicStage.CLOSED,
}


def public_stage(status: str, *, handled: bool) -> PublicStage:
    """The customer's word for an internal status; `handled`: someone has already worked on the order."""
    if status in _NOT_YET_HANDLED:
        return PublicStage.HANDLING if handled else PublicStage.RECEIVED
    return _PUBLIC_STAGE[status]
OPEN_STATUSES = tuple(s for s in OrderStatus.values if s not in FINISHED_STATUSES)


class Rating(models.IntegerChoices):
    """The customer's answer at callback, on the five-point scale the agent reads out."""

    VERY_SATISFIED = 5, _("Very satisfied")
    SATISFIED = 4, _("Satisfied")
    NEUTRAL = 3, _("Neutral")
    DISSATISFIED = 2, _("Dissatisfied")
    VERY_DISSATISFIED = 1, _("Very dissatisfied")


class CallbackMethod(models.TextChoices):
    """How the customer's rating reached us: an agent's call, or the customer's reply to the SMS survey."""

    PHONE = "phone", _("Phone call")
    SMS = "sms", _("SMS survey")


class RatingVerdict(models.TextChoices):
    """What a rating means, by the workflow policy in force when the order was received (default: 1–2
    dissatisfied, 3 neutral, 4–5 satisfied): the one meaning the reopen rule, the follow-ups and every KPI read."""

    SATISFIED = "satisfied", _("Satisfied")
    NEUTRAL = "neutral", _("Neutral")
    DISSATISFIED = "dissatisfied", _("Dissatisfied")


class QueueLevel(models.TextChoices):
    HANDLER = "handler", _("Department queue")
    LEAD = "lead", _("Lead's queue")


class ResultCode(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    EXPLAINED = "explained", _("Explained to the customer")
    NOT_COMPANY_FAULT = "not_company_fault", _("Not the company's fault")
    CANNOT_SOLVE_NOW = "cannot_solve_now", _("Cannot be solved now")


class ReplyMethod(models.TextChoices):
    """How the department gave the customer its answer (答复方式): the answer SMS says it."""

    PHONE = "phone", _("phone call")
    SMS = "sms", _("text message")
    VISIT = "visit", _("visit in person")
    LETTER = "letter", _("letter")
    ONLINE = "online", _("app or website")


class OrderSource(models.TextChoices):
    BROWSER = "browser", _("Browser")
    API = "api", _("API")
    IMPORT = "import", _("Historical import")


class WorkOrder(models.Model):
    number = models.CharField(_("order number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=24, choices=OrderStatus.choices, default=OrderStatus.NEW)
    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.PROTECT)
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT)
    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices, default=Severity.ORDINARY)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="orders")
    # The customer's tier and brand when the order was received: KPIs by tier judge history by what it was then.
    customer_tier = models.CharField(_("customer tier at intake"), max_length=16, choices=Tier.choices,
                                     default=Tier.ORDINARY, db_default=Tier.ORDINARY)
    customer_brand = models.CharField(_("brand at intake"), max_length=16, choices=Brand.choices,
                                      default=Brand.OTHER, db_default=Brand.OTHER)
    contact_phone = models.CharField(_("contact number"), max_length=20)
    description = models.TextField(_("description"))
    region = models.ForeignKey("org.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    first_responder = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("first responder"), on_delete=models.PROTECT, related_name="+"
    )
    first_responder_name = models.CharField(_("first responder name"), max_length=64)
    first_responder_department = models.ForeignKey(
        "org.Department",
        verbose_name=_("first responder's unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField(_("source"), max_length=16, choices=OrderSource.choices, default=OrderSource.BROWSER)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    repeat_of = models.ForeignKey(
        "self", verbose_name=_("repeat of"), null=True, blank=True, on_delete=models.PROTECT, related_name="repeats"
    )
    resolved_on_spot = models.BooleanField(_("resolved on the spot"), default=False)
    answer = models.TextField(_("answer"), blank=True)
    compensation_amount = models.DecimalField(
        _("compensation (yuan)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    promised_at = models.DateTimeField(_("promised time"), null=True, blank=True)

    # The current stage, kept in step by the workflow so that work lists read one table.
    current_department = models.ForeignKey(
        "org.Department", verbose_name=_("current department"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    current_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("current owner"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    queue_level = models.CharField(_("queue"), max_length=16, choices=QueueLevel.choices, blank=True)
    stage_started_at = models.DateTimeField(_("stage started at"), null=True, blank=True)
    # The nearest deadline and warning point of the open timed stages (copied from workflow.OrderStage).
    stage_due_at = models.DateTimeField(_("deadline"), null=True, blank=True)
    stage_warn_at = models.DateTimeField(_("warning point"), null=True, blank=True)
    waiting_until = models.DateTimeField(_("waiting until"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    transfer_count = models.PositiveSmallIntegerField(_("times transferred"), default=0)
    return_count = models.PositiveSmallIntegerField(_("times returned"), default=0)

    # The reply (回复) of the department that handled it.
    result_code = models.CharField(_("result"), max_length=24, choices=ResultCode.choices, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("replied by"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    replied_department = models.ForeignKey(
        "org.Department", verbose_name=_("replying department"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    reply_method = models.CharField(_("answer given by"), max_length=8, choices=ReplyMethod.choices, blank=True,
                                    default="", db_default="")

    # The callback (回访).
    callback_attempts = models.PositiveSmallIntegerField(_("callback attempts"), default=0)
    callback_at = models.DateTimeField(_("called back at"), null=True, blank=True)
    # While an SMS survey waits for the customer's reply, the order stays off the agents' callback list until then.
    callback_after = models.DateTimeField(_("on the callback list from"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction (1–5)"), null=True, blank=True)
    problem_solved = models.BooleanField(_("problem solved"), null=True, blank=True)

    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("closed by"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    external_ref = models.CharField(_("number in the source system"), max_length=64, blank=True)
    # The system a historical order came from: with external_ref its identity, whoever imported it.
    external_source = models.CharField(_("source system"), max_length=64, blank=True, default="", db_default="")
    # The cell, base station or area the complaint is about, when the channel knows it (batch detection uses it).
    area = models.CharField(_("cell or area"), max_length=64, blank=True, default="", db_default="")
    incident = models.ForeignKey("quality.Incident", verbose_name=_("incident"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="orders")
    # Set once, at arrival: the order was received (or, imported closed, closed) in a month whose scores or monthly
    # report were already archived; those archived figures do not count it unless recomputed (accountability).
    closed_month_arrival = models.DateField(
        _("arrived for a closed month"), null=True, blank=True,
        help_text=_("The month (its first day) whose scores or monthly report were already archived when the order "
                    "arrived."))
    bulletin = models.ForeignKey("quality.Bulletin", verbose_name=_("answered from bulletin"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    # NULL, not "", so the partial unique constraint ignores orders created without a key.
    idempotency_key = models.CharField(max_length=128, null=True, blank=True, editable=False)  # noqa: DJ001
    idempotency_fingerprint = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["customer", "-received_at"], name="order_customer_history"),
            models.Index(fields=["customer", "category", "-received_at"], name="order_repeat_lookup"),
            models.Index(fields=["region", "-received_at"], name="order_region_received"),
            models.Index(fields=["-received_at"], name="order_received"),
            models.Index(fields=["incident", "status"], name="order_incident_children",
                         condition=Q(incident__isnull=False)),
            models.Index(fields=["status", "-received_at"], name="order_status_received"),
            # Work lists: department queues, my tasks, escalations. Only open orders are indexed.
            models.Index(fields=["current_department", "status", "received_at"], name="order_open_by_department",
                         condition=Q(status__in=OPEN_STATUSES)),
            models.Index(fields=["current_owner", "received_at"], name="order_open_by_owner",
                         condition=Q(status__in=OPEN_STATUSES) & Q(current_owner__isnull=False)),
            models.Index(fields=["first_responder_department", "received_at"], name="order_callback_by_unit",
                         condition=Q(status="callback")),
            models.Index(fields=["escalation_level", "received_at"], name="order_open_escalated",
                         condition=Q(status__in=OPEN_STATUSES) & Q(escalation_level__gt=0)),
            models.Index(fields=["waiting_until"], name="order_waiting_until",
                         condition=Q(status="waiting")),
            models.Index(fields=["current_department", "stage_due_at"], name="order_open_by_deadline",
                         condition=Q(status__in=OPEN_STATUSES)),
            # The department queue, nearest deadline first, read in index order (many orders received overnight
            # share one deadline, so the id that breaks the tie is in the index too).
            models.Index(fields=["current_department", "stage_due_at", "id"], name="order_queue_by_deadline",
                         condition=Q(status="queued")),
            models.Index(fields=["closed_month_arrival", "-received_at"], name="order_closed_month_arrival",
                         condition=Q(closed_month_arrival__isnull=False)),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["first_responder", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="order_idempotency_key_per_account",
            ),
            models.UniqueConstraint(
                fields=["external_source", "external_ref"],
                condition=~Q(external_source=""),
                name="order_external_ref_per_source",
            ),
            models.CheckConstraint(
                condition=Q(compensation_amount__isnull=True) | Q(compensation_amount__gte=0),
                name="order_compensation_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(status="closed", closed_at__isnull=False) | (~Q(status="closed") & Q(closed_at__isnull=True)),
                name="order_closed_iff_closed_at",
            ),
            models.CheckConstraint(
                condition=Q(resolved_on_spot=False) | Q(status="closed"),
                name="order_on_spot_means_closed",
            ),
            models.CheckConstraint(
                condition=Q(status="cancelled", cancelled_at__isnull=False)
                | (~Q(status="cancelled") & Q(cancelled_at__isnull=True)),
                name="order_cancelled_iff_cancelled_at",
            ),
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="order_satisfaction_1_to_5",
            ),
            models.CheckConstraint(condition=Q(escalation_level__lte=3), name="order_escalation_level_0_to_3"),
        ]

    def __str__(self):
        return self.number

    @property
    def is_repeat(self) -> bool:
        return self.repeat_of_id is not None

    @property
    def is_closed(self) -> bool:
        return self.status == OrderStatus.CLOSED

    @property
    def is_open(self) -> bool:
        return self.status not in FINISHED_STATUSES

    @property
    def public_stage(self) -> PublicStage:
        handled = bool(self.transfer_count or self.return_count or self.reopen_count or self.replied_at)
        return public_stage(self.status, handled=handled)

    @property
    def public_status(self) -> str:
        """A sentence under the customer's status word where there is more to say (what we wait for)."""
        if self.status in _NOT_YET_HANDLED and self.public_stage == PublicStage.RECEIVED:
            return _("Received, being passed to the right department")
        if self.status == OrderStatus.IN_INCIDENT:
            return _("Being handled: a known fault is being repaired")
        if self.status == OrderStatus.WAITING:
            return _("Waiting for information from you")
        if self.status == OrderStatus.REVIEW:
            return _("Our answer is being checked before it reaches you")
        if self.status == OrderStatus.CALLBACK:
            return _("Answered; we will call you to check you are satisfied")
        if self.status == OrderStatus.CANCELLED:
            return _("Closed without a separate answer: withdrawn, or handled together with another complaint")
        return ""

    def deadline_state(self, now=None) -> str:
        """closed / overdue / warning / on_track / none: the colour of the order's deadline in every list."""
        if not self.is_open:
            return "closed"
        if self.stage_due_at is None:
            return "none"
        now = now or timezone.now()
        if now >= self.stage_due_at:
            return "overdue"
        if self.stage_warn_at is not None and now >= self.stage_warn_at:
            return "warning"
        return "on_track"

    @property
    def awaits_sms_rating(self) -> bool:
        """At callback, and the SMS survey's reply window still open: off the agents' callback list until then."""
        return (self.status == OrderStatus.CALLBACK and self.callback_after is not None
                and self.callback_after > timezone.now())

    @property
    def is_reopened(self) -> bool:
        return self.reopen_count > 0

    @property
    def takes_short_path(self) -> bool:
        """VIP, group-customer, major and escalated orders go straight to the department lead's queue."""
        return (
            self.customer.tier != Tier.ORDINARY
            or self.severity == Severity.MAJOR
            or self.escalation_level > 0
        )


class Note(models.Model):
    order = models.ForeignKey(WorkOrder, verbose_name=_("work order"), on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), null=True, on_delete=models.SET_NULL)
    author_name = models.CharField(_("author name"), max_length=64)
    body = models.TextField(_("note"))
    is_internal = models.BooleanField(_("internal"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"], name="note_order_created")]

    def __str__(self):
        return f"{self.order_id}: {self.body[:30]}"


class Attachment(models.Model):
    order = models.ForeignKey(
        WorkOrder, verbose_name=_("work order"), on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, on_delete=models.SET_NULL
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.original_name


class PhoneDisclosure(models.Model):
    """A masked phone number shown in full to someone holding the unmask permission: who, whose number, on which
    order, from which page, when. Append-only; read in admin."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True,
                             on_delete=models.SET_NULL, related_name="+")
    user_name = models.CharField(_("user name"), max_length=150)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(WorkOrder, verbose_name=_("work order"), null=True, on_delete=models.PROTECT,
                              related_name="+")
    page = models.CharField(_("page"), max_length=64)
    disclosed_at = models.DateTimeField(_("disclosed at"), default=timezone.now)

    class Meta:
        verbose_name = _("phone number disclosure")
        verbose_name_plural = _("phone number disclosures")
        ordering = ["-disclosed_at", "-id"]
        indexes = [models.Index(fields=["user", "-disclosed_at"], name="disclosure_by_user"),
                   models.Index(fields=["customer", "-disclosed_at"], name="disclosure_by_customer")]

    def __str__(self):
        return f"{self.user_name} {self.order_id or self.customer_id} {self.disclosed_at:%Y-%m-%d %H:%M}"


class CustomerChange(models.Model):
    """What an intake typed that differs from the customer's record: applied when the agent confirmed it (更新客户资料),
    otherwise kept as a proposal. Who, when, on which order, each field's old and new value (a region by its code).
    Append-only; read in admin."""

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="changes")
    order = models.ForeignKey(WorkOrder, verbose_name=_("work order"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("changed by"), null=True,
                              on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(_("actor name"), max_length=64)
    applied = models.BooleanField(_("applied to the record"))
    changes = models.JSONField(_("changes"))
    created_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("customer record change")
        verbose_name_plural = _("customer record changes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="customer_change_by_customer")]

    def __str__(self):
        return f"{self.customer} {', '.join(self.changes)} {self.created_at:%Y-%m-%d %H:%M}"


class AuthorityLevel(EffectiveDated):
    """What a role may settle on the spot (分层授权). The row in force for a role is the latest effective one."""

    role = models.ForeignKey(Group, verbose_name=_("role"), on_delete=models.CASCADE, related_name="+")
    kinds = models.JSONField(_("kinds"), default=list, help_text=_("Kinds of order this role may close on the spot."))
    severities = models.JSONField(_("severities"), default=list, help_text=_("Severities this role may close on the spot."))
    max_compensation = models.DecimalField(_("compensation limit (yuan)"), max_digits=10, decimal_places=2, default=0)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("authority level")
        verbose_name_plural = _("authority levels")
        ordering = ["role__name", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["role", "effective_from"], name="authority_one_version_per_day"),
            models.CheckConstraint(condition=Q(max_compensation__gte=0), name="authority_limit_not_negative"),
        ]

    def __str__(self):
        return f"{self.role} @ {self.effective_from}"

    def clean(self):
        errors = {}
        if not isinstance(self.kinds, list) or not set(self.kinds) <= set(Kind.values):
            errors["kinds"] = _("A list drawn from: %(values)s.") % {"values": ", ".join(Kind.values)}
        if not isinstance(self.severities, list) or not set(self.severities) <= set(Severity.values):
            errors["severities"] = _("A list drawn from: %(values)s.") % {"values": ", ".join(Severity.values)}
        if errors:
            raise ValidationError(errors)


class IntakePolicy(EffectivePolicy):
    """Intake rules an operator tunes; the version in force is the latest effective one."""

    repeat_window_days = models.PositiveSmallIntegerField(
        _("repeat-complaint window (days)"),
        default=30,
        help_text=_("Same customer, same category within this many days counts as a repeat complaint."),
    )

    class Meta:
        verbose_name = _("intake policy")
        verbose_name_plural = _("intake policies")
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(condition=Q(repeat_window_days__gte=1), name="intake_repeat_window_positive"),
        ]

    def __str__(self):
        return f"{self.effective_from}: {self.repeat_window_days}"
