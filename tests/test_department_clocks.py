"""Each department's clock and the customer's promise, to the minute, on a working-hours policy (issue 17).

The order is a difficult complaint under a policy that promises 16 working hours and gives each department
8 working hours to handle (claim 15 clock minutes, dispatch 30 clock minutes), on the default calendar
(08:30–12:00 and 13:30–17:30 on working days). It is received on Friday 9 October 2026 at 10:00; Saturday
10 October is a make-up working day (调休), Sunday 11 October a rest day. Every figure below was computed by hand:

- the promise: Fri 10:00–12:00 (2 h) + 13:30–17:30 (4 h) + Sat 08:30–12:00 (3.5 h) + 13:30–17:30 (4 h) = 13.5 h,
  then Mon 08:30 + 2.5 h: **Mon 12 Oct 11:00**;
- network holds it from receipt and transfers it at Fri 13:00 (in the lunch break): 2 working hours;
- billing holds it from Fri 13:00 and returns it as the wrong department at Fri 18:00: 4 working hours
  (13:30–17:30), its own deadline Sat 14:00 (4 h Friday + 3.5 h Saturday morning + 0.5 h);
- the dispatcher holds it from Fri 18:00 (due 18:30, clock minutes) to Sat 09:00: late, 0.5 working hours;
- network again from Sat 09:00, due 8 working hours later: Sat 09:00–12:00 (3 h) + 13:30–17:30 (4 h), Mon
  08:30 + 1 h = Mon 09:30; it waits for the customer Sat 11:00–12:00 (1 working hour), which moves its deadline
  to Mon 10:30 and the promise to Mon 12:00; an extension to Mon 16:00 approved on Saturday moves both (the
  original promise, Mon 11:00, is kept); it replies Mon 15:00: in time, 6 h Saturday + 5 h Monday = 11 h;
- the callback finds the customer dissatisfied on Tue 13 Oct 10:00: a new promise, 16 working hours from then:
  Tue 6 h + Wed 7.5 h + Thu 08:30 + 2.5 h = **Thu 15 Oct 11:00**.
"""

from datetime import date, datetime

import pytest
import time_machine

from workflow import services
from workflow.calendar import SHANGHAI
from workflow.models import (
    LimitUnit,
    OrderStage,
    PromiseCause,
    Stage,
    StageLimit,
    StageOutcome,
    TimeLimitPolicy,
)
from workflow.selectors import order_department_clocks, order_promises


def at(day, hour, minute=0):
    return datetime(2026, 10, day, hour, minute, tzinfo=SHANGHAI)


HOUR = 3600


@pytest.fixture
def working_hours_policy(db):
    policy = TimeLimitPolicy.objects.create(name="疑难工时测试", severity="difficult", effective_from=date(2026, 1, 1),
                                            warn_percent=80)
    for stage, amount, unit in [(Stage.PROMISE, 16, LimitUnit.WORKING_HOURS), (Stage.HANDLE, 8, LimitUnit.WORKING_HOURS),
                                (Stage.CLAIM, 15, LimitUnit.CLOCK_MINUTES),
                                (Stage.DISPATCH, 30, LimitUnit.CLOCK_MINUTES)]:
        StageLimit.objects.create(policy=policy, stage=stage, amount=amount, unit=unit)
    from core.memo import clear_all

    clear_all()
    return policy


def close_satisfied(order, centre, satisfaction=5):
    """After the reply: the centre accepts it (where the order is reviewed) and the customer is satisfied."""
    order.refresh_from_db()
    if order.status == "review":
        services.order_review(actor=centre, order=order, accept=True)
    services.order_callback(actor=centre, order=order, reached=True, satisfaction=satisfaction, solved=True,
                            comment="满意")
    order.refresh_from_db()
    assert order.status == "closed", order.status


def clocks_of(order):
    return [(c.department.code if c.department else None, c.stage, c.started_at, c.ended_at, c.due_at,
             c.working_seconds_used, c.outcome) for c in order_department_clocks(order=order)]


