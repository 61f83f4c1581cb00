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
