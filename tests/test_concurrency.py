"""Real concurrency on PostgreSQL: separate threads, separate connections, one database."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from complaints.models import WorkOrder
from complaints.services import order_create
from tests.factories import channel

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


def test_concurrent_retries_with_one_idempotency_key_create_one_order(channel_system, coverage):
    hotline = channel("hotline")

    def create(index):
        return order_create(actor=channel_system, kind="complaint", channel=hotline, category=coverage,
                            severity="ordinary", description="重试", customer_phone="13900000000",
                            idempotency_key="cti-call-42", fingerprint="same-body").order.pk

    ids = _run_concurrently(8, create)
    assert len(set(ids)) == 1
    assert WorkOrder.objects.count() == 1
