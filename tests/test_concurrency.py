"""Real concurrency on PostgreSQL: separate threads, separate connections, one database."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from complaints.models import WorkOrder
from tests.factories import channel
from workflow.intake import order_create

pytestmark = pytest.mark.django_db(transaction=True)


def _run_concurrently(count, work):
    barrier = threading.Barrier(count)

    def task(index):
        try:
            barrier.wait(timeout=30)
            return work(index)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(task, range(count)))


def test_fifty_concurrent_creates_get_fifty_distinct_consecutive_numbers(hotline_agent, coverage):
    assert connection.vendor == "postgresql"
    hotline = channel("hotline")

    def create(index):
        return order_create(actor=hotline_agent, kind="complaint", channel=hotline, category=coverage,
                            severity="ordinary", description=f"并发 {index}",
                            customer_phone=f"1390000{index:04d}").order.number

    numbers = _run_concurrently(50, create)
    assert len(set(numbers)) == 50
    sequences = sorted(int(number[-6:]) for number in numbers)
    assert sequences == list(range(1, 51))
    assert WorkOrder.objects.count() == 50


def test_a_create_in_the_middle_of_its_workflow_start_does_not_hold_up_another(hotline_agent, coverage, monkeypatch):
    """The day's number is taken as a create's last step: while one create is still starting its workflow
    (dispatch, deadlines, notifications), another completes; the numbers follow the commits, gapless."""
    import workflow.intake as services

    hotline = channel("hotline")
    inside, release = threading.Event(), threading.Event()
    real_start = services._order_flow_start

    def slow_start(*, order):
        real_start(order=order)
        if order.description == "慢":
            inside.set()
            assert release.wait(timeout=30)

    monkeypatch.setattr(services, "_order_flow_start", slow_start)

    def create(description, phone):
        try:
            return order_create(actor=hotline_agent, kind="complaint", channel=hotline, category=coverage,
                                severity="ordinary", description=description, customer_phone=phone).order.number
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        slow = pool.submit(create, "慢", "13900000011")
        assert inside.wait(timeout=30)
        fast = pool.submit(create, "快", "13900000012")
        try:
            fast_number = fast.result(timeout=20)  # before the change it waited for the slow one's commit
        finally:
            release.set()
        slow_number = slow.result(timeout=30)
    assert int(fast_number[-6:]) == 1 and int(slow_number[-6:]) == 2
    assert not WorkOrder.objects.filter(number__startswith=services.PROVISIONAL_PREFIX).exists()


def test_concurrent_retries_with_one_idempotency_key_create_one_order(channel_system, coverage):
    hotline = channel("hotline")

    def create(index):
        return order_create(actor=channel_system, kind="complaint", channel=hotline, category=coverage,
                            severity="ordinary", description="重试", customer_phone="13900000000",
                            idempotency_key="cti-call-42", fingerprint="same-body").order.pk

    ids = _run_concurrently(8, create)
    assert len(set(ids)) == 1
    assert WorkOrder.objects.count() == 1


def test_two_simultaneous_claims_exactly_one_wins(hotline_agent, coverage, network_dept):
    from org import roles
    from tests.factories import UserFactory
    from workflow.services import ActionNotPossible, order_claim

    handlers = [UserFactory(username=f"claimer{i}", department=network_dept, roles=[roles.HANDLER]) for i in range(2)]
    order = order_create(actor=hotline_agent, kind="complaint", channel=channel("hotline"), category=coverage,
                         severity="ordinary", description="抢单", customer_phone="13900000001").order

    def claim(index):
        try:
            return order_claim(actor=handlers[index], order=WorkOrder.objects.get(pk=order.pk)).current_owner_id
        except ActionNotPossible as exc:
            return str(exc)

    results = _run_concurrently(2, claim)
    winners = [r for r in results if isinstance(r, int)]
    losers = [r for r in results if isinstance(r, str)]
    assert len(winners) == 1 and len(losers) == 1
    assert "already claimed" in losers[0]
    order.refresh_from_db()
    assert order.current_owner_id == winners[0]
    assert order.events.filter(action="claimed").count() == 1


def test_two_sweeps_at_once_detect_and_notify_everything_exactly_once(hotline_agent, coverage, network_dept):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from org import roles
    from tests.factories import UserFactory
    from workflow.models import Notification, OrderStage, SlaAlert
    from workflow.sweep import sweep

    UserFactory(username="sweep_lead", department=network_dept, roles=[roles.LEAD])
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for index in range(40):
            order_create(actor=hotline_agent, kind="complaint", channel=channel("hotline"), category=coverage,
                         severity="ordinary", description="超时", customer_phone=f"1390000{index:04d}")
    later = start + timedelta(minutes=20)  # every claim stage is past its warning point and its deadline

    def run(index):
        return sweep(now=later, batch=7)

    reports = _run_concurrently(2, run)
    stages = OrderStage.objects.filter(kind="claim")
    assert stages.filter(warned_at__isnull=False, overdue_at__isnull=False).count() == 40
    assert SlaAlert.objects.filter(kind="warning").count() == 40
    assert SlaAlert.objects.filter(kind="overdue").count() == 40
    assert sum(r.warned for r in reports) == 40 and sum(r.overdue for r in reports) == 40
    assert Notification.objects.filter(kind="overdue").count() == 40  # one lead, one per breach
    assert WorkOrder.objects.filter(escalation_level=1).count() == 40
    assert sweep(now=later).warned == 0
