"""认责 and the monthly cycle: determinations from rules, the complaint centre's decisions, appeals upheld and
overturned, deductions, scores, the year switch, notices, improvement orders that close by themselves or stay
open, and city isolation."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from accountability import scoring, services
from accountability.models import (
    AccountabilityRecord,
    Deduction,
    DeductionItem,
    Determination,
    ImprovementOrder,
    Indicator,
    MonthlyNotice,
    MonthlyScore,
    ResponsibilityRule,
    RuleShare,
)
from org import roles
from org.models import Department
from quality.facts import rollups_apply
from tests.factories import DepartmentFactory, UserFactory
from workflow import services as flow
from workflow.intake import OnSpotAnswer
from workflow.models import Notification

SH = ZoneInfo("Asia/Shanghai")
NOVEMBER = datetime.date(2026, 11, 1)
DECEMBER = datetime.date(2026, 12, 1)


def at(day: datetime.date, hour=10, minute=0):
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH)


@pytest.fixture
def closer(hotline_agent, make_order, province_dispatcher):
    """Log a complaint on a day and take it to close through the workflow: claimed at once, replied after
    `hours`, reviewed, called back satisfied (or as rated)."""

    def _close(day, *, category, handler, hours=2, rating=5, phone="13800138000", agent=None):
        agent = agent or hotline_agent
        with time_machine.travel(at(day, 9), tick=False):
            order = make_order(agent, category=category, customer_phone=phone)
        with time_machine.travel(at(day, 9, 5), tick=False):
            order = flow.order_claim(actor=handler, order=order)
        with time_machine.travel(at(day, 9, 5) + datetime.timedelta(hours=hours), tick=False):
            order = flow.order_reply(actor=handler, order=order, answer="已处理", result_code="resolved")
            order = flow.order_review(actor=province_dispatcher, order=order, accept=True)
            return flow.order_callback(actor=agent, order=order, reached=True, satisfaction=rating, solved=True)

    return _close


@pytest.fixture
def shared_rule(coverage, network_dept, billing_dept):
    rule = ResponsibilityRule.objects.create(category=coverage, effective_from=datetime.date(2026, 1, 1))
    RuleShare.objects.create(rule=rule, department=network_dept, share=Decimal("0.7"))
    RuleShare.objects.create(rule=rule, department=billing_dept, share=Decimal("0.3"))
    return rule


@pytest.fixture
def indicators(db):
    year = 2026
    return {
        "timeliness": Indicator.objects.create(year=year, code="timeliness", name="处理及时率", measure="timeliness",
                                               higher_is_better=True, target=Decimal("90"), weight=Decimal("60")),
        "attributed": Indicator.objects.create(year=year, code="attributed", name="认责投诉量", measure="attributed",
                                               higher_is_better=False, target=Decimal("2"), weight=Decimal("40")),
    }


def shares_of(determination):
    return {s.department.code: s.share for s in determination.shares.select_related("department")}


def test_a_closed_complaint_is_attributed_from_the_deepest_rule(closer, coverage, network_handler, shared_rule,
                                                               category_tree, vas_dept):
    broad = ResponsibilityRule.objects.create(category=category_tree["NET"], effective_from=datetime.date(2026, 1, 1))
    RuleShare.objects.create(rule=broad, department=vas_dept, share=Decimal("1"))
    order = closer(datetime.date(2026, 11, 3), category=coverage, handler=network_handler)
    determination = Determination.objects.get(order=order)
    assert shares_of(determination) == {"network": Decimal("0.7"), "billing": Decimal("0.3")}  # the leaf's rule
    assert determination.rule == shared_rule and determination.cause == "company"
    assert determination.status == Determination.Status.PROPOSED and determination.month == NOVEMBER
    # Five working days to appeal: Tuesday the 3rd → Tuesday the 10th.
    assert determination.appeal_due_at.astimezone(SH).date() == datetime.date(2026, 11, 10)


def test_without_a_rule_the_category_names_the_department(closer, dispute, billing_handler, hotline_agent,
                                                          make_order):
    order = closer(datetime.date(2026, 11, 3), category=dispute, handler=billing_handler)
    assert shares_of(order.determination) == {"billing": Decimal("1")}
    assert order.determination.rule is None
    on_spot = make_order(hotline_agent, category=dispute, on_spot=OnSpotAnswer("已现场解释"),
                         customer_phone="13900000001")
    assert shares_of(on_spot.determination) == {"billing": Decimal("1")}
    inquiry = make_order(hotline_agent, kind="inquiry", on_spot=OnSpotAnswer("已解答"), customer_phone="13900000002")
    assert not Determination.objects.filter(order=inquiry).exists()  # only complaints are attributed


def test_a_rule_version_applies_from_its_date(closer, coverage, network_handler, network_dept, vas_dept):
    old = ResponsibilityRule.objects.create(category=coverage, effective_from=datetime.date(2026, 1, 1))
    RuleShare.objects.create(rule=old, department=network_dept)
    new = ResponsibilityRule.objects.create(category=coverage, effective_from=datetime.date(2026, 11, 15))
    RuleShare.objects.create(rule=new, department=vas_dept)
    before = closer(datetime.date(2026, 11, 10), category=coverage, handler=network_handler)
    after = closer(datetime.date(2026, 11, 20), category=coverage, handler=network_handler, phone="13800138001")
    assert shares_of(before.determination) == {"network": Decimal("1")}
    assert shares_of(after.determination) == {"vas": Decimal("1")}


def test_the_centre_confirms_or_changes_with_a_reason(closer, dispute, billing_handler, province_dispatcher,
                                                      network_dept, billing_dept):
    determination = closer(datetime.date(2026, 11, 3), category=dispute, handler=billing_handler).determination
    with pytest.raises(ValidationError) as error:
        services.determination_decide(actor=province_dispatcher, determination=determination,
                                      shares=[(network_dept, Decimal("1"))])
    assert "reason" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.determination_decide(actor=province_dispatcher, determination=determination, reason="共担",
                                      shares=[(network_dept, Decimal("0.5")), (billing_dept, Decimal("0.4"))])
    assert "add up to 0.9" in str(error.value)
    changed = services.determination_decide(actor=province_dispatcher, determination=determination, reason="网络原因",
                                            shares=[(network_dept, Decimal("0.6")), (billing_dept, Decimal("0.4"))],
                                            cause="company")
    assert changed.status == Determination.Status.CONFIRMED
    assert shares_of(changed) == {"network": Decimal("0.6"), "billing": Decimal("0.4")}
    assert list(changed.events.values_list("action", flat=True)) == ["proposed", "changed"]


def test_only_the_complaint_centre_of_the_city_rules(closer, dispute, billing_handler, billing_lead, shenzhen,
                                                     hotline_agent):
    determination = closer(datetime.date(2026, 11, 3), category=dispute, handler=billing_handler).determination
    centre = DepartmentFactory(code="sz-centre", name="深圳投诉中心", kind=Department.Kind.COMPLAINT_CENTRE,
                               region=shenzhen)
    sz_dispatcher = UserFactory(username="sz_dispatcher", department=centre, roles=[roles.DISPATCHER])
    for user in (sz_dispatcher, billing_lead, hotline_agent):
        with pytest.raises(PermissionDenied):
            services.determination_decide(actor=user, determination=determination)


@pytest.fixture
def vas_dept(province):
    return DepartmentFactory(code="vas", name="增值业务部", kind=Department.Kind.BACK_OFFICE, region=province)


def attributed(month, code):
    item = next(m for m in scoring.month_compute(month=month) if m.department.code == code)
    return item.attributed, item


def test_an_upheld_and_an_overturned_appeal_change_the_score(closer, dispute, billing_handler, billing_lead,
                                                             province_dispatcher, network_dept, indicators):
    first = closer(datetime.date(2026, 11, 3), category=dispute, handler=billing_handler)
    second = closer(datetime.date(2026, 11, 4), category=dispute, handler=billing_handler, phone="13800138001")
    rollups_apply()
    assert attributed(NOVEMBER, "billing")[0] == 2.0
    with time_machine.travel(at(datetime.date(2026, 11, 5)), tick=False):
        upheld = services.appeal_file(actor=billing_lead, determination=first.determination, reason="非我部门原因",
                                      evidence="系统日志显示计费正确")
        overturned = services.appeal_file(actor=billing_lead, determination=second.determination,
                                          reason="基站故障导致", evidence="网络告警记录")
        with pytest.raises(ValidationError):  # one pending appeal at a time
            services.appeal_file(actor=billing_lead, determination=first.determination, reason="再次", evidence="x")
        services.appeal_decide(actor=province_dispatcher, appeal=upheld, uphold=True, reason="证据不足")
        services.appeal_decide(actor=province_dispatcher, appeal=overturned, uphold=False, reason="属网络故障",
                               shares=[(network_dept, Decimal("1"))])
    first.determination.refresh_from_db()
    second.determination.refresh_from_db()
    assert first.determination.status == second.determination.status == Determination.Status.FINAL
    assert shares_of(second.determination) == {"network": Decimal("1")}
    billing_attributed, billing = attributed(NOVEMBER, "billing")
    assert billing_attributed == 1.0  # the overturned one moved to the network department
    assert attributed(NOVEMBER, "network")[0] == 1.0
    # Billing answers for one complaint against a target of at most two: the attributed indicator is met.
    assert [(i.code, met) for i, _c, _t, met, _p in billing.results] == [("attributed", True), ("timeliness", True)]
    actions = [e.action for e in second.determination.events.all()]
    assert actions == ["proposed", "appealed", "appeal_overturned"]


def test_an_appeal_after_the_window_is_refused(closer, dispute, billing_handler, billing_lead, network_lead):
    order = closer(datetime.date(2026, 11, 3), category=dispute, handler=billing_handler)
    with pytest.raises(PermissionDenied):  # another department's lead
        services.appeal_file(actor=network_lead, determination=order.determination, reason="x", evidence="y")
    with pytest.raises(ValidationError) as error:
        services.appeal_file(actor=billing_lead, determination=order.determination, reason="", evidence="")
    assert set(error.value.message_dict) == {"reason", "evidence"}
    with time_machine.travel(at(datetime.date(2026, 11, 12)), tick=False):
        with pytest.raises(ValidationError, match="appeal window closed"):
            services.appeal_file(actor=billing_lead, determination=order.determination, reason="x", evidence="y")
        assert services.accountability_finalise_due() == 1
    order.determination.refresh_from_db()
    assert order.determination.status == Determination.Status.FINAL


@pytest.fixture
def items(db):
    return {
        "media": DeductionItem.objects.create(year=2026, code="media", name="媒体曝光", kind="media",
                                              points=Decimal("10"), major=True),
        "overdue": DeductionItem.objects.create(year=2026, code="overdue", name="超时工单", kind="overdue",
                                                points=Decimal("2")),
    }


def test_a_deduction_lowers_the_score_until_an_appeal_cancels_it(closer, dispute, billing_handler, billing_lead,
                                                                 province_dispatcher, billing_dept, indicators,
                                                                 items, quality_manager, hotline_agent):
    closer(datetime.date(2026, 11, 3), category=dispute, handler=billing_handler)
    rollups_apply()
    before = attributed(NOVEMBER, "billing")[1].total
    with pytest.raises(ValidationError) as error:
        services.deduction_record(actor=quality_manager, item=items["media"], department=billing_dept,
                                  month=NOVEMBER, evidence="南方日报报道")
    assert "summary" in error.value.message_dict  # a major incident needs its accountability record
    with pytest.raises(PermissionDenied):
        services.deduction_record(actor=hotline_agent, item=items["overdue"], department=billing_dept,
                                  month=NOVEMBER, evidence="x")
    with time_machine.travel(at(datetime.date(2026, 11, 20)), tick=False):
        deduction = services.deduction_record(actor=quality_manager, item=items["media"], department=billing_dept,
                                              month=NOVEMBER, evidence="南方日报报道", summary="乱扣费被曝光")
    assert AccountabilityRecord.objects.get(deduction=deduction).summary == "乱扣费被曝光"
    assert attributed(NOVEMBER, "billing")[1].total == before - 10
    with time_machine.travel(at(datetime.date(2026, 11, 23)), tick=False):
        appeal = services.appeal_file(actor=billing_lead, deduction=deduction, reason="报道不实", evidence="更正声明")
        services.appeal_decide(actor=province_dispatcher, appeal=appeal, uphold=False, reason="已更正")
    deduction.refresh_from_db()
    assert deduction.status == Deduction.Status.CANCELLED
    assert attributed(NOVEMBER, "billing")[1].total == before


def test_each_year_scores_by_its_own_indicators(closer, dispute, billing_handler, indicators, quality_manager):
    closer(datetime.date(2026, 12, 3), category=dispute, handler=billing_handler)
    rollups_apply()
    with time_machine.travel(at(datetime.date(2027, 1, 5)), tick=False):
        december = scoring.month_close(month=DECEMBER)
        assert december.scores >= 1
        score = MonthlyScore.objects.get(department__code="billing", month=DECEMBER)
        assert {r.indicator.code for r in score.results.all()} == {"timeliness", "attributed"}
        # Next year's items: only satisfaction counts from January on.
        Indicator.objects.create(year=2027, code="satisfaction", name="满意度", measure="satisfaction",
                                 higher_is_better=True, target=Decimal("80"), weight=Decimal("100"))
        # Recomputing last year's month changes nothing.
        services.month_scores_recompute(actor=quality_manager, month=DECEMBER, reason="核对")
        score = MonthlyScore.objects.get(department__code="billing", month=DECEMBER)
        assert {r.indicator.code for r in score.results.all()} == {"timeliness", "attributed"}
        assert score.year == 2026


def test_improvement_orders_open_close_themselves_or_stay_open(closer, dispute, coverage, billing_handler,
                                                                network_handler, indicators, billing_lead):
    # November: billing answers late for both its complaints (timeliness 0 %); network in time.
    closer(datetime.date(2026, 11, 3), category=dispute, handler=billing_handler, hours=30)
    closer(datetime.date(2026, 11, 4), category=dispute, handler=billing_handler, hours=30, phone="13800138001")
    closer(datetime.date(2026, 11, 4), category=coverage, handler=network_handler, phone="13800138002")
    rollups_apply()
    with time_machine.travel(at(datetime.date(2026, 12, 1)), tick=False):
        report = scoring.month_close(month=NOVEMBER)
    billing = ImprovementOrder.objects.get(department__code="billing", indicator__code="timeliness")
    assert billing.status == ImprovementOrder.Status.OPEN and billing.opened_value == 0
    assert not ImprovementOrder.objects.filter(department__code="network").exists()
    assert report.improvements_opened == 1
    assert Notification.objects.filter(recipient=billing_lead, kind="improvement").count() == 1
    # December: billing in time again → the order closes by itself; January: still fine.
    closer(datetime.date(2026, 12, 2), category=dispute, handler=billing_handler, phone="13800138003")
    rollups_apply()
    with time_machine.travel(at(datetime.date(2027, 1, 4)), tick=False):
        Indicator.objects.create(year=2027, **{f: getattr(indicators["timeliness"], f) for f in (
            "code", "name", "measure", "higher_is_better", "target", "weight")})
        scoring.month_close(month=DECEMBER)
    billing.refresh_from_db()
    assert billing.status == ImprovementOrder.Status.CLOSED and billing.latest_month == DECEMBER
    assert [(e.action, e.data["month"]) for e in billing.events.order_by("at", "id")] == [
        ("improvement_opened", "2026-11"), ("improvement_closed", "2026-12")]


def test_an_improvement_order_stays_open_and_flagged_while_below(closer, dispute, billing_handler, indicators,
                                                                 billing_lead, province_dispatcher):
    closer(datetime.date(2026, 11, 3), category=dispute, handler=billing_handler, hours=30)
    closer(datetime.date(2026, 12, 2), category=dispute, handler=billing_handler, hours=30, phone="13800138001")
    rollups_apply()
    with time_machine.travel(at(datetime.date(2026, 12, 1)), tick=False):
        scoring.month_close(month=NOVEMBER)
    improvement = ImprovementOrder.objects.get(department__code="billing")
    with time_machine.travel(at(datetime.date(2026, 12, 3)), tick=False):
        with pytest.raises(ValidationError):
            services.improvement_answer(actor=billing_lead, improvement=improvement, cause_analysis="", measures="")
        services.improvement_answer(actor=billing_lead, improvement=improvement, cause_analysis="人手不足",
                                    measures="增加夜班处理员")
        with pytest.raises(ValidationError):
            services.improvement_review(actor=province_dispatcher, improvement=improvement, accept=False)
        services.improvement_review(actor=province_dispatcher, improvement=improvement, accept=True)
    with time_machine.travel(at(datetime.date(2027, 1, 4)), tick=False):
        scoring.month_close(month=DECEMBER)
    improvement.refresh_from_db()
    assert improvement.status == ImprovementOrder.Status.ACCEPTED  # measures accepted, the indicator not back yet
    assert improvement.months_below == 2 and improvement.flagged
    assert ImprovementOrder.objects.filter(department__code="billing").count() == 1


def test_the_notice_goes_to_the_lead_who_acknowledges_it(closer, dispute, billing_handler, indicators, billing_lead,
                                                         network_lead, quality_manager):
    closer(datetime.date(2026, 11, 3), category=dispute, handler=billing_handler)
    rollups_apply()
    with time_machine.travel(at(datetime.date(2026, 12, 1)), tick=False):
        scoring.month_close(month=NOVEMBER)
        # Again (recomputed on the record): one notice, its content replaced.
        services.month_scores_recompute(actor=quality_manager, month=NOVEMBER, reason="核对")
    notice = MonthlyNotice.objects.get(department__code="billing", month=NOVEMBER)
    assert MonthlyNotice.objects.filter(department__code="billing").count() == 1
    assert notice.content["rank"] >= 1 and notice.content["attributed"] == 1.0
    assert Notification.objects.filter(recipient=billing_lead, kind="notice").count() == 1
    with pytest.raises(PermissionDenied):
        services.notice_acknowledge(actor=network_lead, notice=notice)
    services.notice_acknowledge(actor=billing_lead, notice=notice, comment="收到")
    notice.refresh_from_db()
    assert notice.status == MonthlyNotice.Status.ACKNOWLEDGED


def test_the_sweep_warns_once_and_marks_the_overdue_notice(closer, dispute, billing_handler, indicators,
                                                          billing_lead):
    closer(datetime.date(2026, 11, 3), category=dispute, handler=billing_handler)
    rollups_apply()
    with time_machine.travel(at(datetime.date(2026, 12, 1)), tick=False):
        scoring.month_close(month=NOVEMBER)
    notice = MonthlyNotice.objects.get(department__code="billing")
    with time_machine.travel(notice.due_at + datetime.timedelta(minutes=1), tick=False):
        assert services.accountability_sweep()["overdue"] >= 1
        assert services.accountability_sweep()["overdue"] == 0
    notice.refresh_from_db()
    assert notice.warned_at == notice.warn_at and notice.overdue_at == notice.due_at


def test_the_monthly_cycle_runs_once_from_the_first_working_day(closer, dispute, billing_handler, indicators):
    closer(datetime.date(2026, 12, 3), category=dispute, handler=billing_handler)
    rollups_apply()
    with time_machine.travel(at(datetime.date(2027, 1, 1)), tick=False):
        assert scoring.monthly_cycle_due(today=datetime.date(2027, 1, 1)) is None  # New Year's Day
    with time_machine.travel(at(datetime.date(2027, 1, 4)), tick=False):
        assert scoring.monthly_cycle_due(today=datetime.date(2027, 1, 4)).scores >= 1
        assert scoring.monthly_cycle_due(today=datetime.date(2027, 1, 5)) is None
    assert MonthlyScore.objects.filter(month=DECEMBER, department__code="billing").count() == 1
