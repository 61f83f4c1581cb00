"""Service SMS to customers (受理短信, 办结短信) and the satisfaction survey they answer by SMS (短信回访).

SmsMessage is the outbox: a row is written when a message is decided (in the transaction of the change it tells
of, or by the receipt sweep), and a Celery task sends it. Its `key` is unique, so one event never makes two
messages; a row is claimed (status `sending`) in its own transaction before the gateway is called, so a message
goes to the gateway at most once unless the gateway said it did not take it.
"""

from datetime import time

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from complaints.phone import mask
from core.effective import EffectivePolicy


class MessageKind(models.TextChoices):
    RECEIPT = "receipt", _("Complaint received")
    ON_SPOT = "on_spot", _("Resolved on the spot")
    PROMISE = "promise", _("New promised time")
    ANSWERED = "answered", _("Answer ready")
    SURVEY = "survey", _("Satisfaction survey")
    THANKS = "thanks", _("Thanks for the rating")
    THANKS_DISSATISFIED = "thanks_dissatisfied", _("Thanks for the rating (dissatisfied)")


class SurveyScale(models.TextChoices):
    """What the digit 1 means in the survey text the customer reads."""

    ONE_IS_BEST = "one_is_best", _("1 very satisfied … 5 very dissatisfied")
    FIVE_IS_BEST = "five_is_best", _("1 very dissatisfied … 5 very satisfied")


class SmsPolicy(EffectivePolicy):
    """The rules every customer message keeps; the version in force today applies (not the order's)."""

    enabled = models.BooleanField(_("send customer SMS"), default=True)
    quiet_from = models.TimeField(_("quiet hours from"), default=time(22),
                                  help_text=_("No message is sent between this time and the end of quiet hours: "
                                              "it waits and goes at their end."))
    quiet_until = models.TimeField(_("quiet hours until"), default=time(8),
                                   help_text=_("The same time as the start: no quiet hours."))
    daily_cap = models.PositiveSmallIntegerField(
        _("messages per customer per day"), default=5,
        help_text=_("At most this many messages to one number on one day; a message over the cap is not sent "
                    "(recorded as such)."))
    survey_enabled = models.BooleanField(
        _("satisfaction survey by SMS"), default=True,
        help_text=_("Sent when an answer reaches the customer, if the gateway's inbound replies are set up "
                    "(SMS_INBOUND_TOKEN and SMS_INBOUND_SECRET)."))
    survey_window_hours = models.PositiveSmallIntegerField(
        _("survey reply window (hours)"), default=24,
        help_text=_("Without a reply within this time the order goes to the agents' callback list."))
    survey_scale = models.CharField(_("survey digits"), max_length=16, choices=SurveyScale.choices,
                                    default=SurveyScale.ONE_IS_BEST,
                                    help_text=_("Change the survey template's wording with it. A survey already sent "
                                                "is read as it was worded."))

    class Meta:
        verbose_name = _("SMS policy")
        verbose_name_plural = _("SMS policies")
        constraints = [
            models.CheckConstraint(condition=Q(survey_window_hours__gte=1), name="sms_policy_window_positive"),
        ]



def rating_of_digit(digit: int, scale: str) -> int:
    """The 1–5 rating (5 = very satisfied, as everywhere in the product) a replied digit stands for."""
    return 6 - digit if scale == SurveyScale.ONE_IS_BEST else digit


class SmsTemplate(models.Model):
    """The text of one kind of message, for one channel or (channel empty) for every channel without its own."""

    kind = models.CharField(_("kind"), max_length=24, choices=MessageKind.choices)
    channel = models.ForeignKey("complaints.Channel", verbose_name=_("channel"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+",
                                help_text=_("Empty: every channel that has no template of its own."))
    body = models.TextField(_("text"))
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("SMS template")
        verbose_name_plural = _("SMS templates")
        ordering = ["kind", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "channel"], name="sms_template_kind_channel"),
            models.UniqueConstraint(fields=["kind"], condition=Q(channel__isnull=True),
                                    name="sms_template_kind_default"),
        ]

    def __str__(self):
        channel = self.channel or gettext("every channel")
        return f"{self.get_kind_display()} · {channel}"


