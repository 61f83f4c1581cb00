"""The customer's promise is one clock of its own (issue 17, first slice): set at receipt, moved only by an
approved extension, by time waiting for the customer and by a reopen after the callback (a new promise, recorded
as such). A transfer, a return, an incident's wait or an assignment never move it; the departments' own stages
restart with each holder as before. Frozen time; the reference policy answers an ordinary complaint within 24
clock hours."""

from datetime import datetime, timedelta

import pytest
import time_machine

from workflow import services
from workflow.calendar import SHANGHAI
from workflow.models import Notification, OrderEvent, OrderStage, PromiseCause, SlaAlert, Stage, StageOutcome
from workflow.selectors import order_promises
from workflow.sweep import sweep

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
PROMISED = MONDAY_10 + timedelta(hours=24)


@pytest.fixture
def traveller():
    with time_machine.travel(MONDAY_10, tick=False) as machine:
        yield machine


def promise_of(order) -> OrderStage:
    return OrderStage.objects.get(order=order, kind=Stage.PROMISE, ended_at__isnull=True)


def test_the_promise_is_made_at_receipt_and_passing_the_order_on_never_moves_it(
        traveller, hotline_agent, make_order, network_handler, billing_dept, province_dispatcher):
    order = make_order(hotline_agent)
    promise = promise_of(order)
    assert (promise.started_at, promise.due_at, promise.cause) == (MONDAY_10, PROMISED, PromiseCause.RECEIPT)
    assert order.promised_at == PROMISED
    services.order_claim(actor=network_handler, order=order)

    traveller.shift(timedelta(hours=2))
    services.order_transfer(actor=network_handler, order=order, department=billing_dept, reason="计费问题")
    order.refresh_from_db()
    assert order.promised_at == PROMISED
    billing = OrderStage.objects.get(order=order, kind=Stage.HANDLE, ended_at__isnull=True)
    assert billing.department == billing_dept and billing.due_at == MONDAY_10 + timedelta(hours=2 + 24)

    order.refresh_from_db()
    assert promise_of(order).due_at == PROMISED and order.promised_at == PROMISED
    assert order_promises(order=order, stages=list(order.stages.order_by("started_at", "id")))[0].at == PROMISED


def test_a_return_and_a_new_dispatch_keep_the_promise(traveller, hotline_agent, make_order, network_handler,
                                                       province_dispatcher, billing_dept):
    order = services.order_claim(actor=network_handler, order=make_order(hotline_agent))
    traveller.shift(timedelta(hours=4))
    services.order_return(actor=network_handler, order=order, reason_kind="wrong_department", reason="非本部门")
    services.order_dispatch(actor=province_dispatcher, order=order, department=billing_dept, comment="计费")
    order.refresh_from_db()
    assert order.promised_at == PROMISED and promise_of(order).due_at == PROMISED
    assert order.stage_due_at == MONDAY_10 + timedelta(hours=4, minutes=15)  # billing's claim clock runs


def test_waiting_for_the_customer_moves_the_promise_and_an_incident_does_not(traveller, hotline_agent, make_order,
                                                                               network_handler):
    order = services.order_claim(actor=network_handler, order=make_order(hotline_agent))
    traveller.shift(timedelta(hours=3))
    services.order_wait(actor=network_handler, order=order, until=MONDAY_10 + timedelta(days=1), comment="等客户资料")
    assert OrderStage.objects.get(order=order, kind=Stage.PROMISE).paused_at == MONDAY_10 + timedelta(hours=3)
    traveller.shift(timedelta(hours=1))
    services.order_resume(actor=network_handler, order=order)
    order.refresh_from_db()
    promise = promise_of(order)
    assert promise.due_at == order.promised_at == PROMISED + timedelta(hours=1)
    assert promise.original_due_at == PROMISED
    labels = [p.label for p in order_promises(order=order, stages=list(order.stages.order_by("started_at", "id")))]
    assert labels == ["original promise", "moved on by the time waiting for the customer"]


def test_an_approved_extension_moves_the_promise_and_keeps_the_original(traveller, hotline_agent, make_order,
                                                                         network_handler, province_dispatcher):
    order = services.order_claim(actor=network_handler, order=make_order(hotline_agent))
    until = MONDAY_10 + timedelta(hours=48)
    services.order_extension_request(actor=network_handler, order=order, until=until, reason="需协调厂家")
    services.order_extension_decide(actor=province_dispatcher, order=order, approve=True)
    order.refresh_from_db()
    promise = promise_of(order)
    assert (promise.due_at, promise.original_due_at, promise.extended) == (until, PROMISED, True)
    assert order.promised_at == until


