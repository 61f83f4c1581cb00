"""In-app notifications and the e-mails that mirror them.

The Notification row is both the inbox entry and the outbox entry: it is written in the same transaction as the
state change. After commit a Celery task is asked to send it; if the broker is down, the periodic flush sends it
later. Sending claims rows with SELECT … FOR UPDATE SKIP LOCKED, so two workers never take the same row.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from complaints.redaction import redact
from org import roles
from org.models import User
from workflow.calendars import work_calendar
from workflow.models import Notification
from workflow.policy import workflow_policy

log = logging.getLogger(__name__)
# A claim older than this belongs to a sender that died mid-way; the row is offered again.
STALE_CLAIM = timedelta(minutes=15)


def notify(*, recipients, order, kind: str, actor=None, comment: str = "",
           delivery: str = Notification.Delivery.STANDARD) -> list[Notification]:
    unique = {user.pk: user for user in recipients if user is not None and user.is_active}
    return notify_rows([
        Notification(recipient=user, order=order, kind=kind, actor_name=(str(actor) if actor else _("system"))[:64],
                     comment=(comment or "")[:2000], delivery=delivery)
        for user in unique.values()
    ])


def notify_rows(rows: list[Notification]) -> list[Notification]:
    """Write inbox rows in the caller's transaction; their e-mails are asked for once it commits."""
    if not rows:
        return []
    rows = Notification.objects.bulk_create(rows)
    if not any(callback is _request_sending for _sids, callback, *_rest in connection.run_on_commit):
        transaction.on_commit(_request_sending)  # once per transaction, however many notifications it made
    return rows


def _request_sending() -> None:
    from workflow.tasks import notifications_send  # local: workflow.tasks imports this module

    try:
        notifications_send.apply_async(retry=False)
    except Exception:  # the broker is down: the periodic flush will send it
        log.warning("Could not queue notification e-mails; the periodic flush will send them.", exc_info=True)


def _quiet_now(now) -> bool:
    """Outside working hours (default calendar) e-mails about ordinary orders wait for the morning."""
    if not workflow_policy().quiet_outside_working_hours:
        return False
    calendar, _id = work_calendar(None)
    return calendar.next_working_moment(now) > now


# Urgent: about a major or a VIP / group customer's order, or sent at once on purpose (other notifications wait
# for working hours).
URGENT = (Q(order__isnull=False) & (Q(order__severity="major") | ~Q(order__customer__tier="ordinary"))
          | Q(delivery=Notification.Delivery.AT_ONCE))


def _claim(limit: int) -> list[int]:
    now = timezone.now()
    with transaction.atomic():
        pending = Notification.objects.select_for_update(skip_locked=True, of=("self",))
        if _quiet_now(now):
            pending = pending.filter(URGENT)
        ids = list(
            pending
            .filter(emailed_at__isnull=True)
            .exclude(delivery=Notification.Delivery.IN_APP)
            .filter(Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - STALE_CLAIM))
            .order_by("created_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        Notification.objects.filter(pk__in=ids).update(email_claimed_at=now)
    return ids


def notifications_send_pending(*, limit: int = 200) -> int:
    """Send the e-mails of unsent notifications. Returns how many e-mails went out."""
    sent = 0
    for notification in Notification.objects.filter(pk__in=_claim(limit)).select_related("recipient", "order"):
        address = notification.recipient.email
        if address:
            try:
                _send(notification, address)
            except Exception:
                log.exception("Sending notification %s failed; it will be retried.", notification.pk)
                Notification.objects.filter(pk=notification.pk).update(email_claimed_at=None)
                continue
            sent += 1
        Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())
    return sent


def _send(notification: Notification, address: str) -> None:
    order = notification.order
    # An e-mail leaves the working screens (a mailbox, a forward, a phone's lock screen): its free text passes the
    # one personal-data check for every recipient — names, numbers, ID numbers typed into a reason are taken out.
    # The inbox entry keeps the text as written; the link leads to the order's page, where the phone rule applies.
    comment = redact(notification.comment, order=order)
    if order is None:
        subject_text = redact(notification.subject)
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("[Complaint platform] %(subject)s") % {"subject": subject_text}
            lines = [subject_text, comment, settings.SITE_URL.rstrip("/") + notification.link]
        send_mail(subject, "\n\n".join(line for line in lines if line), settings.DEFAULT_FROM_EMAIL, [address])
        return
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("[Complaint platform] %(number)s: %(kind)s") % {
            "number": order.number, "kind": notification.get_kind_display()}
        lines = [
            _("Order %(number)s (%(category)s): %(kind)s by %(actor)s.") % {
                "number": order.number, "category": order.category.name, "kind": notification.get_kind_display(),
                "actor": notification.actor_name},
        ]
        if comment:
            lines.append(comment)
        lines.append(settings.SITE_URL.rstrip("/") + reverse("complaints:order_detail", args=[order.number]))
    send_mail(subject, "\n\n".join(lines), settings.DEFAULT_FROM_EMAIL, [address])


def notify_about(*, recipients, kind: str, subject: str, link: str, actor=None, comment: str = "") -> list[Notification]:
    """Inbox rows (and e-mails) about something that is not a work order: the subject names it, the link opens it."""
    unique = {user.pk: user for user in recipients if user is not None and user.is_active}
    return notify_rows([
        Notification(recipient=user, order=None, subject=subject[:200], link=link, kind=kind,
                     actor_name=(str(actor) if actor else _("system"))[:64], comment=(comment or "")[:2000])
        for user in unique.values()
    ])


def leads_notify(*, department, kind: str, subject: str, link: str, actor=None, comment: str = "") -> None:
    """A department's leads, about something that is not a work order (notices, improvement orders, determinations
    to appeal, incident decisions)."""
    leads = User.objects.filter(department=department, is_active=True, groups__name=roles.LEAD)
    notify_about(recipients=list(leads), kind=kind, subject=subject, link=link, actor=actor, comment=comment)
