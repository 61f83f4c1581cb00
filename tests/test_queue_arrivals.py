"""Orders arriving in a queue: a major, VIP / group-customer or escalated order tells the lead at once (e-mail too,
whatever the hour); any other arrival follows the department's setting (nobody, in-app, in-app and e-mail), told
to the people who take from that queue. Every path: automatic dispatch at intake, dispatch, transfer, release,
return to the complaint centre, escalation into the lead's queue. Nobody hears twice of one step."""

from datetime import datetime

import pytest
import time_machine
from django.core import mail

from complaints.models import Tier
from org import roles
from org.models import Department
from tests.factories import UserFactory
from workflow import services
from workflow.calendar import SHANGHAI
from workflow.models import Notification
from workflow.notifications import notifications_send_pending

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
SATURDAY_23 = datetime(2026, 11, 28, 23, 0, tzinfo=SHANGHAI)
QUEUED = Notification.Kind.QUEUED


@pytest.fixture(autouse=True)
def monday():
    with time_machine.travel(MONDAY_10, tick=False) as machine:
        yield machine


@pytest.fixture
def with_email(network_lead, network_handler, network_handler_2, billing_handler, billing_lead):
    for user in (network_lead, network_handler, network_handler_2, billing_handler, billing_lead):
        user.email = f"{user.username}@example.cn"
        user.save(update_fields=["email"])


def arrivals(user) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=QUEUED))


def set_notice(department, value):
    Department.objects.filter(pk=department.pk).update(queue_notice=value)


# --- the lead's queue: at once ---


def test_a_vip_order_dispatched_at_intake_tells_the_lead_at_once(hotline_agent, make_order, network_lead,
                                                                   network_handler, with_email):
    order = make_order(hotline_agent, customer_tier=Tier.GOLD)
    assert order.queue_level == "lead"
    (notice,) = arrivals(network_lead)
    assert notice.order_id == order.pk and notice.delivery == Notification.Delivery.AT_ONCE
    assert arrivals(network_handler) == []  # the lead's queue is the lead's


def test_a_major_order_reaches_the_lead_by_e_mail_even_at_night(hotline_agent, make_order, network_lead,
                                                                  with_email, monday):
    monday.move_to(SATURDAY_23)
    order = make_order(hotline_agent, severity="major")
    notifications_send_pending()
    assert [m.to for m in mail.outbox if order.number in m.subject] == [[network_lead.email]]


def test_an_escalated_order_dispatched_by_the_centre_tells_the_lead(hotline_agent, make_order, province_dispatcher,
                                                                     network_lead, network_dept, network_handler):
    order = make_order(hotline_agent, severity="difficult")  # waits for a dispatcher
    services.order_escalate(actor=hotline_agent, order=order, reason_kind="regulator", reason="工信部投诉")
    services.order_dispatch(actor=province_dispatcher, order=order, department=network_dept)
    (notice,) = arrivals(network_lead)
    assert notice.delivery == Notification.Delivery.AT_ONCE and arrivals(network_handler) == []


def test_an_escalation_into_the_lead_queue_tells_the_lead_once(hotline_agent, make_order, network_lead,
                                                                network_handler):
    order = make_order(hotline_agent)
    assert order.queue_level == "handler"
    Notification.objects.all().delete()
    services.order_escalate(actor=hotline_agent, order=order, reason_kind="regulator", reason="工信部投诉")
    assert Notification.objects.filter(recipient=network_lead).count() == 1  # escalated, not "arrived" as well
    assert Notification.objects.get(recipient=network_lead).kind == Notification.Kind.ESCALATED


def test_an_ordinary_order_escalated_out_of_hours_is_e_mailed_to_the_lead_at_once(
        hotline_agent, make_order, network_lead, network_handler, province_dispatcher, network_dept, with_email,
        monday):
    monday.move_to(SATURDAY_23)
    order = make_order(hotline_agent, severity="difficult")
    services.order_escalate(actor=hotline_agent, order=order, reason_kind="regulator", reason="工信部投诉")
    services.order_dispatch(actor=province_dispatcher, order=order, department=network_dept)
    notifications_send_pending()
    assert [m.to for m in mail.outbox if order.number in m.subject] == [[network_lead.email]]


# --- ordinary arrivals: the department's setting ---


def test_by_default_handlers_hear_in_the_app_only(hotline_agent, make_order, network_handler, network_handler_2,
                                                  network_lead, with_email):
    order = make_order(hotline_agent)
    assert [n.order_id for n in arrivals(network_handler)] == [order.pk]
    assert [n.order_id for n in arrivals(network_handler_2)] == [order.pk]
    assert arrivals(network_lead) == []  # an ordinary order is not the lead's business
    assert notifications_send_pending() == 0 and mail.outbox == []
    assert arrivals(network_handler)[0].delivery == Notification.Delivery.IN_APP


