"""One meaning of a callback rating (1–2 dissatisfied, 3 neutral, 4–5 satisfied by default), from the workflow
policy in force when the order was received: the reopen rule, the follow-ups, every KPI and the accountability
scores read the same verdict; the callback form tells the agent what each choice does."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from accountability.scoring import share_sums
from accountability.selectors import attributed_orders
from core.memo import clear_all
from quality.facts import rollups_apply
from quality.kpis import Period, Slice, measure_sums
from quality.models import CallbackSurvey, FollowUp
from quality.selectors import drill_orders, follow_ups_visible_to
from workflow import services as flow
from workflow.models import WorkflowPolicy


@pytest.fixture
def at_callback(hotline_agent, make_order, network_handler, province_dispatcher):
    def _make(order=None):
        order = order or make_order(hotline_agent)
        if order.current_owner_id is None:  # a reopened order is back with the handler who answered it
            order = flow.order_claim(actor=network_handler, order=order)
        order = flow.order_reply(actor=network_handler, order=order, answer="已处理", result_code="resolved")
        return flow.order_review(actor=province_dispatcher, order=order, accept=True)

    return _make


def _today() -> Period:
    today = timezone.localdate()
    return Period(today, today)


def _kpis(period: Period | None = None) -> dict:
    rollups_apply()
    table = measure_sums(period=period or _today(), slice_=Slice(kinds=()))
    return {code: table.kpi(code).value for code in ("satisfaction", "dissatisfaction")}


def _department_sums(department) -> dict:
    rollups_apply()  # the scores read the order facts the rollup task keeps
    today = timezone.localdate()
    return share_sums(period=Period.month(today.year, today.month), department_ids=[department.pk])[department.pk]


def test_a_three_is_neutral_everywhere(at_callback, hotline_agent, quality_manager, network_dept):
    order = flow.order_callback(actor=hotline_agent, order=at_callback(), reached=True, satisfaction=3, solved=True)
    assert order.status == "closed" and order.reopen_count == 0  # not reopened
    assert not follow_ups_visible_to(quality_manager).filter(order=order).exists()  # not in the follow-ups
    assert CallbackSurvey.objects.get(order=order).verdict == "neutral"
    assert _kpis() == {"satisfaction": 0.0, "dissatisfaction": 0.0}  # rated, in neither figure
    assert not drill_orders(user=quality_manager, drills=("dissatisfied",), period=_today(),
                            slice_=Slice(kinds=())).exists()
    sums = _department_sums(network_dept)
    assert (sums["rated"], sums["satisfied"], sums["dissatisfied"]) == (1, 0, 0)


@pytest.mark.parametrize("rating", [1, 2])
def test_one_and_two_are_dissatisfied_everywhere(rating, at_callback, hotline_agent, quality_manager, network_dept,
                                                 network_lead):
    # Solved or not: the rating alone makes the customer dissatisfied.
    order = flow.order_callback(actor=hotline_agent, order=at_callback(), reached=True, satisfaction=rating,
                                solved=True)
    assert order.status != "closed" and order.reopen_count == 1  # reopened
    follow_up = follow_ups_visible_to(quality_manager).get(order=order)  # in the follow-ups
    assert follow_up.reason == FollowUp.Reason.LOW_RATING and follow_up.rating == rating
    assert CallbackSurvey.objects.get(order=order).verdict == "dissatisfied"
    assert _kpis() == {"satisfaction": 0.0, "dissatisfaction": 100.0}
    assert list(drill_orders(user=quality_manager, drills=("dissatisfied",), period=_today(),
                             slice_=Slice(kinds=()))) == [order]
    # Answered again and rated 5: the month's scores count one dissatisfied and one satisfied rating.
    order = flow.order_callback(actor=hotline_agent, order=at_callback(order), reached=True, satisfaction=5,
                                solved=True)
    assert order.status == "closed"
    sums = _department_sums(network_dept)
    assert (sums["rated"], sums["satisfied"], sums["dissatisfied"]) == (2, 1, 1)
    assert list(attributed_orders(user=network_lead, department=network_dept, month=timezone.localdate(),
                                  measure="dissatisfaction")) == [order]


def test_four_and_five_are_satisfied(at_callback, hotline_agent, make_order):
    first = flow.order_callback(actor=hotline_agent, order=at_callback(), reached=True, satisfaction=4, solved=True)
    second = flow.order_callback(actor=hotline_agent, order=at_callback(make_order(hotline_agent)), reached=True,
                                 satisfaction=5, solved=True)
    assert first.status == second.status == "closed"
    assert not FollowUp.objects.exists()
    assert _kpis() == {"satisfaction": 100.0, "dissatisfaction": 0.0}


def test_the_policy_in_force_when_the_order_was_received_judges_it(at_callback, hotline_agent, make_order,
                                                                  quality_manager):
    today = timezone.localdate()
    tomorrow = today + datetime.timedelta(days=1)
    received_today = at_callback()  # under the seeded policy: 1–2 dissatisfied, 3 neutral
    WorkflowPolicy.objects.create(effective_from=tomorrow, dissatisfied_at_or_below=3, satisfied_at_or_above=5)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=1)):
        clear_all()
        received_tomorrow = at_callback(make_order(hotline_agent, customer_phone="13900139000"))
        old = flow.order_callback(actor=hotline_agent, order=received_today, reached=True, satisfaction=3,
                                  solved=True)
        new = flow.order_callback(actor=hotline_agent, order=received_tomorrow, reached=True, satisfaction=3,
                                  solved=True)
    assert old.status == "closed" and CallbackSurvey.objects.get(order=old).verdict == "neutral"
    assert new.reopen_count == 1 and CallbackSurvey.objects.get(order=new).verdict == "dissatisfied"
    assert list(follow_ups_visible_to(quality_manager).values_list("order", flat=True)) == [new.pk]
    assert _kpis(Period(today, tomorrow))["dissatisfaction"] == 50.0


@pytest.mark.django_db
def test_the_policy_refuses_thresholds_that_overlap():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        WorkflowPolicy.objects.create(effective_from=datetime.date(2031, 1, 1), dissatisfied_at_or_below=3,
                                      satisfied_at_or_above=3)


def test_the_callback_form_names_the_scale_and_what_a_low_rating_does(at_callback, login_client, hotline_agent):
    order = at_callback()
    html = login_client(hotline_agent).get(f"/orders/{order.number}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    form = html.split('id="action-callback"')[1].split("</form>")[0]
    labels = ["5 非常满意", "4 满意", "3 一般", "2 不满意", "1 非常不满意"]
    positions = [form.find(label) for label in labels]
    assert -1 not in positions and positions == sorted(positions), positions
    assert "1–2 分：不满意——工单退回答复部门重新处理，客户列入“不满意客户”进行维护" in form
    assert "3 分：一般" in form and "4–5 分：满意" in form
