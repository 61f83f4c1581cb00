"""Writes of the SMS app: deciding a message (the rules operators must keep), sending the outbox, delivery receipts,
and the customer's replies (the survey's rating, TD, free text).

The rules, in the order they are applied when a message is decided: nothing for history imported from another
system or for a customer without a mobile number; nothing while customer SMS is switched off; nothing to a number
that opted out (回复TD退订); at most `daily_cap` messages to one number on one day; no message in quiet hours (it
waits for their end). A message not sent for one of these is kept, with why (status `suppressed`).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from complaints.models import CallbackMethod, OrderSource, OrderStatus, RatingVerdict, WorkOrder
from complaints.phone import mask, normalise_mobile
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
    from sms.tasks import sms_send  # local: sms.tasks imports this module

    try:
        sms_send.apply_async(retry=False)
    except Exception:  # noqa: BLE001 - the broker is down: the periodic task sends it
        log.warning("Could not queue SMS sending; the periodic task will send it.", exc_info=True)


# --- what the workflow announces (workflow.hooks) ------------------------------------------------------------------

def _reason_text(cause: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("the extension was approved") if cause == "extension" else _("it is being handled again")


def order_promise_told(*, order: WorkOrder, cause: str) -> None:
    """A new promised time: the customer is told it, and why (workflow.hooks.order_promise_moved)."""
    stamp = int(order.promised_at.timestamp()) if order.promised_at else 0
    message_compose(kind=MessageKind.PROMISE, order=order, key=f"promise:{order.pk}:{stamp}",
                    values={"reason": _reason_text(cause)})


def survey_possible() -> bool:
    """A survey asks for a reply: only when the gateway can hand us the replies."""
    return bool(settings.SMS_INBOUND_TOKEN and settings.SMS_INBOUND_SECRET)


def order_answer_told(*, order: WorkOrder) -> None:
    """The answer reached the customer's side: tell them; at callback, ask for their rating (the survey)
    (workflow.hooks.order_answered)."""
    round_ = order.reopen_count + 1
    with translation.override(settings.LANGUAGE_CODE):
        values = {"result": order.get_result_code_display() if order.result_code else "",
                  "reply_method": order.get_reply_method_display() if order.reply_method else ""}
    message_compose(kind=MessageKind.ANSWERED, order=order, key=f"answered:{order.pk}:{round_}", values=values)
    policy = SmsPolicy.in_force()
    if order.status != OrderStatus.CALLBACK or not policy.survey_enabled or not survey_possible():
        return
    message = message_compose(kind=MessageKind.SURVEY, order=order, key=f"survey:{order.pk}:{round_}")
    if message is None or message.status != Status.QUEUED:
        return  # not asked: the agents call the customer as before
    SmsSurvey.objects.create(order=order, round=round_, phone=message.phone, message=message)
    order_callback_hold(order=order, until=message.send_after + timedelta(hours=policy.survey_window_hours))


def receipts_compose(*, now: datetime | None = None, limit: int = 500) -> int:
    """受理短信: tell the customers of newly received orders their number, promised time and tracking link (on-spot
    resolutions get their own message). Read after the intake's commit, by a periodic task, so that taking an
    order in writes nothing more; the cursor keeps the highest order id read, below orders too young to be sure
    that no lower id is still being written."""
    now = now or timezone.now()
    with transaction.atomic():
        state, created = SmsState.objects.select_for_update().get_or_create(pk=1)
        if created:  # first run: from the orders of the last hour on, not the whole history
            state.receipt_cursor = (WorkOrder.objects.filter(created_at__lt=now - timedelta(hours=1))
                                    .order_by("-pk").values_list("pk", flat=True).first() or 0)
        orders = list(WorkOrder.objects.filter(pk__gt=state.receipt_cursor).order_by("pk")
                      .select_related("customer", "category")[:limit])
        keys = {f"receipt:{o.pk}" for o in orders}
        done = set(SmsMessage.objects.filter(key__in=keys).values_list("key", flat=True))
        composed, cursor, settled = 0, state.receipt_cursor, True
        for order in orders:
            settled = settled and order.created_at <= now - RECEIPT_SETTLE
            if settled:
                cursor = order.pk
            if f"receipt:{order.pk}" in done or order.source == OrderSource.IMPORT:
                continue
            if order.status == OrderStatus.CANCELLED or order.received_at < now - RECEIPT_MAX_AGE:
                continue  # withdrawn already, or logged long after it was received (a receipt would come too late)
            kind = MessageKind.ON_SPOT if order.resolved_on_spot else MessageKind.RECEIPT
            if message_compose(kind=kind, order=order, key=f"receipt:{order.pk}") is not None:
                composed += 1
        if cursor != state.receipt_cursor or created:
            state.receipt_cursor = cursor
            state.save(update_fields=["receipt_cursor"])
    return composed


# --- sending -------------------------------------------------------------------------------------------------------

def _claim(now: datetime, limit: int) -> list[int]:
    with transaction.atomic():
        ids = list(SmsMessage.objects.select_for_update(skip_locked=True)
                   .filter(status=Status.QUEUED, send_after__lte=now).order_by("send_after", "id")
                   .values_list("pk", flat=True)[:limit])
        SmsMessage.objects.filter(pk__in=ids).update(status=Status.SENDING, claimed_at=now,
                                                     attempts=F("attempts") + 1)
    return ids


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=settings.SMS_RETRY_SECONDS * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def messages_send_due(*, now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Send the queued messages that are due. Each is claimed (committed) before the gateway is called: a message
    goes out at most once; it is offered again only when the gateway did not take it (down, busy)."""
    now = now or timezone.now()
    counts = {"sent": 0, "retry": 0, "failed": 0, "unconfirmed": 0, "suppressed": 0}
    policy = SmsPolicy.in_force()
    if quiet_hours_end(now, policy) is not None:
        return counts  # quiet hours: everything waits for the morning
    ids = _claim(now, limit)
    if not ids:
        return counts
    messages = list(SmsMessage.objects.filter(pk__in=ids).order_by("send_after", "id"))
    opted_out = set(SmsOptOut.objects.filter(phone__in={m.phone for m in messages}).values_list("phone", flat=True))
    backend = gateway()
    give_up = timedelta(hours=settings.SMS_GIVE_UP_HOURS)
    for message in messages:
        if now - message.created_at > give_up:  # news too old to be news (a worker down for days)
            _finish(message, status=Status.FAILED, error=f"not sent within {settings.SMS_GIVE_UP_HOURS} hours")
            counts["failed"] += 1
            continue
        if message.phone in opted_out or not policy.enabled:  # opted out (or switched off) while it waited
            reason = SmsMessage.Suppressed.OPTED_OUT if message.phone in opted_out else SmsMessage.Suppressed.DISABLED
            _finish(message, status=Status.SUPPRESSED, suppressed=reason)
            counts["suppressed"] += 1
            continue
        try:
            gateway_id = backend.send(Outgoing(ref=str(message.pk), phone=message.phone, text=message.body))
        except GatewayUnavailable as exc:
            if timezone.now() - message.created_at > give_up:
                _finish(message, status=Status.FAILED, error=str(exc))
                counts["failed"] += 1
            else:
                _finish(message, status=Status.QUEUED, error=str(exc),
                        send_after=timezone.now() + _backoff(message.attempts))
                counts["retry"] += 1
            log.warning("sms %s to %s: gateway unavailable (%s)", message.pk, mask(message.phone), exc)
            continue
        except GatewayRejected as exc:
            _finish(message, status=Status.FAILED, error=str(exc))
            counts["failed"] += 1
            log.warning("sms %s to %s: refused by the gateway (%s)", message.pk, mask(message.phone), exc)
            continue
        except GatewayUncertain as exc:
            _finish(message, status=Status.UNCONFIRMED, error=str(exc), sent_at=timezone.now())
            counts["unconfirmed"] += 1
            log.warning("sms %s to %s: unconfirmed, not sent again (%s)", message.pk, mask(message.phone), exc)
            continue
        _finish(message, status=Status.SENT, sent_at=timezone.now(), gateway_id=gateway_id)
        counts["sent"] += 1
        log.info("sms %s %s sent to %s", message.pk, message.kind, mask(message.phone))
    return counts


