"""Writes of the SMS app: deciding a message (the rules operators must keep), sending the outbox, delivery receipts,
and the customer's replies (the survey's rating, TD, free text).

The rules, in the order they are applied when a message is decided: nothing for history imported from another
system or for a customer without a mobile number; nothing while customer SMS is switched off; nothing to a number
that opted out (回复TD退订); at most `daily_cap` messages to one number on one day; no message in quiet hours (it
waits for their end). A message not sent for one of these is kept, with why (status `suppressed`).
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from complaints.models import CallbackMethod, OrderSource, OrderStatus, RatingVerdict, WorkOrder
from complaints.phone import mask, mask_in_text, normalise_mobile
from sms.gateways import GatewayRejected, GatewayUnavailable, GatewayUncertain, Outgoing, gateway
from sms.models import (
    MessageKind,
    SmsInbound,
    SmsMessage,
    SmsOptOut,
    SmsPolicy,
    SmsState,
    SmsSurvey,
    SmsTemplate,
    rating_of_digit,
)
from sms.texts import render
from workflow.models import WorkflowPolicy
from workflow.notes import order_note_from_customer
from workflow.services import ActionNotPossible, order_callback, order_callback_hold

log = logging.getLogger(__name__)
Status = SmsMessage.Status

# A message claimed this long ago whose sender never said how it went: the sender died; it is not sent again.
STALE_CLAIM = timedelta(minutes=10)
MAX_BACKOFF = timedelta(hours=1)
# An order younger than this may still have a lower-numbered neighbour whose intake has not committed yet: the
# receipt sweep reads it, but keeps its cursor below it.
RECEIPT_SETTLE = timedelta(seconds=30)
# How often the receipt sweep looks back over the day's orders for one its cursor passed too early.
CATCH_UP = timedelta(minutes=10)
TRACK_PATH = "/track/"
# An order logged later than this after it was received gets no receipt message (backdated intake, a demo's past).
RECEIPT_MAX_AGE = timedelta(hours=24)


# --- deciding a message ------------------------------------------------------------------------------------------

def customer_mobile(order: WorkOrder) -> str | None:
    """The number a message about the order goes to: the contact number when it is a mobile, else the customer's."""
    if order.customer.is_placeholder:
        return None
    for raw in (order.contact_phone, order.customer.phone):
        try:
            return normalise_mobile(raw)
        except ValidationError:
            continue
    return None


def quiet_hours_end(moment: datetime, policy: SmsPolicy) -> datetime | None:
    """The end of the quiet hours `moment` falls in (local time), or None outside them."""
    start, end = policy.quiet_from, policy.quiet_until
    if start == end:
        return None
    local = timezone.localtime(moment)
    now = local.time()
    quiet = (start <= now < end) if start < end else (now >= start or now < end)
    if not quiet:
        return None
    day = local.date() if now < end else local.date() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, end), local.tzinfo)


def _template(kind: str, channel_id: int | None) -> SmsTemplate | None:
    candidates = [t for t in SmsTemplate.objects.filter(Q(channel_id=channel_id) | Q(channel__isnull=True),
                                                        kind=kind, is_active=True)]
    candidates.sort(key=lambda t: t.channel_id is None)  # the channel's own first
    return candidates[0] if candidates else None


def _format_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{local.month}月{local.day}日{local:%H:%M}"


def order_values(order: WorkOrder, **extra) -> dict:
    base = settings.SITE_URL.rstrip("/")
    return {"number": order.number, "category": order.category.name, "promised_at": _format_time(order.promised_at),
            "track_url": f"{base}{TRACK_PATH}?number={order.number}", **extra}


