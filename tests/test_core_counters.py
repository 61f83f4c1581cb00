"""The kernel's day-numbered counter (core.counters): series apart, days apart, gapless under real concurrency."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from django.db import connection, connections, transaction

from core.counters import day_number_format, day_number_next, day_numbers_take
from core.models import DayCounter

DAY = date(2026, 10, 1)


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


def _take(series, day=DAY):
    with transaction.atomic():
        return day_number_next(series=series, day=day)


@pytest.mark.django_db
def test_two_series_do_not_share_numbers():
    assert [_take("a"), _take("b"), _take("a"), _take("b"), _take("a")] == [1, 1, 2, 2, 3]
    assert dict(DayCounter.objects.values_list("series", "last")) == {"a": 3, "b": 2}


@pytest.mark.django_db
def test_a_new_day_starts_again_at_one_and_the_old_day_carries_on():
    assert [_take("a", DAY), _take("a", DAY)] == [1, 2]
    assert _take("a", date(2026, 10, 2)) == 1
    assert _take("a", DAY) == 3


@pytest.mark.django_db
def test_a_block_continues_the_days_and_the_next_single_number_follows_it():
    _take("a", DAY)
    with transaction.atomic():
        first = day_numbers_take(series="a", counts={date(2026, 10, 2): 4, DAY: 3})
    assert first == {DAY: 2, date(2026, 10, 2): 1}
    assert _take("a", DAY) == 5 and _take("a", date(2026, 10, 2)) == 5
    assert _take("b", DAY) == 1


def test_the_printed_number():
    assert day_number_format(prefix="TS", day=DAY, sequence=1) == "TS20261001000001"
    assert day_number_format(prefix="ZC", day=date(2026, 1, 9), sequence=123456) == "ZC20260109123456"


@pytest.mark.django_db
def test_a_rolled_back_transaction_leaves_no_gap():
    assert _take("a") == 1
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            assert day_number_next(series="a", day=DAY) == 2
            raise RuntimeError("the order failed after taking its number")
    assert _take("a") == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_takers_get_distinct_gapless_numbers_and_rolled_back_ones_give_theirs_back():
    """Thirty threads, thirty connections; every third rolls back after taking its number (while the others queue
    on the day's row). The committed numbers are exactly 1..20: none twice, none missing."""
    assert connection.vendor == "postgresql"

    def take(index):
        try:
            with transaction.atomic():
                number = day_number_next(series="order", day=DAY)
                if index % 3 == 0:
                    raise RuntimeError
                return number
        except RuntimeError:
            return None

    numbers = [n for n in _run_concurrently(30, take) if n is not None]
    assert sorted(numbers) == list(range(1, 21))
    assert DayCounter.objects.get(series="order", day=DAY).last == 20


@pytest.mark.django_db(transaction=True)
def test_a_held_day_row_does_not_hold_up_another_series_or_another_day():
    """A taker holds its day's row until its commit; other series and other days are other rows."""
    assert connection.vendor == "postgresql"
    inside, release = threading.Event(), threading.Event()

    def holder():
        try:
            with transaction.atomic():
                number = day_number_next(series="order", day=DAY)
                inside.set()
                assert release.wait(timeout=30)
                return number
        finally:
            connections.close_all()

    def other(series, day):
        try:
            return _take(series, day)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=3) as pool:
        held = pool.submit(holder)
        assert inside.wait(timeout=30)
        try:
            assert pool.submit(other, "support", DAY).result(timeout=10) == 1
            assert pool.submit(other, "order", date(2026, 10, 2)).result(timeout=10) == 1
        finally:
            release.set()
        assert held.result(timeout=30) == 1