class SmsMessage(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Accepted by the gateway")
        DELIVERED = "delivered", _("Delivered")
        UNDELIVERED = "undelivered", _("Not delivered")
        FAILED = "failed", _("Failed")
        UNCONFIRMED = "unconfirmed", _("Unconfirmed (not sent again)")
        SUPPRESSED = "suppressed", _("Not sent")

    class Suppressed(models.TextChoices):
        OPTED_OUT = "opted_out", _("The customer opted out (TD)")
        DAILY_CAP = "daily_cap", _("Daily limit for this number reached")
        DISABLED = "disabled", _("Customer SMS switched off")
        NO_TEMPLATE = "no_template", _("No active template")
        OUTDATED = "outdated", _("Outdated before it could be sent")

    key = models.CharField(_("key"), max_length=64, unique=True,
                           help_text=_("What the message tells of (one message per event)."))
    kind = models.CharField(_("kind"), max_length=24, choices=MessageKind.choices)
    order = models.ForeignKey("complaints.WorkOrder", verbose_name=_("work order"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    phone = models.CharField(_("mobile number"), max_length=11)
    body = models.TextField(_("text"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    suppressed = models.CharField(_("not sent because"), max_length=16, choices=Suppressed.choices, blank=True)
    # The local day the message goes out on: what the per-customer daily cap counts.
    day = models.DateField(_("day"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # An administrator's "send again": the give-up time counts from here.
    requeued_at = models.DateTimeField(_("queued again at"), null=True, blank=True)
    send_after = models.DateTimeField(_("send after"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    gateway_id = models.CharField(_("gateway's message id"), max_length=64, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    receipt_at = models.DateTimeField(_("delivery receipt at"), null=True, blank=True)
    receipt_code = models.CharField(_("delivery receipt code"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("SMS message")
        verbose_name_plural = _("SMS messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["send_after", "id"], name="sms_queued_due", condition=Q(status="queued")),
            models.Index(fields=["claimed_at"], name="sms_sending", condition=Q(status="sending")),
            models.Index(fields=["phone", "day"], name="sms_phone_day"),
            models.Index(fields=["order", "-created_at"], name="sms_order"),
            models.Index(fields=["gateway_id"], name="sms_gateway_id", condition=~Q(gateway_id="")),
            models.Index(fields=["created_at"], name="sms_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status="suppressed", suppressed__gt="") | (~Q(status="suppressed")
                                                                                        & Q(suppressed="")),
                                   name="sms_suppressed_has_reason"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} → {mask(self.phone)}"

    @property
    def masked_phone(self) -> str:
        return mask(self.phone)


class SmsOptOut(models.Model):
    """A number that replied TD (回复TD退订): no message goes to it any more."""

    phone = models.CharField(_("mobile number"), max_length=11, unique=True)
    at = models.DateTimeField(_("opted out at"), default=timezone.now)
    text = models.CharField(_("reply"), max_length=160, blank=True)

    class Meta:
        verbose_name = _("SMS opt-out")
        verbose_name_plural = _("SMS opt-outs")
        ordering = ["-at"]

    def __str__(self):
        return mask(self.phone)


class SmsSurvey(models.Model):
    """The satisfaction survey of one answer (one round of an order), waiting for the customer's digit."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Not sent yet")
        OPEN = "open", _("Waiting for the reply")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed without a rating")

    order = models.ForeignKey("complaints.WorkOrder", verbose_name=_("work order"), on_delete=models.PROTECT,
                              related_name="+")
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    phone = models.CharField(_("mobile number"), max_length=11)
    message = models.OneToOneField(SmsMessage, verbose_name=_("survey message"), on_delete=models.PROTECT,
                                   related_name="survey")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    # What the digits meant in the text the customer was sent (the policy may change while it waits).
    scale = models.CharField(_("survey digits"), max_length=16, choices=SurveyScale.choices,
                             default=SurveyScale.ONE_IS_BEST)
    opened_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("reply window ends"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("satisfaction (1–5)"), null=True, blank=True)

    class Meta:
        verbose_name = _("SMS survey")
        verbose_name_plural = _("SMS surveys")
        ordering = ["-id"]
        indexes = [models.Index(fields=["phone", "-opened_at"], name="sms_survey_phone")]
        constraints = [
            models.UniqueConstraint(fields=["order", "round"], name="sms_survey_order_round"),
            models.CheckConstraint(condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                                   name="sms_survey_rating_1_to_5"),
        ]

    def __str__(self):
        return f"{self.order_id} #{self.round}"


class SmsInbound(models.Model):
    """A message a customer sent us through the gateway, and what we made of it."""

    class Outcome(models.TextChoices):
        RATING = "rating", _("Rating recorded")
        OPT_OUT = "opt_out", _("Opt-out recorded")
        TEXT = "text", _("Text kept on the order")
        LATE = "late", _("Reply after the window: kept on the order")
        UNMATCHED = "unmatched", _("No survey for this number")

    gateway_id = models.CharField(_("gateway's message id"), max_length=64, null=True, blank=True, unique=True)  # noqa: DJ001
    phone = models.CharField(_("mobile number"), max_length=11)
    text = models.CharField(_("text"), max_length=1000)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    survey = models.ForeignKey(SmsSurvey, verbose_name=_("survey"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="replies")
    order = models.ForeignKey("complaints.WorkOrder", verbose_name=_("work order"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("SMS reply")
        verbose_name_plural = _("SMS replies")
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["phone", "-received_at"], name="sms_inbound_phone")]

    def __str__(self):
        return f"{mask(self.phone)} {self.received_at:%Y-%m-%d %H:%M}"


class SmsState(models.Model):
    """One row: how far the receipt sweep has read the orders (the highest order id it has looked at)."""

    receipt_cursor = models.BigIntegerField(default=0)
    # The last look back over the day's orders for one the cursor passed before its intake had committed.
    caught_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("SMS sweep state")
        verbose_name_plural = _("SMS sweep state")

    def __str__(self):
        return str(self.receipt_cursor)