def test_a_department_may_ask_for_e_mails(hotline_agent, make_order, network_dept, network_handler,
                                          network_handler_2, network_lead, with_email):
    set_notice(network_dept, Department.QueueNotice.EMAIL)
    order = make_order(hotline_agent)
    notifications_send_pending()
    assert sorted(m.to[0] for m in mail.outbox if order.number in m.subject) == sorted([
        network_handler.email, network_handler_2.email])


def test_a_department_may_ask_for_no_notification(hotline_agent, make_order, network_dept, network_handler,
                                                  network_lead):
    set_notice(network_dept, Department.QueueNotice.NONE)
    make_order(hotline_agent)
    assert Notification.objects.filter(kind=QUEUED).count() == 0
    vip = make_order(hotline_agent, customer_tier=Tier.GOLD, customer_phone="13900000001")
    assert [n.order_id for n in arrivals(network_lead)] == [vip.pk]  # the lead still hears of a VIP at once


def test_a_dispatch_tells_the_department_handlers(hotline_agent, make_order, province_dispatcher, network_dept,
                                                  network_handler, network_lead):
    order = make_order(hotline_agent, severity="difficult")
    services.order_dispatch(actor=province_dispatcher, order=order, department=network_dept, comment="请核查基站")
    (notice,) = arrivals(network_handler)
    assert notice.comment == "请核查基站" and notice.actor_name == str(province_dispatcher)
    assert arrivals(network_lead) == []


def test_a_transfer_tells_the_new_department_not_the_one_passing_it_on(hotline_agent, make_order, network_handler,
                                                                        billing_dept, billing_handler, billing_lead):
    order = services.order_claim(actor=network_handler, order=make_order(hotline_agent))
    Notification.objects.all().delete()
    services.order_transfer(actor=network_handler, order=order, department=billing_dept, reason="实为计费问题")
    assert [n.comment for n in arrivals(billing_handler)] == ["实为计费问题"]
    assert Notification.objects.filter(recipient=network_handler).count() == 0
    assert arrivals(billing_lead) == []


def test_a_vip_transfer_tells_the_new_department_lead(hotline_agent, make_order, network_lead, billing_dept,
                                                      billing_lead, billing_handler):
    order = make_order(hotline_agent, customer_tier=Tier.GOLD)
    order = services.order_claim(actor=network_lead, order=order)
    services.order_transfer(actor=network_lead, order=order, department=billing_dept, reason="实为计费问题")
    (notice,) = arrivals(billing_lead)
    assert notice.delivery == Notification.Delivery.AT_ONCE and arrivals(billing_handler) == []


def test_a_release_tells_the_other_handlers(hotline_agent, make_order, network_handler, network_handler_2):
    order = services.order_claim(actor=network_handler, order=make_order(hotline_agent))
    Notification.objects.all().delete()
    services.order_release(actor=network_handler, order=order, comment="今天休假")
    assert [n.order_id for n in arrivals(network_handler_2)] == [order.pk]
    assert arrivals(network_handler) == []


def test_a_return_tells_the_centre_once(hotline_agent, make_order, province_dispatcher, network_dept,
                                        network_handler):
    other_dispatcher = UserFactory(username="dispatcher2", department=province_dispatcher.department,
                                   roles=[roles.DISPATCHER])
    order = make_order(hotline_agent, severity="difficult")
    services.order_dispatch(actor=province_dispatcher, order=order, department=network_dept)
    order = services.order_claim(actor=network_handler, order=order)
    Notification.objects.all().delete()
    services.order_return(actor=network_handler, order=order, reason_kind="wrong_department", reason="不是网络问题")
    mine = Notification.objects.filter(recipient=province_dispatcher)
    assert [n.kind for n in mine] == [Notification.Kind.RETURNED]  # told once, not also "arrived"
    assert [n.order_id for n in arrivals(other_dispatcher)] == [order.pk]


def test_a_vip_return_tells_the_centre_lead_at_once(hotline_agent, make_order, province_dispatcher, network_lead,
                                                    centre_lead):
    order = make_order(hotline_agent, customer_tier=Tier.GOLD)
    order = services.order_claim(actor=network_lead, order=order)
    services.order_return(actor=network_lead, order=order, reason_kind="information_missing", reason="缺少地址")
    (notice,) = arrivals(centre_lead)
    assert notice.delivery == Notification.Delivery.AT_ONCE


def test_the_setting_is_edited_in_admin(admin_client, network_dept):
    page = admin_client.get(f"/admin/org/department/{network_dept.pk}/change/").content.decode()
    assert 'name="queue_notice"' in page
    assert Department._meta.get_field("queue_notice").default == Department.QueueNotice.IN_APP