def _finish(message: SmsMessage, *, status: str, error: str = "", suppressed: str = "", sent_at=None,
            gateway_id: str = "", send_after=None) -> None:
    """Record how the sending went, and what it means for the survey the message carries."""
    with transaction.atomic():
        fields = {"status": status, "suppressed": suppressed, "last_error": error[:500]}
        if sent_at is not None:
            fields["sent_at"] = sent_at
        if gateway_id:
            fields["gateway_id"] = gateway_id
        if send_after is not None:
            fields["send_after"] = send_after
        SmsMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(**fields)
        if message.kind != MessageKind.SURVEY:
            return
        survey = SmsSurvey.objects.select_related("order").filter(message=message).first()
        if survey is None:
            return
        if status in (Status.SENT, Status.UNCONFIRMED):  # it may have reached the customer: wait for the reply
            window = timedelta(hours=SmsPolicy.in_force().survey_window_hours)
            survey.status, survey.opened_at, survey.expires_at = SmsSurvey.Status.OPEN, sent_at, sent_at + window
            survey.save(update_fields=["status", "opened_at", "expires_at"])
            order_callback_hold(order=survey.order, until=survey.expires_at)
        elif status in (Status.FAILED, Status.SUPPRESSED):
            _survey_give_up(survey)
        else:  # to be sent again later: the hold follows
            window = timedelta(hours=SmsPolicy.in_force().survey_window_hours)
            order_callback_hold(order=survey.order, until=send_after + window)