def _lock_number(phone: str) -> None:
    """Two messages decided at once for one number count against its daily cap one after the other."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x534D53, int(phone) % 2_000_000_000])


def message_compose(*, kind: str, order: WorkOrder, key: str, values: dict | None = None,
                    now: datetime | None = None) -> SmsMessage | None:
    """Decide one message to the order's customer; None when the order's customer is never written to (history,
    no mobile number) or the message was decided already (same key)."""
    if order.source == OrderSource.IMPORT:
        return None
    phone = customer_mobile(order)
    if phone is None:
        return None
    now = now or timezone.now()
    policy = SmsPolicy.in_force()
    send_after = quiet_hours_end(now, policy) or now
    message = SmsMessage(key=key[:64], kind=kind, order=order, phone=phone, day=timezone.localdate(send_after),
                         created_at=now, send_after=send_after)
    with transaction.atomic():
        _lock_number(phone)
        reason = ""
        if not policy.enabled:
            reason = SmsMessage.Suppressed.DISABLED
        elif SmsOptOut.objects.filter(phone=phone).exists():
            reason = SmsMessage.Suppressed.OPTED_OUT
        else:
            template = _template(kind, order.channel_id)
            if template is None:
                reason = SmsMessage.Suppressed.NO_TEMPLATE
            else:
                with translation.override(settings.LANGUAGE_CODE):
                    message.body = render(template.body, order_values(order, **(values or {})))
                sent_that_day = (SmsMessage.objects.filter(phone=phone, day=message.day)
                                 .exclude(status__in=[Status.SUPPRESSED, Status.FAILED]).count())
                if sent_that_day >= policy.daily_cap:
                    reason = SmsMessage.Suppressed.DAILY_CAP
        if reason:
            message.status, message.suppressed = Status.SUPPRESSED, reason
        try:
            with transaction.atomic():
                message.save(force_insert=True)
        except IntegrityError:
            return None  # decided already
    if message.status == Status.QUEUED:
        _request_sending()
    log.info("sms %s %s to %s: %s", message.pk, kind, mask(phone), message.status + (f" ({reason})" if reason else ""))
    return message


def _request_sending() -> None:
    if any(callback is _send_now for _sids, callback, *_rest in connection.run_on_commit):
        return
    transaction.on_commit(_send_now)


def _send_now() -> None:
    try:  # by name: sms.tasks imports this module
        current_app.send_task("sms.tasks.sms_send", retry=False)
    except Exception:  # noqa: BLE001 - the broker is down: the periodic task sends it
        log.warning("Could not queue SMS sending; the periodic task will send it.", exc_info=True)


# --- what the workflow announces (workflow.hooks) ------------------------------------------------------------------

def _never_blocking(subscriber):
    """A hook subscriber whose failure must not undo the workflow step it tells of: it runs in a savepoint, and an
    error is logged (the step goes on; the customer misses one message)."""
    @functools.wraps(subscriber)
    def safe(**kwargs):
        try:
            with transaction.atomic():
                subscriber(**kwargs)
        except Exception:  # noqa: BLE001 - an SMS problem never refuses a reply, a review or a callback
            order = kwargs.get("order")
            log.exception("sms: %s failed for order %s; the workflow step goes on without it", subscriber.__name__,
                          getattr(order, "number", "?"))
    return safe


def _reason_text(cause: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("the extension was approved") if cause == "extension" else _("it is being handled again")


@_never_blocking
def order_promise_told(*, order: WorkOrder, cause: str) -> None:
    """A new promised time: the customer is told it, and why (workflow.hooks.order_promise_moved)."""
    stamp = int(order.promised_at.timestamp()) if order.promised_at else 0
    message_compose(kind=MessageKind.PROMISE, order=order, key=f"promise:{order.pk}:{stamp}",
                    values={"reason": _reason_text(cause)})


def survey_possible() -> bool:
    """A survey asks for a reply: only when the gateway can hand us the replies."""
    return bool(settings.SMS_INBOUND_TOKEN and settings.SMS_INBOUND_SECRET)


@_never_blocking
def order_answer_told(*, order: WorkOrder) -> None:
    """The answer reached the customer's side: tell them; at callback, ask for their rating (the survey)
    (workflow.hooks.order_answered)."""
    round_ = order.reopen_count + 1
    with translation.override(settings.LANGUAGE_CODE):
        values = {"result": order.get_result_code_display() if order.result_code else "",
                  "reply_method": order.get_reply_method_display() if order.reply_method else ""}
    message_compose(kind=MessageKind.ANSWERED, order=order, key=f"answered:{order.pk}:{round_}", values=values)
    if order.status != OrderStatus.CALLBACK:
        return
    policy = SmsPolicy.in_force()
    message = None
    if policy.survey_enabled and survey_possible():
        message = message_compose(kind=MessageKind.SURVEY, order=order, key=f"survey:{order.pk}:{round_}")
    if message is None or message.status != Status.QUEUED:
        order_callback_hold(order=order, until=None)  # not asked: the agents call the customer as before
        return
    SmsSurvey.objects.create(order=order, round=round_, phone=message.phone, message=message,
                             scale=policy.survey_scale)
    order_callback_hold(order=order, until=message.send_after + timedelta(hours=policy.survey_window_hours))


def _receipt_for(order: WorkOrder, now: datetime) -> bool:
    if order.status == OrderStatus.CANCELLED or order.received_at < now - RECEIPT_MAX_AGE:
        return False  # withdrawn already, or logged long after it was received (a receipt would come too late)
    kind = MessageKind.ON_SPOT if order.resolved_on_spot else MessageKind.RECEIPT
    return message_compose(kind=kind, order=order, key=f"receipt:{order.pk}") is not None


def receipts_compose(*, now: datetime | None = None, limit: int = 500) -> int:
    """受理短信: tell the customers of newly received orders their number, promised time and tracking link (on-spot
    resolutions get their own message). Read after the intake's commit, by a periodic task, so that taking an
    order in writes nothing more. The cursor keeps the highest order id read, below orders too young to be sure
    that no lower id is still being written; every CATCH_UP the day's orders are looked over once more for one
    whose intake committed after the cursor had passed it."""
    now = now or timezone.now()
    composed = 0
    with transaction.atomic():
        state, created = SmsState.objects.select_for_update().get_or_create(pk=1)
        if created:  # first run: from the orders of the last hour on, not the whole history
            state.receipt_cursor = (WorkOrder.objects.filter(created_at__lt=now - timedelta(hours=1))
                                    .order_by("-pk").values_list("pk", flat=True).first() or 0)
            state.caught_up_at = now
        orders = list(WorkOrder.objects.filter(pk__gt=state.receipt_cursor).exclude(source=OrderSource.IMPORT)
                      .order_by("pk").select_related("customer", "category")[:limit])
        done = set(SmsMessage.objects.filter(key__in=[f"receipt:{o.pk}" for o in orders])
                   .values_list("key", flat=True))
        cursor, settled = state.receipt_cursor, True
        for order in orders:
            settled = settled and order.created_at <= now - RECEIPT_SETTLE
            if settled:
                cursor = order.pk
            if f"receipt:{order.pk}" not in done:
                composed += _receipt_for(order, now)
        fields = ["receipt_cursor"]
        if state.caught_up_at is None or state.caught_up_at <= now - CATCH_UP:
            composed += _receipts_catch_up(now=now, below=cursor)
            state.caught_up_at = now
            fields.append("caught_up_at")
        state.receipt_cursor = cursor
        state.save(update_fields=fields)
    return composed


def _receipts_catch_up(*, now: datetime, below: int) -> int:
    """The day's orders at or below the cursor that have no receipt message yet (their intake committed late)."""
    missed = (WorkOrder.objects.filter(received_at__gte=now - RECEIPT_MAX_AGE, pk__lte=below)
              .exclude(source=OrderSource.IMPORT).exclude(status=OrderStatus.CANCELLED)
              .exclude(Exists(SmsMessage.objects.filter(order=OuterRef("pk"),
                                                        kind__in=[MessageKind.RECEIPT, MessageKind.ON_SPOT])))
              .select_related("customer", "category").order_by("pk"))
    return sum(_receipt_for(order, now) for order in missed[:1000])


