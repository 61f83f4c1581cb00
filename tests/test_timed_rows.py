"""The sweep step every clock shares (core.timed.sweep_due), on real PostgreSQL with real commits: two sweeps at once
take different rows, the stamp is the moment the point really passed, and the notify step writes its inbox rows in
the stamp's transaction (a stamp never commits without its notices, nor a notice without its stamp)."""

import datetime
import threading

import pytest
from django.db import connections, transaction
from django.utils import timezone

from accountability.models import MonthlyNotice
from core.timed import OVERDUE, WARNING, sweep_due
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db(transaction=True)

NOON = timezone.make_aware(datetime.datetime(2026, 12, 2, 12, 0))


@pytest.fixture
def notices(province):
    """Four sent notices of four departments, warned an hour apart (the first at 08:00), each due an hour after."""
    rows = []
    for index in range(4):
        warn = NOON - datetime.timedelta(hours=4 - index)
        rows.append(MonthlyNotice.objects.create(
            department=DepartmentFactory(region=province), month=datetime.date(2026, 11, 1),
            warn_at=warn, due_at=warn + datetime.timedelta(hours=1)))
    return rows


def sent():
    return MonthlyNotice.objects.filter(status=MonthlyNotice.Status.SENT)


def in_thread(work):
    """Run `work` on a connection of its own; its result (or the exception it raised)."""
    result = {}

    def run():
        try:
            result["value"] = work()
        except Exception as error:  # handed to the caller
            result["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def test_two_sweeps_at_once_take_different_rows(notices):
    first_claimed, release = threading.Event(), threading.Event()

    def hold(rows):  # the first sweep keeps its claim open while the second one runs
        first_claimed.set()
        assert release.wait(timeout=20)

    thread, first = in_thread(lambda: sweep_due(sent(), WARNING, now=NOON, limit=2, record=hold))
    try:
        assert first_claimed.wait(timeout=20)
        second = sweep_due(sent(), WARNING, now=NOON, limit=2)
    finally:
        release.set()
        thread.join()
    assert "error" not in first
    first_ids, second_ids = {r.pk for r in first["value"]}, {r.pk for r in second}
    assert first_ids == {notices[0].pk, notices[1].pk}  # the earliest, for the first
    assert second_ids == {notices[2].pk, notices[3].pk}  # not waiting for them: the next ones
    assert sent().filter(warned_at__isnull=True).count() == 0
    assert sweep_due(sent(), WARNING, now=NOON, limit=10) == []  # stamped once, never claimed again


def test_the_stamp_is_the_moment_the_point_passed_not_the_sweep(notices):
    later = NOON + datetime.timedelta(days=2)  # the sweep was down for two days
    swept = sweep_due(sent(), OVERDUE, now=later, limit=10)
    assert len(swept) == 4
    for notice in notices:
        notice.refresh_from_db()
        assert notice.overdue_at == notice.due_at != later
        assert notice.warned_at is None  # each point is stamped on its own
    assert {r.pk: r.overdue_at for r in swept} == {n.pk: n.due_at for n in notices}


def test_only_rows_past_their_point_are_claimed(notices):
    swept = sweep_due(sent(), WARNING, now=notices[1].warn_at, limit=10)
    assert [r.pk for r in swept] == [notices[0].pk, notices[1].pk]


def test_notify_runs_in_the_stamps_transaction(notices):
    seen = {}

    def notify(rows):
        # Another connection does not see the stamps yet: they commit together with the notices.
        thread, other = in_thread(lambda: sent().filter(warned_at__isnull=False).count())
        thread.join()
        seen["committed"] = other.get("value")
        seen["rows"] = [r.pk for r in rows]

    sweep_due(sent(), WARNING, now=NOON, limit=10, notify=notify)
    assert seen == {"committed": 0, "rows": [n.pk for n in notices]}
    assert sent().filter(warned_at__isnull=False).count() == 4


def test_a_failing_notify_leaves_the_rows_unstamped_for_the_next_sweep(notices):
    def notify(rows):
        raise RuntimeError("the inbox could not be written")

    with pytest.raises(RuntimeError):
        sweep_due(sent(), WARNING, now=NOON, limit=10, notify=notify)
    assert sent().filter(warned_at__isnull=False).count() == 0
    told = []
    sweep_due(sent(), WARNING, now=NOON, limit=10, notify=told.append)
    assert [r.pk for r in told[0]] == [n.pk for n in notices]


def test_notify_does_not_run_when_the_claim_rolls_back(notices):
    told = []

    def record(rows):
        raise RuntimeError("the record step failed")

    with pytest.raises(RuntimeError):
        sweep_due(sent(), WARNING, now=NOON, limit=10, record=record, notify=told.append)
    assert told == []
    assert sent().filter(warned_at__isnull=False).count() == 0  # nothing stamped: the next sweep takes them


def test_a_record_step_may_act_on_some_rows_only(notices):
    told = []
    swept = sweep_due(sent(), WARNING, now=NOON, limit=10, record=lambda rows: rows[:1], notify=told.append)
    assert [r.pk for r in swept] == [notices[0].pk] and told == [swept]
    assert list(sent().filter(warned_at__isnull=False).values_list("pk", flat=True)) == [notices[0].pk]


def test_nothing_due_claims_nothing_and_tells_nobody(notices):
    told = []
    assert sweep_due(sent(), WARNING, now=NOON - datetime.timedelta(days=1), limit=10, notify=told.append) == []
    assert told == []


def test_inside_a_callers_transaction_the_step_is_a_savepoint_of_it(notices):
    told = []
    with transaction.atomic():
        sweep_due(sent(), WARNING, now=NOON, limit=10, notify=told.append)
        assert len(told) == 1
