"""A stage that ends because the order is passed on (transfer, return, reassignment) ends with its true outcome:
late when its clock had run past the deadline, whatever step comes next. Time is frozen; the clock of a stage
that is paused (waiting for the customer) stopped when the pause began."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from accountability.scoring import share_sums
from quality.facts import fact_queryset, rollups_apply
from quality.kpis import Period
from workflow import services
from workflow.calendar import SHANGHAI
from workflow.models import OrderStage, Stage, StageOutcome

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def traveller():
    with time_machine.travel(MONDAY_10, tick=False) as machine:
        yield machine


def network_stage(order, kind=Stage.HANDLE) -> OrderStage:
    return OrderStage.objects.filter(order=order, kind=kind).order_by("started_at", "id").first()


def close_from_billing(traveller, order, *, billing_handler, province_dispatcher, hotline_agent):
    """The department it was passed to answers promptly; the order closes satisfied."""
    traveller.shift(timedelta(minutes=5))
    order = services.order_claim(actor=billing_handler, order=order)
    traveller.shift(timedelta(hours=1))
    order = services.order_reply(actor=billing_handler, order=order, answer="已处理", result_code="resolved")
    traveller.shift(timedelta(minutes=30))
    order = services.order_review(actor=province_dispatcher, order=order, accept=True)
    traveller.shift(timedelta(hours=1))
    return services.order_callback(actor=hotline_agent, order=order, reached=True, satisfaction=5, solved=True)


def facts(order) -> dict:
    return fact_queryset([order.pk]).get()


@pytest.fixture
def claimed(traveller, hotline_agent, make_order, network_handler):
    order = make_order(hotline_agent)
    traveller.shift(timedelta(minutes=5))
    return services.order_claim(actor=network_handler, order=order)


def test_a_transfer_within_the_limit_ends_the_stage_in_time(traveller, claimed, network_handler, billing_dept):
    traveller.shift(timedelta(hours=3))
    services.order_transfer(actor=network_handler, order=claimed, department=billing_dept, reason="计费问题")
    handle = network_stage(claimed)
    assert handle.ended_at == MONDAY_10 + timedelta(hours=3, minutes=5)
    assert handle.outcome == StageOutcome.IN_TIME and handle.met


def test_a_transfer_past_the_deadline_ends_the_stage_late_and_the_kpis_count_it(
        traveller, claimed, network_handler, billing_dept, billing_handler, province_dispatcher, hotline_agent):
    traveller.shift(timedelta(hours=25))
    services.order_transfer(actor=network_handler, order=claimed, department=billing_dept, reason="计费问题")
    handle = network_stage(claimed)
    assert handle.outcome == StageOutcome.LATE and handle.met is False
    transferred = claimed.events.get(action="transferred")
    assert transferred.data["stage_outcome"] == "late"  # the audit record says it was passed on late
    assert handle.department == network_handler.department  # the department that passed it on
    order = close_from_billing(traveller, claimed, billing_handler=billing_handler,
                               province_dispatcher=province_dispatcher, hotline_agent=hotline_agent)
    assert order.status == "closed"
    row = facts(order)
    assert (row["f_in_time"], row["f_breached"]) == (0, 1)


def test_a_transfer_while_waiting_is_judged_by_the_clock_that_stopped(
        traveller, claimed, network_handler, network_lead, billing_dept, billing_handler, province_dispatcher,
        hotline_agent):
    traveller.shift(timedelta(hours=10))
    services.order_wait(actor=network_handler, order=claimed, until=MONDAY_10 + timedelta(days=3), comment="等资料")
    traveller.shift(timedelta(hours=20))  # 30 h after receipt, but the clock stopped at 10 h
    services.order_transfer(actor=network_lead, order=claimed, department=billing_dept, reason="其实是计费问题")
    handle = network_stage(claimed)
    assert handle.outcome == StageOutcome.IN_TIME and handle.met
    pause = handle.pauses.get()
    assert pause.ended_at == MONDAY_10 + timedelta(hours=30, minutes=5)  # no pause is left open
    claimed.refresh_from_db()
    assert claimed.waiting_until is None and claimed.status == "queued"
    order = close_from_billing(traveller, claimed, billing_handler=billing_handler,
                               province_dispatcher=province_dispatcher, hotline_agent=hotline_agent)
    row = facts(order)
    assert (row["f_in_time"], row["f_breached"]) == (1, 0)


def test_a_transfer_while_waiting_after_the_deadline_is_late(traveller, claimed, network_handler, network_lead,
                                                             billing_dept):
    traveller.shift(timedelta(hours=25))
    services.order_wait(actor=network_handler, order=claimed, until=MONDAY_10 + timedelta(days=3), comment="等资料")
    traveller.shift(timedelta(hours=5))
    services.order_transfer(actor=network_lead, order=claimed, department=billing_dept, reason="计费问题")
    assert network_stage(claimed).outcome == StageOutcome.LATE


def test_a_return_within_the_limit_ends_the_stage_in_time(traveller, claimed, network_handler):
    traveller.shift(timedelta(hours=2))
    services.order_return(actor=network_handler, order=claimed, reason_kind="information_missing", reason="缺资料")
    assert network_stage(claimed).outcome == StageOutcome.IN_TIME
    assert claimed.events.get(action="returned").data["stage_outcome"] == "in_time"


def test_a_return_as_the_wrong_department_within_the_limit_ends_the_stage_misrouted(traveller, claimed,
                                                                                  network_handler):
    traveller.shift(timedelta(hours=2))
    services.order_return(actor=network_handler, order=claimed, reason_kind="wrong_department", reason="不是网络问题")
    handle = network_stage(claimed)
    assert handle.outcome == StageOutcome.MISROUTED and handle.met is None  # not the department's to meet
    assert claimed.events.get(action="returned").data["stage_outcome"] == "misrouted"


def test_a_return_past_the_deadline_ends_the_stage_late(traveller, claimed, network_handler):
    traveller.shift(timedelta(hours=24, minutes=1))
    services.order_return(actor=network_handler, order=claimed, reason_kind="wrong_department", reason="不是网络问题")
    handle = network_stage(claimed)
    assert handle.outcome == StageOutcome.LATE and not handle.met  # past its own limit: still its lateness


def test_a_return_while_waiting_is_judged_by_the_clock_that_stopped(traveller, claimed, network_handler,
                                                                    network_lead):
    traveller.shift(timedelta(hours=1))
    services.order_wait(actor=network_handler, order=claimed, until=MONDAY_10 + timedelta(days=3), comment="等资料")
    traveller.shift(timedelta(hours=40))
    services.order_return(actor=network_lead, order=claimed, reason_kind="information_missing", reason="缺资料")
    assert network_stage(claimed).outcome == StageOutcome.IN_TIME


def test_a_reassignment_after_the_claim_limit_ends_the_claim_stage_late(traveller, hotline_agent, make_order,
                                                                        network_lead, network_handler):
    order = make_order(hotline_agent)
    traveller.shift(timedelta(minutes=20))  # claim within 15 minutes
    services.order_assign(actor=network_lead, order=order, assignee=network_handler)
    claim = network_stage(order, Stage.CLAIM)
    assert claim.outcome == StageOutcome.LATE
    assert network_stage(order).outcome == ""  # handling runs on


def test_a_stage_still_running_has_no_outcome(traveller, claimed):
    handle = network_stage(claimed)
    assert handle.outcome == "" and handle.met is None


def test_the_accountability_scores_see_a_late_transfer(traveller, claimed, network_handler, network_dept,
                                                       billing_dept, billing_handler, province_dispatcher,
                                                       hotline_agent):
    traveller.shift(timedelta(hours=25))
    services.order_transfer(actor=network_handler, order=claimed, department=billing_dept, reason="计费问题")
    order = close_from_billing(traveller, claimed, billing_handler=billing_handler,
                               province_dispatcher=province_dispatcher, hotline_agent=hotline_agent)
    rollups_apply()
    day = timezone.localdate(order.closed_at)
    sums = share_sums(period=Period(day, day))
    answering = order.determination.shares.get().department_id
    assert sums[answering]["timed"] == 1 and sums[answering]["in_time"] == 0 and sums[answering]["breached"] == 1