# --- sending -------------------------------------------------------------------------------------------------------

def _claim_one(now: datetime) -> SmsMessage | None:
    """The next due message, claimed (committed) just before the gateway is called."""
    with transaction.atomic():
        message = (SmsMessage.objects.select_for_update(skip_locked=True)
                   .filter(status=Status.QUEUED, send_after__lte=now).order_by("send_after", "id").first())
        if message is None:
            return None
        message.claimed_at = timezone.now()
        message.attempts += 1
        message.status = Status.SENDING
        SmsMessage.objects.filter(pk=message.pk, status=Status.QUEUED).update(
            status=Status.SENDING, claimed_at=message.claimed_at, attempts=message.attempts)
    return message


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=settings.SMS_RETRY_SECONDS * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _outdated(message: SmsMessage) -> bool:
    """A survey whose order no longer waits for that round's callback (called back meanwhile, reopened)."""
    if message.kind != MessageKind.SURVEY:
        return False
    survey = SmsSurvey.objects.select_related("order").filter(message=message).first()
    return survey is not None and (survey.order.status != OrderStatus.CALLBACK
                                   or survey.order.reopen_count + 1 != survey.round)


def messages_send_due(*, now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Send the queued messages that are due, one claim at a time. Each is claimed (committed) just before the
    gateway is called: a message goes out at most once; it is offered again only when the gateway did not take it
    (down, busy), and once the gateway is found down the rest wait for the next run."""
    now = now or timezone.now()
    counts = {"sent": 0, "retry": 0, "failed": 0, "unconfirmed": 0, "suppressed": 0}
    policy = SmsPolicy.in_force()
    if quiet_hours_end(now, policy) is not None:
        return counts  # quiet hours: everything waits for the morning
    backend = gateway()
    give_up = timedelta(hours=settings.SMS_GIVE_UP_HOURS)
    for _turn in range(limit):
        message = _claim_one(now)
        if message is None:
            break
        outcome = _send_one(message, backend, policy, give_up)
        counts[outcome] += 1
        if outcome == "retry":
            break  # the gateway is down or busy: the others wait for the next run (their claims untouched)
    return counts


def _send_one(message: SmsMessage, backend, policy: SmsPolicy, give_up: timedelta) -> str:
    now = timezone.now()
    if now - (message.requeued_at or message.created_at) > give_up:  # news too old to be news
        _finish(message, status=Status.FAILED, error=f"not sent within {settings.SMS_GIVE_UP_HOURS} hours")
        return "failed"
    opted_out = SmsOptOut.objects.filter(phone=message.phone).exists()
    if opted_out or not policy.enabled or _outdated(message):  # changed while it waited
        reason = (SmsMessage.Suppressed.OPTED_OUT if opted_out else SmsMessage.Suppressed.DISABLED
                  if not policy.enabled else SmsMessage.Suppressed.OUTDATED)
        _finish(message, status=Status.SUPPRESSED, suppressed=reason)
        return "suppressed"
    try:
        gateway_id = backend.send(Outgoing(ref=str(message.pk), phone=message.phone, text=message.body))
    except GatewayUnavailable as exc:
        error = mask_in_text(str(exc))
        if now - (message.requeued_at or message.created_at) > give_up:
            _finish(message, status=Status.FAILED, error=error)
            return "failed"
        _finish(message, status=Status.QUEUED, error=error, send_after=now + _backoff(message.attempts))
        log.warning("sms %s to %s: gateway unavailable (%s)", message.pk, mask(message.phone), error)
        return "retry"
    except GatewayRejected as exc:
        error = mask_in_text(str(exc))
        _finish(message, status=Status.FAILED, error=error)
        log.warning("sms %s to %s: refused by the gateway (%s)", message.pk, mask(message.phone), error)
        return "failed"
    except Exception as exc:  # noqa: BLE001 - GatewayUncertain, or a fault of ours after the request may have left
        error = mask_in_text(str(exc) if isinstance(exc, GatewayUncertain) else f"{type(exc).__name__}: {exc}")
        _finish(message, status=Status.UNCONFIRMED, error=error, sent_at=now)
        log.warning("sms %s to %s: unconfirmed, not sent again (%s)", message.pk, mask(message.phone), error,
                    exc_info=not isinstance(exc, GatewayUncertain))
        return "unconfirmed"
    _finish(message, status=Status.SENT, sent_at=timezone.now(), gateway_id=gateway_id)
    log.info("sms %s %s sent to %s", message.pk, message.kind, mask(message.phone))
    return "sent"


def _finish(message: SmsMessage, *, status: str, error: str = "", suppressed: str = "", sent_at=None,
            gateway_id: str = "", send_after=None) -> bool:
    """Record how the sending went, and what it means for the survey the message carries. False when the claim
    was no longer ours (the stale-claim sweep took it)."""
    with transaction.atomic():
        fields = {"status": status, "suppressed": suppressed, "last_error": error[:500]}
        if sent_at is not None:
            fields["sent_at"] = sent_at
        if gateway_id:
            fields["gateway_id"] = gateway_id
        if send_after is not None:
            fields["send_after"] = send_after
        if not SmsMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(**fields):
            return False
        if status == Status.SENT:
            _receipt_apply(message.pk)  # a receipt that came before we heard back from the gateway
        if message.kind != MessageKind.SURVEY:
            return True
        survey = SmsSurvey.objects.select_related("order").filter(message=message).first()
        if survey is None:
            return True
        window = timedelta(hours=SmsPolicy.in_force().survey_window_hours)
        if status in (Status.SENT, Status.UNCONFIRMED):  # it may have reached the customer: wait for the reply
            survey.status, survey.opened_at, survey.expires_at = SmsSurvey.Status.OPEN, sent_at, sent_at + window
            survey.save(update_fields=["status", "opened_at", "expires_at"])
            order_callback_hold(order=survey.order, until=survey.expires_at)
        elif status in (Status.FAILED, Status.SUPPRESSED):
            _survey_give_up(survey)
        else:  # to be sent again later: the hold follows
            order_callback_hold(order=survey.order, until=send_after + window)
    return True


def _survey_give_up(survey: SmsSurvey) -> None:
    """The customer cannot answer this survey: the order goes to the agents' callback list now."""
    SmsSurvey.objects.filter(pk=survey.pk, status__in=[SmsSurvey.Status.PENDING, SmsSurvey.Status.OPEN]).update(
        status=SmsSurvey.Status.CLOSED)
    if survey.order.status == OrderStatus.CALLBACK and survey.order.reopen_count + 1 == survey.round:
        order_callback_hold(order=survey.order, until=None)


def messages_sweep_stale(*, now: datetime | None = None) -> int:
    """A claim whose sender never reported (it died): the gateway may have the message, so it is not sent again."""
    now = now or timezone.now()
    stale = list(SmsMessage.objects.filter(status=Status.SENDING, claimed_at__lt=now - STALE_CLAIM))
    for message in stale:
        _finish(message, status=Status.UNCONFIRMED, error="the sender stopped before the gateway answered",
                sent_at=message.claimed_at)
    return len(stale)


def message_send_again(*, actor, message: SmsMessage) -> bool:
    """An administrator's decision to send a failed or unconfirmed message once more (admin action)."""
    if message.status not in (Status.FAILED, Status.UNCONFIRMED):
        return False
    now = timezone.now()
    updated = SmsMessage.objects.filter(pk=message.pk, status=message.status).update(
        status=Status.QUEUED, send_after=now, requeued_at=now, last_error=f"sent again by {actor}"[:500])
    if updated:
        _request_sending()
    return bool(updated)


# --- what the gateway tells us ---------------------------------------------------------------------------------

def _receipt_state(code: str) -> str | None:
    """DELIVERED, UNDELIVERED, or None for a status on the way (the gateway will send the final one)."""
    if code in settings.SMS_RECEIPT_DELIVERED:
        return Status.DELIVERED
    if code in settings.SMS_RECEIPT_PENDING:
        return None
    return Status.UNDELIVERED


def receipt_record(*, ref: str, status: str, at: datetime | None = None) -> SmsMessage | None:
    """A delivery receipt. `ref` is our id of the message, or the gateway's when SMS_RECEIPT_REF says so. A receipt
    that comes before the gateway's own answer is kept and applied once the message is recorded as sent."""
    ref, code = (ref or "").strip(), (status or "").strip()[:32]
    if settings.SMS_RECEIPT_REF == "gateway":
        message = SmsMessage.objects.filter(gateway_id=ref).order_by("-pk").first() if ref else None
    else:
        message = SmsMessage.objects.filter(pk=int(ref)).first() if re.fullmatch(r"[0-9]{1,18}", ref) else None
    if message is None:
        return None
    with transaction.atomic():
        SmsMessage.objects.filter(pk=message.pk).update(receipt_at=at or timezone.now(), receipt_code=code)
        _receipt_apply(message.pk)
    message.refresh_from_db()
    return message


def _receipt_apply(pk: int) -> None:
    message = SmsMessage.objects.select_for_update().get(pk=pk)
    state = _receipt_state(message.receipt_code) if message.receipt_code else None
    if state is None or message.status not in (Status.SENT, Status.UNCONFIRMED, Status.DELIVERED,
                                                Status.UNDELIVERED):
        return
    SmsMessage.objects.filter(pk=pk).update(status=state)
    if state == Status.UNDELIVERED and message.kind == MessageKind.SURVEY:
        survey = SmsSurvey.objects.select_related("order").filter(message=message).first()
        if survey is not None and survey.status == SmsSurvey.Status.OPEN:
            _survey_give_up(survey)  # it never arrived: the agents call
    elif state == Status.DELIVERED and message.kind == MessageKind.SURVEY:
        survey = SmsSurvey.objects.select_related("order").filter(message=message).first()
        if survey is not None and survey.status == SmsSurvey.Status.CLOSED and survey.answered_at is None \
                and survey.expires_at and survey.expires_at > timezone.now() \
                and survey.order.status == OrderStatus.CALLBACK and survey.order.reopen_count + 1 == survey.round:
            # "not delivered" on the way, then delivered after all: the customer may answer again
            SmsSurvey.objects.filter(pk=survey.pk).update(status=SmsSurvey.Status.OPEN)
            order_callback_hold(order=survey.order, until=survey.expires_at)


# TD (退订) and its spellings; nothing looser (a "取消" may mean "cancel my complaint", not "stop writing").
_OPT_OUT = re.compile(r"^(TD|退订|TD退订|退订TD|回复TD退订)$", re.IGNORECASE)
# A digit 1–5 alone, or followed by a space, punctuation or the scale's own words; "5G…" and "3天了…" are text.
_SCALE_WORDS = ("非常满意", "基本满意", "满意", "一般", "非常不满意", "不满意", "很满意", "很不满意")
_DIGIT = re.compile(r"^([1-5])(?:$|[\s.。,，、:：;；!！?？)）\]】-]\s*(.*)$|(" + "|".join(_SCALE_WORDS) + r")(.*)$)",
                    re.DOTALL)
_CHINESE_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}