def _survey_give_up(survey: SmsSurvey) -> None:
    """The customer cannot answer this survey: the order goes to the agents' callback list now."""
    SmsSurvey.objects.filter(pk=survey.pk, status__in=[SmsSurvey.Status.PENDING, SmsSurvey.Status.OPEN]).update(
        status=SmsSurvey.Status.CLOSED)
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
    updated = SmsMessage.objects.filter(pk=message.pk, status=message.status).update(
        status=Status.QUEUED, send_after=timezone.now(), last_error=f"sent again by {actor}"[:500])
    if updated:
        _request_sending()
    return bool(updated)


# --- what the gateway tells us ---------------------------------------------------------------------------------

def receipt_record(*, ref: str, status: str, at: datetime | None = None) -> SmsMessage | None:
    """A delivery receipt: `ref` is our id of the message (or the gateway's); delivered or not by the status code."""
    ref = (ref or "").strip()
    query = Q(gateway_id=ref) if not ref.isdigit() else Q(pk=int(ref)) | Q(gateway_id=ref)
    message = SmsMessage.objects.filter(query).order_by("-pk").first() if ref else None
    if message is None:
        return None
    delivered = status.strip() in settings.SMS_RECEIPT_DELIVERED
    with transaction.atomic():
        SmsMessage.objects.filter(pk=message.pk, status__in=[Status.SENT, Status.UNCONFIRMED, Status.DELIVERED,
                                                             Status.UNDELIVERED]).update(
            status=Status.DELIVERED if delivered else Status.UNDELIVERED, receipt_at=at or timezone.now(),
            receipt_code=status.strip()[:32])
        if not delivered and message.kind == MessageKind.SURVEY:
            survey = SmsSurvey.objects.select_related("order").filter(message=message).first()
            if survey is not None and survey.status == SmsSurvey.Status.OPEN:
                _survey_give_up(survey)
    message.refresh_from_db()
    return message


_OPT_OUT = re.compile(r"^(TD|T|N|退订|TD退订|退订TD|取消|STOP)$", re.IGNORECASE)
_DIGIT = re.compile(r"^([1-5])(?![0-9])\s*[.、,，:：]?\s*(.*)$", re.DOTALL)
_CHINESE_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}


def reply_parse(text: str) -> tuple[str, int | None, str]:
    """("opt_out" | "rating" | "text", the digit or None, the rest of the text)."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    if _OPT_OUT.match(text.replace(" ", "")):
        return "opt_out", None, ""
    match = _DIGIT.match(text)
    if match:
        return "rating", int(match.group(1)), match.group(2).strip()
    if text[:1] in _CHINESE_DIGITS and (len(text) == 1 or not text[1].isalnum()):
        return "rating", _CHINESE_DIGITS[text[0]], text[1:].strip(" .、,，:：")
    return "text", None, text


def inbound_receive(*, phone: str, text: str, gateway_id: str | None = None,
                    at: datetime | None = None) -> SmsInbound:
    """A customer's SMS: TD opts the number out; a digit answers the latest survey sent to the number (a rating
    recorded as the order's callback, then thanks); anything else is kept on that survey's order for the agent.
    The same gateway id twice is one message."""
    phone = normalise_mobile(phone)
    text = (text or "").strip()[:1000]
    at = at or timezone.now()
    if gateway_id:
        known = SmsInbound.objects.filter(gateway_id=gateway_id).first()
        if known is not None:
            return known
    what, digit, rest = reply_parse(text)
    with transaction.atomic():
        inbound = SmsInbound(gateway_id=gateway_id or None, phone=phone, text=text, received_at=at)
        if what == "opt_out":
            SmsOptOut.objects.get_or_create(phone=phone, defaults={"at": at, "text": text[:160]})
            inbound.outcome = SmsInbound.Outcome.OPT_OUT
            inbound.save()
            log.info("sms opt-out from %s", mask(phone))
            return inbound
        survey = (SmsSurvey.objects.select_related("order", "order__customer", "order__category")
                  .filter(phone=phone, opened_at__isnull=False).order_by("-opened_at", "-id").first())
        if survey is None:
            inbound.outcome = SmsInbound.Outcome.UNMATCHED
            inbound.save()
            return inbound
        inbound.survey, inbound.order = survey, survey.order
        open_now = survey.status == SmsSurvey.Status.OPEN and survey.expires_at > at
        if what == "rating" and open_now and _rating_record(survey, digit, rest, at):
            inbound.outcome = SmsInbound.Outcome.RATING
        else:
            late = what == "rating" or not open_now
            inbound.outcome = SmsInbound.Outcome.LATE if late else SmsInbound.Outcome.TEXT
            order_note_from_customer(order=survey.order, body=text, via=_via_sms(late))
        inbound.save()
    return inbound


def _via_sms(late: bool) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("SMS reply after the survey closed") if late else _("SMS reply")


def _rating_record(survey: SmsSurvey, digit: int, rest: str, at: datetime) -> bool:
    """Record the rating as the order's callback, if the order still waits for this round's callback."""
    order = survey.order
    if order.status != OrderStatus.CALLBACK or order.reopen_count + 1 != survey.round:
        return False
    rating = SmsPolicy.in_force().rating_of_digit(digit)
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
