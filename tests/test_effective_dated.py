"""Effective-dated rules (core.effective): the version in force on a day, read through the memo, and every rule read
as of the day the record it judges began — a version added after the record began does not change how it is
judged."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from accountability import services as accountability
from accountability.models import AccountabilityPolicy, ImprovementOrder, Indicator
from complaints.models import OrderStatus
from core.memo import clear_all
from knowledge.models import Article
from quality.models import FollowUp, QualityPolicy, RollupCategory
from workflow import services as flow
from workflow.calendars import work_calendar
from workflow.models import LimitUnit, WorkflowPolicy

SH = ZoneInfo("Asia/Shanghai")
TUESDAY = datetime.date(2026, 12, 1)
WEDNESDAY = datetime.date(2026, 12, 2)
THURSDAY = datetime.date(2026, 12, 3)


def at(day: datetime.date, hour=10):
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=SH)


def working_days_after(moment, days):
    calendar, _id = work_calendar(None)
    return calendar.add_limit(moment, days, LimitUnit.WORKING_DAYS).at


# --- the base ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_policy_in_force_is_the_latest_effective_version_or_the_defaults():
    assert QualityPolicy.in_force(on=TUESDAY).pk is None  # none saved: the fields' defaults
    assert QualityPolicy.in_force(on=TUESDAY).follow_up_working_days == 2
    older = QualityPolicy.objects.create(effective_from=datetime.date(2026, 1, 1), follow_up_working_days=3)
    newer = QualityPolicy.objects.create(effective_from=WEDNESDAY, follow_up_working_days=4)
    clear_all()
    assert QualityPolicy.in_force(on=TUESDAY) == older
    assert QualityPolicy.in_force(on=WEDNESDAY) == newer
    assert QualityPolicy.in_force(on=datetime.date(2025, 12, 31)).pk is None


@pytest.mark.django_db
def test_a_policy_in_force_is_read_once_per_day_through_the_memo(django_assert_num_queries):
    QualityPolicy.objects.create(effective_from=TUESDAY, follow_up_working_days=3)
    with django_assert_num_queries(1):
        QualityPolicy.in_force(on=WEDNESDAY)
        QualityPolicy.in_force(on=WEDNESDAY)
    QualityPolicy.objects.create(effective_from=WEDNESDAY, follow_up_working_days=5)
    assert QualityPolicy.in_force(on=WEDNESDAY).follow_up_working_days == 3  # remembered for a while
    clear_all()
    assert QualityPolicy.in_force(on=WEDNESDAY).follow_up_working_days == 5


@pytest.mark.django_db
def test_rows_in_force_end_on_their_end_day_where_the_model_has_one():
    lasting = Article.objects.create(title="携号转网", effective_from=TUESDAY)
    ending = Article.objects.create(title="双十二活动", effective_from=TUESDAY, expires_on=WEDNESDAY)
    later = Article.objects.create(title="新资费", effective_from=THURSDAY)
    assert set(Article.objects.in_force(on=WEDNESDAY)) == {lasting, ending}
    assert set(Article.objects.in_force(on=THURSDAY)) == {lasting, later}
    assert ending.is_in_force(WEDNESDAY) and not ending.is_in_force(THURSDAY)


# --- every rule as of the day its record began ------------------------------------------------------------------


def test_a_dissatisfied_customers_follow_up_keeps_the_quality_policy_the_order_was_received_under(
        hotline_agent, make_order, network_handler, province_dispatcher):
    def at_callback(order):
        order = flow.order_claim(actor=network_handler, order=order)
        order = flow.order_reply(actor=network_handler, order=order, answer="已处理", result_code="resolved")
        return flow.order_review(actor=province_dispatcher, order=order, accept=True)

    with time_machine.travel(at(TUESDAY, 9), tick=False):
        received_before = at_callback(make_order(hotline_agent))
    QualityPolicy.objects.create(effective_from=WEDNESDAY, follow_up_working_days=10)
    clear_all()
    with time_machine.travel(at(WEDNESDAY), tick=False):
        received_after = at_callback(make_order(hotline_agent, customer_phone="13900139000"))
        for order in (received_before, received_after):
            flow.order_callback(actor=hotline_agent, order=order, reached=True, satisfaction=1, solved=False)
    assert FollowUp.objects.get(order=received_before).due_at == working_days_after(at(WEDNESDAY), 2)  # the old
    assert FollowUp.objects.get(order=received_after).due_at == working_days_after(at(WEDNESDAY), 10)


def test_the_longest_wait_for_the_customer_is_the_one_the_order_was_received_under(hotline_agent, make_order,
                                                                                   network_handler):
    with time_machine.travel(at(TUESDAY, 9), tick=False):
        received_before = flow.order_claim(actor=network_handler, order=make_order(hotline_agent))
    WorkflowPolicy.objects.create(effective_from=WEDNESDAY, max_wait_days=2)
    clear_all()
    with time_machine.travel(at(WEDNESDAY), tick=False):
        received_after = flow.order_claim(actor=network_handler,
                                          order=make_order(hotline_agent, customer_phone="13900139000"))
        until = at(WEDNESDAY) + datetime.timedelta(days=5)
        with pytest.raises(ValidationError, match="At most 2 days"):
            flow.order_wait(actor=network_handler, order=received_after, until=until, comment="请客户提供位置")
        waiting = flow.order_wait(actor=network_handler, order=received_before, until=until, comment="请客户提供位置")
    assert waiting.status == OrderStatus.WAITING  # the seeded policy's 7 days


def test_a_changed_determinations_appeal_time_is_the_one_it_was_proposed_under(
        hotline_agent, make_order, billing_handler, province_dispatcher, dispute, network_dept, billing_dept):
    with time_machine.travel(at(TUESDAY, 9), tick=False):
        order = flow.order_claim(actor=billing_handler, order=make_order(hotline_agent, category=dispute))
        order = flow.order_reply(actor=billing_handler, order=order, answer="已处理", result_code="resolved")
        order = flow.order_review(actor=province_dispatcher, order=order, accept=True)
        order = flow.order_callback(actor=hotline_agent, order=order, reached=True, satisfaction=5, solved=True)
    AccountabilityPolicy.objects.create(effective_from=WEDNESDAY, appeal_working_days=1)
    clear_all()
    with time_machine.travel(at(THURSDAY), tick=False):
        changed = accountability.determination_decide(
            actor=province_dispatcher, determination=order.determination, reason="网络原因", cause="company",
            shares=[(network_dept, Decimal("0.6")), (billing_dept, Decimal("0.4"))])
    assert changed.appeal_due_at == working_days_after(at(THURSDAY), 5)  # the defaults in force on Tuesday


def test_a_returned_improvement_answers_within_the_time_it_was_opened_under(billing_dept, billing_lead,
                                                                           province_dispatcher):
    indicator = Indicator.objects.create(year=2026, code="timeliness", name="处理及时率", measure="timeliness",
                                         higher_is_better=True, target=Decimal("90"), weight=Decimal("100"))
    improvement = ImprovementOrder.objects.create(
        department=billing_dept, indicator=indicator, opened_month=datetime.date(2026, 11, 1),
        opened_value=Decimal("50"), target=Decimal("90"), latest_month=datetime.date(2026, 11, 1),
        latest_value=Decimal("50"), opened_at=at(TUESDAY), due_at=at(datetime.date(2026, 12, 15)),
        warn_at=at(datetime.date(2026, 12, 14)))
    AccountabilityPolicy.objects.create(effective_from=WEDNESDAY, improvement_answer_working_days=1)
    clear_all()
    with time_machine.travel(at(WEDNESDAY), tick=False):
        accountability.improvement_answer(actor=billing_lead, improvement=improvement, cause_analysis="夜班人手不足",
                                          measures="调整排班")
    with time_machine.travel(at(THURSDAY), tick=False):
        accountability.improvement_review(actor=province_dispatcher, improvement=improvement, accept=False,
                                          reason="措施不具体，请给出时间表")
    improvement.refresh_from_db()
    assert improvement.due_at == working_days_after(at(THURSDAY), 10)  # the defaults in force on Tuesday


def test_a_past_weeks_hot_spots_are_judged_by_the_quality_policy_of_that_week(login_client, quality_manager,
                                                                            guangzhou, category_tree):
    coverage = category_tree["NET-MOB-COV"]
    week_end = datetime.date(2026, 11, 15)
    for weeks_before in range(1, 9):  # four coverage complaints a week in Guangzhou, then fifteen
        RollupCategory.objects.create(department_id=0, day=week_end - datetime.timedelta(days=6 + 7 * weeks_before),
                                      region_id=guangzhou.pk, kind="complaint", category_id=coverage.pk, received=4)
    RollupCategory.objects.create(department_id=0, day=week_end, region_id=guangzhou.pk, kind="complaint",
                                  category_id=coverage.pk, received=15)
    QualityPolicy.objects.create(effective_from=week_end + datetime.timedelta(days=1), hotspot_min_count=50)
    clear_all()
    page = login_client(quality_manager).get(f"/dashboard/hotspots/?week_end={week_end}").content.decode()
    assert "No hot spot this week." not in page  # at least five complaints, as the week's (default) policy says