def test_each_movement_to_the_minute_across_lunch_a_weekend_and_a_make_up_day(
        working_hours_policy, hotline_agent, make_order, network_handler, billing_dept, billing_handler, network_dept,
        province_dispatcher, api_for):
    centre = province_dispatcher.department.code
    with time_machine.travel(at(9, 10), tick=False) as clock:
        order = make_order(hotline_agent, severity="difficult")
        assert order.promised_at == at(12, 11)

        clock.move_to(at(9, 10, 20))
        services.order_dispatch(actor=province_dispatcher, order=order, department=network_dept)
        services.order_claim(actor=network_handler, order=order)
        clock.move_to(at(9, 12))  # transfer at 2 h, just as the lunch break begins
        services.order_transfer(actor=network_handler, order=order, department=billing_dept, reason="计费问题")
        clock.move_to(at(9, 13, 40))
        services.order_claim(actor=billing_handler, order=order)
        clock.move_to(at(9, 18))  # billing held it for the 4 working hours of Friday afternoon
        services.order_return(actor=billing_handler, order=order, reason_kind="wrong_department", reason="非本部门")
        order.refresh_from_db()
        assert order.promised_at == at(12, 11)  # passing it on moved nothing

        clock.move_to(at(10, 9))  # Saturday 10 October: a make-up working day
        services.order_dispatch(actor=province_dispatcher, order=order, department=network_dept)
        clock.move_to(at(10, 9, 10))
        services.order_claim(actor=network_handler, order=order)
        clock.move_to(at(10, 11))
        services.order_wait(actor=network_handler, order=order, until=at(12, 9), comment="等客户提供地址")
        clock.move_to(at(10, 12))
        services.order_resume(actor=network_handler, order=order)
        order.refresh_from_db()
        assert order.promised_at == at(12, 12)  # moved on by the working hour spent waiting for the customer

        clock.move_to(at(10, 15))
        services.order_extension_request(actor=network_handler, order=order, until=at(12, 16), reason="需协调厂家")
        clock.move_to(at(10, 15, 10))
        services.order_extension_decide(actor=province_dispatcher, order=order, approve=True)
        order.refresh_from_db()
        assert order.promised_at == at(12, 16)
        labels = [(p.at, str(p.label)) for p in order_promises(order=order, stages=list(order.stages.all()))]
        assert labels == [(at(12, 11), "original promise"), (at(12, 16), "extended")]

        clock.move_to(at(12, 15))  # Monday
        services.order_reply(actor=network_handler, order=order, answer="已调整覆盖", result_code="resolved")
        order.refresh_from_db()
        if order.status == "review":
            services.order_review(actor=province_dispatcher, order=order, accept=True)
        assert clocks_of(order) == [
            (centre, Stage.DISPATCH, at(9, 10), at(9, 10, 20), at(9, 10, 30), 20 * 60, StageOutcome.IN_TIME),
            # network's transfer sent the order to the wrong department: its routing is what was late
            ("network", Stage.HANDLE, at(9, 10, 20), at(9, 12), at(10, 10, 50), 100 * 60, StageOutcome.LATE),
            ("billing", Stage.HANDLE, at(9, 12), at(9, 18), at(10, 14), 4 * HOUR, StageOutcome.MISROUTED),
            (centre, Stage.DISPATCH, at(9, 18), at(10, 9), at(9, 18, 30), HOUR // 2, StageOutcome.LATE),
            ("network", Stage.HANDLE, at(10, 9), at(12, 15), at(12, 16), 11 * HOUR, StageOutcome.IN_TIME),
            (centre, Stage.REVIEW, at(12, 15), at(12, 15), at(13, 10), 0, StageOutcome.IN_TIME),
            ("gz-hotline", Stage.CALLBACK, at(12, 15), None, at(14, 15), 0, "running"),
        ]
        promise = OrderStage.objects.get(order=order, kind=Stage.PROMISE)
        assert (promise.original_due_at, promise.due_at, promise.ended_at, promise.outcome) == (
            at(12, 11), at(12, 16), at(12, 15), StageOutcome.IN_TIME)

        clock.move_to(at(13, 10))  # Tuesday: the customer is not satisfied
        services.order_callback(actor=province_dispatcher, order=order, reached=True, satisfaction=1, solved=False,
                                comment="仍无信号")
        order.refresh_from_db()
        renewed = OrderStage.objects.get(order=order, kind=Stage.PROMISE, ended_at__isnull=True)
        assert (renewed.cause, renewed.started_at, renewed.due_at) == (PromiseCause.REOPEN, at(13, 10), at(15, 11))
        assert order.promised_at == at(15, 11)
        callback = order_department_clocks(order=order)[6]
        assert (callback.ended_at, callback.working_seconds_used, callback.outcome) == (
            at(13, 10), 4 * HOUR, StageOutcome.IN_TIME)  # Mon 15:00–17:30 (2.5 h) and Tue 08:30–10:00 (1.5 h)

        body = api_for(province_dispatcher).get(f"/api/v1/orders/{order.number}/").json()
    assert body["promised_at"] == at(15, 11).isoformat()
    read = body["department_clocks"]
    assert [(c["department"], c["stage"], c["working_seconds_used"], c["outcome"]) for c in read[:5]] == [
        (centre, "dispatch", 1200, "in_time"), ("network", "handle", 6000, "late"),
        ("billing", "handle", 14400, "misrouted"), (centre, "dispatch", 1800, "late"),
        ("network", "handle", 39600, "in_time")]
    assert read[2]["started_at"] == at(9, 12).isoformat() and read[2]["ended_at"] == at(9, 18).isoformat()
    assert read[2]["due_at"] == at(10, 14).isoformat() and read[2]["department_name"] == billing_dept.name


def test_orders_already_in_the_database_get_their_clocks_rebuilt_from_the_audit_trail(
        working_hours_policy, hotline_agent, make_order, network_handler, billing_dept, billing_handler, network_dept,
        province_dispatcher):
    """The data migrations of issue 17 on an order as the earlier code left it: no promise row (`promised_at` was
    the latest handling stage's deadline), no holder on the centre's stages, a return as the wrong department
    judged like any other. The expected values are the hand-computed ones of the module's docstring."""
    import importlib

    from django.apps import apps

    with time_machine.travel(at(9, 10), tick=False) as clock:
        order = make_order(hotline_agent, severity="difficult")
        clock.move_to(at(9, 10, 20))
        services.order_dispatch(actor=province_dispatcher, order=order, department=network_dept)
        services.order_claim(actor=network_handler, order=order)
        clock.move_to(at(9, 12))
        services.order_transfer(actor=network_handler, order=order, department=billing_dept, reason="计费问题")
        clock.move_to(at(9, 13, 40))
        services.order_claim(actor=billing_handler, order=order)
        clock.move_to(at(9, 18))
        services.order_return(actor=billing_handler, order=order, reason_kind="wrong_department", reason="非本部门")
        clock.move_to(at(10, 9))
        services.order_dispatch(actor=province_dispatcher, order=order, department=network_dept)
    # What the earlier code recorded: each stage judged by its own clock only, the centre's stages unattributed.
    stages = order.stages.exclude(kind=Stage.PROMISE)
    stages.filter(kind=Stage.DISPATCH).update(department=None)
    stages.filter(kind=Stage.HANDLE, ended_at__isnull=False).update(outcome=StageOutcome.IN_TIME)
    OrderStage.objects.filter(order=order, kind=Stage.PROMISE).delete()
    order.promised_at = stages.get(kind=Stage.HANDLE, ended_at__isnull=True).due_at  # it had moved on
    order.save(update_fields=["promised_at"])

    importlib.import_module("workflow.migrations.0020_promises_of_orders_already_received").rebuild(apps, None)
    importlib.import_module("workflow.migrations.0021_department_clocks").rebuild(apps, None)

    order.refresh_from_db()
    promise = OrderStage.objects.get(order=order, kind=Stage.PROMISE)
    # The promise of its receipt comes back: the first handling stage's deadline, from the received time.
    assert (promise.started_at, promise.original_due_at, promise.cause) == (at(9, 10), at(10, 10, 50), "receipt")
    assert order.promised_at == promise.due_at == at(10, 10, 50)
    centre = province_dispatcher.department.code
    assert [(c[0], c[1], c[6]) for c in clocks_of(order)] == [
        (centre, Stage.DISPATCH, StageOutcome.IN_TIME),
        ("network", Stage.HANDLE, StageOutcome.LATE),  # its transfer was the misrouting
        ("billing", Stage.HANDLE, StageOutcome.MISROUTED),
        (centre, Stage.DISPATCH, StageOutcome.LATE),  # judged late by its own clock at the time: kept
        ("network", Stage.HANDLE, "running"),
    ]


def test_the_kpis_tell_what_the_customer_felt_apart_from_who_caused_it(
        hotline_agent, make_order, network_handler, billing_dept, billing_handler, network_dept, province_dispatcher):
    """An order passed on twice (a transfer, a return as misrouted) yet answered within the customer's promise:
    the promise was kept; of the departments' two judged holdings one was late (network's misrouting transfer);
    the order is a ping-pong order. A second order is answered late after a transfer, its promise broken."""
    from quality.facts import rollups_apply
    from quality.kpis import Period, Slice, measure_sums

    with time_machine.travel(at(12, 9), tick=False) as clock:  # Monday 12 October, a 24-hour promise
        kept = make_order(hotline_agent)
        late = make_order(hotline_agent, customer_phone="13900139000")
        for order in (kept, late):
            assert order.status == "queued" and order.current_department == network_dept  # routed by category
            services.order_claim(actor=network_handler, order=order)
        clock.move_to(at(12, 11))
        services.order_transfer(actor=network_handler, order=kept, department=billing_dept, reason="计费问题")
        services.order_transfer(actor=network_handler, order=late, department=billing_dept, reason="计费问题")
        services.order_claim(actor=billing_handler, order=kept)
        services.order_claim(actor=billing_handler, order=late)
        services.order_return(actor=billing_handler, order=kept, reason_kind="wrong_department", reason="非本部门")
        services.order_dispatch(actor=province_dispatcher, order=kept, department=network_dept)
        services.order_claim(actor=network_handler, order=kept)
        clock.move_to(at(12, 15))
        services.order_reply(actor=network_handler, order=kept, answer="已修复", result_code="resolved")
        close_satisfied(kept, province_dispatcher)
        clock.move_to(at(13, 10))  # 25 hours after receipt: billing's own 24 hours (from 11:00) still hold
        services.order_reply(actor=billing_handler, order=late, answer="已退费", result_code="resolved")
        close_satisfied(late, province_dispatcher)
    rollups_apply()
    table = measure_sums(period=Period(date(2026, 10, 12), date(2026, 10, 13)), slice_=Slice())
    assert table.kpi("promise_timeliness").value == pytest.approx(50.0)  # the customer of `late` waited too long
    # kept: network late (misrouting transfer), billing not judged, network in time; late: network and billing
    # in time (each within its own 24 hours): 3 of 4 holdings in time
    assert (table.kpi("department_on_time").numerator, table.kpi("department_on_time").denominator) == (3, 4)
    assert table.kpi("ping_pong_rate").value == pytest.approx(50.0)
    # the stage view: an order with any handling stage late (kept's misrouting transfer) is not in time
    assert table.kpi("timeliness").value == pytest.approx(50.0)


def test_the_new_kpis_have_definitions_tiles_and_drill_downs(
        hotline_agent, make_order, network_handler, billing_dept, billing_handler, network_dept, province_dispatcher,
        quality_manager, login_client):
    from quality.facts import rollups_apply

    with time_machine.travel(at(12, 9), tick=False) as clock:
        order = services.order_claim(actor=network_handler, order=make_order(hotline_agent))
        clock.move_to(at(12, 10))
        services.order_transfer(actor=network_handler, order=order, department=billing_dept, reason="计费问题")
        services.order_claim(actor=billing_handler, order=order)
        services.order_transfer(actor=billing_handler, order=order, department=network_dept, reason="网络问题")
        services.order_claim(actor=network_handler, order=order)
        clock.move_to(at(13, 12))  # network's second holding ran past its own 24 hours
        services.order_reply(actor=network_handler, order=order, answer="已修复", result_code="resolved")
        close_satisfied(order, province_dispatcher)
    rollups_apply()
    client = login_client(quality_manager)
    definitions = client.get("/dashboard/definitions/").content.decode()
    for name in ("Promise kept", "Departmental on-time rate", "Ping-pong rate"):
        assert name in definitions
    period = "period=custom&start=2026-10-12&end=2026-10-13"
    overview = client.get(f"/dashboard/?{period}").content.decode()
    for code in ("promise_timeliness", "department_on_time", "ping_pong_rate"):
        assert f'data-kpi="{code}"' in overview
    # the order behind the departmental on-time rate's "not counted": a holding ran late
    late = client.get(f"/dashboard/orders/?kpi=department_on_time&part=rest&{period}").content.decode()
    assert order.number in late and "1 in all" in late
    assert order.number in client.get(f"/dashboard/orders/?kpi=ping_pong_rate&{period}").content.decode()


def test_accountability_names_the_late_departments_and_proposes_buck_passing_to_the_centre(
        hotline_agent, make_order, network_handler, billing_dept, billing_handler, network_dept, province_dispatcher,
        centre_lead, login_client):
    """Passed on three times (the policy allows two): at close the determination names the department whose own
    clock ran late with its share of the working time, and proposes a buck-passing deduction against the
    department that passed the order on most, to the centre's leads; nothing is deducted until they record it."""
    from accountability.models import Deduction, Determination
    from accountability.scoring import holding_sums
    from quality.kpis import Period
    from workflow.models import Notification

    with time_machine.travel(at(12, 9), tick=False) as clock:  # Monday, the default 24-hour limits
        order = services.order_claim(actor=network_handler, order=make_order(hotline_agent))
        clock.move_to(at(12, 10))
        services.order_transfer(actor=network_handler, order=order, department=billing_dept, reason="计费问题")
        services.order_claim(actor=billing_handler, order=order)
        clock.move_to(at(12, 11))
        services.order_transfer(actor=billing_handler, order=order, department=network_dept, reason="网络问题")
        services.order_claim(actor=network_handler, order=order)
        clock.move_to(at(13, 12))  # network's second holding: 25 hours, past its own 24
        services.order_transfer(actor=network_handler, order=order, department=billing_dept, reason="仍是计费")
        services.order_claim(actor=billing_handler, order=order)
        clock.move_to(at(13, 14))
        services.order_reply(actor=billing_handler, order=order, answer="已退费", result_code="resolved")
        close_satisfied(order, province_dispatcher, satisfaction=4)
    determination = Determination.objects.get(order=order)
    # held: network 1 h + billing 1 h + network (Mon 11:00–17:30 = 5 h, Tue 08:30–12:00 = 3.5 h) + billing 1.5 h
    # (Tue 13:30–14:00 is 0.5 h; 12:00–13:30 is lunch): network's late holding is 8.5 of 11 working hours
    assert determination.late_holdings == [{"department": network_dept.pk, "name": network_dept.name,
                                            "seconds": int(8.5 * HOUR), "share": f"{8.5 / 11:.4f}"}]
    assert determination.passes == 3 and determination.passed_on_by == network_dept  # 2 of the 3 passes
    told = Notification.objects.get(recipient=centre_lead, order=order, kind=Notification.Kind.ACCOUNTABILITY)
    assert network_dept.name in told.comment
    assert not Deduction.objects.exists()  # proposed, never applied silently

    page = login_client(centre_lead).get(f"/accountability/determinations/{determination.pk}/")
    assert page.status_code == 200 and "record-buck-passing" in page.content.decode()
    form = login_client(centre_lead).get(page.context["buck_passing"]).context["form"]
    assert form.initial["department"] == str(network_dept.pk) and form.initial["order_number"] == order.number
    assert "record-buck-passing" not in login_client(billing_handler).get(
        f"/accountability/determinations/{determination.pk}/").content.decode()

    # the departmental timeliness indicator: each department's own holdings, whoever answers for the complaint
    sums = holding_sums(period=Period(date(2026, 10, 1), date(2026, 10, 31)))
    assert sums[network_dept.pk] == {"judged": 2, "in_time": 1} and sums[billing_dept.pk] == {"judged": 2,
                                                                                              "in_time": 2}
    from accountability.models import Indicator
    from accountability.scoring import month_compute

    indicator = Indicator.objects.create(year=2026, code="dept_timeliness", name="部门及时率",
                                         measure=Indicator.Measure.DEPARTMENT_TIMELINESS, higher_is_better=True,
                                         target=90, weight=10)
    scored = {m.department: m for m in month_compute(month=date(2026, 10, 1))}
    (_indicator, computed, _target, met, points), = [r for r in scored[network_dept].results if r[0] == indicator]
    assert (computed.value, computed.numerator, computed.denominator, met) == (50.0, 1, 2, False)
    assert str(points) == "5.56"  # the weight in proportion to how close it came: 10 × 50 / 90
    assert [r[1].value for r in scored[billing_dept].results if r[0] == indicator] == [100.0]