def reply_parse(text: str) -> tuple[str, int | None, str]:
    """("opt_out" | "rating" | "text", the digit or None, the rest of the text)."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    if _OPT_OUT.match(text.replace(" ", "")):
        return "opt_out", None, ""
    match = _DIGIT.match(text)
    if match:
        rest = match.group(2) if match.group(2) is not None else (match.group(3) or "") + (match.group(4) or "")
        return "rating", int(match.group(1)), (rest or "").strip()
    if text[:1] in _CHINESE_DIGITS and (len(text) == 1 or text[1] in " .。,，、:：;；!！"):
        return "rating", _CHINESE_DIGITS[text[0]], text[1:].strip(" .。,，、:：;；!！")
    return "text", None, text


def inbound_receive(*, phone: str, text: str, gateway_id: str | None = None,
                    at: datetime | None = None) -> SmsInbound:
    """A customer's SMS: TD opts the number out; a digit answers the latest open survey sent to the number (a
    rating recorded as the order's callback, then thanks); anything else is kept on that survey's order for the
    agent (also a digit after the survey's window). The same gateway id twice is one message."""
    phone = normalise_mobile(phone)
    text = (text or "").strip()[:1000]
    at = at or timezone.now()
    if gateway_id:
        known = SmsInbound.objects.filter(gateway_id=gateway_id).first()
        if known is not None:
            return known
    try:
        with transaction.atomic():
            return _inbound_record(phone=phone, text=text, gateway_id=gateway_id, at=at)
    except IntegrityError:  # the gateway sent the same reply twice at once: the other one recorded it
        known = SmsInbound.objects.filter(gateway_id=gateway_id).first() if gateway_id else None
        if known is None:
            raise
        return known


def _inbound_record(*, phone: str, text: str, gateway_id: str | None, at: datetime) -> SmsInbound:
    what, digit, rest = reply_parse(text)
    inbound = SmsInbound(gateway_id=gateway_id or None, phone=phone, text=text, received_at=at)
    surveys = (SmsSurvey.objects.select_related("order", "order__customer", "order__category")
               .filter(phone=phone, opened_at__isnull=False))
    live = surveys.filter(status=SmsSurvey.Status.OPEN, expires_at__gt=at).order_by("-opened_at", "-id").first()
    if what == "opt_out":
        SmsOptOut.objects.get_or_create(phone=phone, defaults={"at": at, "text": text[:160]})
        inbound.outcome = SmsInbound.Outcome.OPT_OUT
        for survey in surveys.filter(status=SmsSurvey.Status.OPEN):
            _survey_give_up(survey)  # they will not answer it: the agents call
        inbound.save()
        log.info("sms opt-out from %s", mask(phone))
        return inbound
    survey = live or surveys.order_by("-opened_at", "-id").first()
    if survey is None:
        inbound.outcome = SmsInbound.Outcome.UNMATCHED
        inbound.save()
        return inbound
    inbound.survey, inbound.order = survey, survey.order
    if what == "rating" and survey is live and _rating_record(survey, digit, rest, at):
        inbound.outcome = SmsInbound.Outcome.RATING
    else:
        late = what == "rating" or survey is not live
        inbound.outcome = SmsInbound.Outcome.LATE if late else SmsInbound.Outcome.TEXT
        if text:
            order_note_from_customer(order=survey.order, body=text, via=_via_sms(late))
    inbound.save()
    return inbound


def _via_sms(late: bool) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("SMS reply after the survey closed") if late else _("SMS reply")


def _rating_record(survey: SmsSurvey, digit: int, rest: str, at: datetime) -> bool:
    """Record the rating as the order's callback, if the order still waits for this round's callback; the digit
    read as the survey the customer was sent words it."""
    order = survey.order
    if order.status != OrderStatus.CALLBACK or order.reopen_count + 1 != survey.round:
        return False
    rating = rating_of_digit(digit, survey.scale)
    try:
        with transaction.atomic():
            order_callback(actor=None, order=order, reached=True, satisfaction=rating, solved=None, comment=rest,
                           method=CallbackMethod.SMS)
    except ActionNotPossible:
        return False  # an agent recorded the callback a moment ago
    survey.status, survey.answered_at, survey.rating = SmsSurvey.Status.ANSWERED, at, rating
    survey.save(update_fields=["status", "answered_at", "rating"])
    verdict = WorkflowPolicy.in_force(on=timezone.localdate(order.received_at)).rating_verdict(rating)
    order.refresh_from_db()
    kind = MessageKind.THANKS_DISSATISFIED if verdict == RatingVerdict.DISSATISFIED else MessageKind.THANKS
    message_compose(kind=kind, order=order, key=f"thanks:{order.pk}:{survey.round}")
    return True
