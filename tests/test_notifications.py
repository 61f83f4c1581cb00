"""Notifications: the inbox row and its e-mail, sent by the outbox step at most once."""

from unittest import mock

import pytest
from django.core import mail
from django.db import transaction

from workflow import notifications, services
from workflow.models import Notification


@pytest.fixture
def assigned(hotline_agent, make_order, network_lead, network_handler):
    network_handler.email = "handler@example.cn"
    network_handler.save()
    order = make_order(hotline_agent, severity="major")
    Notification.objects.all().delete()  # the lead heard of the major order's arrival; these tests are not about it
    services.order_assign(actor=network_lead, order=order, assignee=network_handler)
    return order


def test_the_email_goes_out_once(assigned, network_handler):
    assert notifications.notifications_send_pending() == 1
    message = mail.outbox[0]
    assert message.to == ["handler@example.cn"]
    assert assigned.number in message.subject and f"/orders/{assigned.number}/" in message.body
    assert notifications.notifications_send_pending() == 0
    assert len(mail.outbox) == 1
    assert Notification.objects.get().emailed_at is not None


def test_a_recipient_without_address_keeps_the_inbox_entry_only(hotline_agent, make_order, network_lead,
                                                                network_handler):
    order = make_order(hotline_agent, severity="major")
    Notification.objects.all().delete()  # the lead heard of the major order's arrival; these tests are not about it
    services.order_assign(actor=network_lead, order=order, assignee=network_handler)
    assert notifications.notifications_send_pending() == 0
    assert mail.outbox == []
    notification = Notification.objects.get()
    assert notification.emailed_at is not None and notification.read_at is None


def test_a_failed_send_is_tried_again_later(assigned):
    with mock.patch("workflow.notifications.send_mail", side_effect=OSError("smtp down")):
        assert notifications.notifications_send_pending() == 0
    assert Notification.objects.get().emailed_at is None
    assert notifications.notifications_send_pending() == 1


def test_a_rolled_back_action_leaves_no_notification(hotline_agent, make_order, network_lead, network_handler):
    order = make_order(hotline_agent, severity="major")
    Notification.objects.all().delete()  # the lead heard of the major order's arrival; these tests are not about it
    with pytest.raises(RuntimeError), transaction.atomic():
        services.order_assign(actor=network_lead, order=order, assignee=network_handler)
        raise RuntimeError("something later in the same transaction failed")
    assert not Notification.objects.exists()
    order.refresh_from_db()
    assert order.current_owner is None


def test_the_actor_is_not_notified_of_their_own_action(hotline_agent, make_order, network_lead):
    order = make_order(hotline_agent, severity="major")
    Notification.objects.all().delete()  # the lead heard of the major order's arrival; these tests are not about it
    services.order_assign(actor=network_lead, order=order, assignee=network_lead)
    assert not Notification.objects.exists()


def test_an_email_quoting_the_complaint_carries_no_personal_data(hotline_agent, make_order, network_lead,
                                                                  network_handler):
    """E-mails leave the working screens: the comment and the subject pass the one personal-data check, for
    every recipient (the inbox entry, a working screen, is unchanged)."""
    network_handler.email = "handler@example.cn"
    network_handler.save()
    order = make_order(hotline_agent, severity="major")
    Notification.objects.all().delete()
    typed = "客户张伟先生（身份证440106199001011234）要求回电13912345678，另一号码138 0013 8000，邮箱zw@qq.com"
    notifications.notify(recipients=[network_handler], order=order, kind=Notification.Kind.ESCALATED,
                         actor=network_lead, comment=typed)
    notifications.notify_about(recipients=[network_handler], kind=Notification.Kind.ESCALATED,
                               subject="客户李娜 13912345678 投诉", link="/early-warning/", comment=typed)
    import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    with time_machine.travel(datetime.datetime(2026, 12, 2, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        assert notifications.notifications_send_pending() == 2  # in working hours
    for message in mail.outbox:
        text = message.subject + message.body
        for secret in ("张伟", "440106199001011234", "13912345678", "0013 8000", "zw@qq.com", "李娜"):
            assert secret not in text, (secret, text)
    assert "要求回电" in mail.outbox[0].body
    assert Notification.objects.filter(comment=typed).count() == 2  # the inbox keeps what was written