def test_the_reply_keeps_the_promise_and_a_reopen_makes_a_new_one(traveller, hotline_agent, make_order,
                                                                   network_handler, province_dispatcher):
    order = services.order_claim(actor=network_handler, order=make_order(hotline_agent))
    traveller.shift(timedelta(hours=5))
    services.order_reply(actor=network_handler, order=order, answer="已修复基站", result_code="resolved")
    first = OrderStage.objects.get(order=order, kind=Stage.PROMISE)
    assert (first.ended_at, first.outcome) == (MONDAY_10 + timedelta(hours=5), StageOutcome.IN_TIME)
    order.refresh_from_db()
    if order.status == "review":
        services.order_review(actor=province_dispatcher, order=order, accept=True)
    traveller.shift(timedelta(hours=2))
    services.order_callback(actor=province_dispatcher, order=order, reached=True, satisfaction=1, solved=False,
                            comment="仍无信号")
    order.refresh_from_db()
    renewed = promise_of(order)
    assert renewed.cause == PromiseCause.REOPEN
    assert renewed.started_at == MONDAY_10 + timedelta(hours=7)
    assert order.promised_at == renewed.due_at == MONDAY_10 + timedelta(hours=7 + 24)
    reopened = OrderEvent.objects.get(order=order, action=OrderEvent.Action.REOPENED)
    assert reopened.data["promised_at"] == renewed.due_at.isoformat()
    labels = [p.label for p in order_promises(order=order, stages=list(order.stages.order_by("started_at", "id")))]
    assert labels == ["original promise", "new promise (reopened)"]


def test_at_80_percent_of_the_promise_the_holder_and_the_centre_are_warned(
        traveller, hotline_agent, make_order, network_handler, billing_dept, billing_handler, province_dispatcher):
    order = services.order_claim(actor=network_handler, order=make_order(hotline_agent))
    traveller.shift(timedelta(hours=10))
    services.order_transfer(actor=network_handler, order=order, department=billing_dept, reason="计费问题")
    services.order_claim(actor=billing_handler, order=order)
    traveller.shift(timedelta(hours=10))  # 20 h: 80 % of the promise; billing's own clock has run 10 h of 24
    sweep()
    alert = SlaAlert.objects.get(order=order, kind=SlaAlert.Kind.WARNING)
    assert alert.stage.kind == Stage.PROMISE and alert.happened_at == MONDAY_10 + timedelta(hours=24 * 0.8)
    warned = set(Notification.objects.filter(order=order, kind=Notification.Kind.DEADLINE_NEAR)
                 .values_list("recipient__username", flat=True))
    assert warned == {billing_handler.username, province_dispatcher.username}
    traveller.shift(timedelta(hours=5))  # past the promise: told, but the escalation ladder is the steps' own
    sweep()
    order.refresh_from_db()
    assert SlaAlert.objects.get(order=order, kind=SlaAlert.Kind.OVERDUE).stage.kind == Stage.PROMISE
    assert order.escalation_level == 0


def test_the_promises_of_an_incidents_orders_are_told_once_per_incident_while_unread(
        traveller, hotline_agent, make_order, network_dept, network_lead, province_dispatcher, guangzhou, coverage):
    """Orders waiting in one incident (a base station down) run past their promises together: the holder and the
    centre get one notice per incident while it is unread, not one per customer."""
    from quality import batch

    batch.incident_open(actor=province_dispatcher, alert=None, title="天河基站故障", department=network_dept,
                        category=coverage, region=guangzhou, started_at=MONDAY_10 - timedelta(hours=1),
                        expected_recovery_at=MONDAY_10 + timedelta(days=3))
    orders = [make_order(hotline_agent, customer_phone=f"1370000000{i}") for i in range(3)]
    assert all(order.status == "in_incident" for order in orders)
    traveller.shift(timedelta(hours=20))  # 80 % of every promise: the incident pauses the steps, not the promise
    sweep()
    assert SlaAlert.objects.filter(order__in=orders, kind=SlaAlert.Kind.WARNING).count() == 3
    for user in (network_lead, province_dispatcher):
        assert Notification.objects.filter(recipient=user, kind=Notification.Kind.DEADLINE_NEAR).count() == 1
    Notification.objects.filter(recipient=network_lead).update(read_at=MONDAY_10 + timedelta(hours=20))
    traveller.shift(timedelta(hours=5))  # past the promises: told once more (the lead read the warning)
    sweep()
    assert Notification.objects.filter(recipient=network_lead, kind=Notification.Kind.OVERDUE).count() == 1
    assert Notification.objects.filter(recipient=province_dispatcher).count() == 2
