"""Time limits with frozen time: policies, stages, pauses, extensions, and each step of the sweep on its own.

The reference policies are seeded by migration: claim within 15 clock minutes, an ordinary complaint answered
within 24 clock hours, a difficult one within 3 working days, VIP and group customers 10 minutes / 12 hours.
"""

from datetime import datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command

from complaints.models import QueueLevel, Tier
from workflow import services, sla
from workflow.calendar import SHANGHAI
from workflow.models import (
    LimitUnit,
    Notification,
    OrderStage,
    SlaAlert,
    Stage,
    StageLimit,
    TimeLimitPolicy,
    WorkflowPolicy,
)
from workflow.notifications import notifications_send_pending
from workflow.services import ActionNotPossible
from workflow.sweep import sweep

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def traveller():
    """Freeze the clock at a moment and move it by hand."""
    with time_machine.travel(MONDAY_10, tick=False) as machine:
        yield machine


def open_stage(order, kind):
    return OrderStage.objects.get(order=order, kind=kind, ended_at__isnull=True)


# --- policies and stages ---


def test_an_ordinary_complaint_gets_claim_and_handle_deadlines(traveller, hotline_agent, make_order):
    order = make_order(hotline_agent)
    claim, handle = open_stage(order, "claim"), open_stage(order, "handle")
    assert claim.due_at == MONDAY_10 + timedelta(minutes=15)
    assert claim.warn_at == MONDAY_10 + timedelta(minutes=12)
    assert handle.due_at == MONDAY_10 + timedelta(hours=24)
    assert handle.policy.name.startswith("默认时限")
    order.refresh_from_db()
    assert order.stage_due_at == claim.due_at  # the nearest deadline
    assert order.promised_at == handle.due_at


def test_the_most_specific_policy_wins_stage_by_stage(traveller, hotline_agent, make_order):
    vip = make_order(hotline_agent, customer_tier=Tier.GOLD, customer_phone="13900000001")
    assert open_stage(vip, "claim").due_at == MONDAY_10 + timedelta(minutes=10)
    assert open_stage(vip, "handle").due_at == MONDAY_10 + timedelta(hours=12)
    difficult_vip = make_order(hotline_agent, customer_tier=Tier.GOLD, severity="difficult",
                               customer_phone="13900000002")
    assert open_stage(difficult_vip, "handle").due_at == MONDAY_10 + timedelta(hours=12)  # tier outweighs severity


def test_a_difficult_complaint_has_three_working_days(traveller, hotline_agent, make_order, province_dispatcher,
                                                      network_dept):
    order = make_order(hotline_agent, severity="difficult")
    services.order_dispatch(actor=province_dispatcher, order=order, department=network_dept)
    handle = open_stage(order, "handle")
    assert handle.due_at == datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)
    assert handle.limit_unit == LimitUnit.WORKING_DAYS and not handle.calendar_unconfirmed


def test_an_order_keeps_the_policy_in_force_when_its_stage_started(traveller, hotline_agent, make_order):
    newer = TimeLimitPolicy.objects.create(name="新默认", effective_from=datetime(2026, 11, 24).date())
    StageLimit.objects.create(policy=newer, stage=Stage.HANDLE, amount=48, unit=LimitUnit.CLOCK_HOURS)
    before = make_order(hotline_agent)
    assert open_stage(before, "handle").due_at == MONDAY_10 + timedelta(hours=24)
    traveller.move_to(MONDAY_10 + timedelta(days=1))
    sla._policies.cache_clear()
    after = make_order(hotline_agent, customer_phone="13900000003")
    assert open_stage(after, "handle").policy == newer
    assert open_stage(before, "handle").due_at == MONDAY_10 + timedelta(hours=24)


def test_a_tie_is_refused_when_saving(db):
    TimeLimitPolicy.objects.create(name="甲", effective_from=datetime(2026, 1, 1).date(), severity="major")
    twin = TimeLimitPolicy(name="乙", effective_from=datetime(2026, 1, 1).date(), severity="major")
    with pytest.raises(ValidationError, match="tie"):
        twin.full_clean()


def test_claiming_ends_the_claim_stage_and_releasing_starts_a_new_one(traveller, hotline_agent, make_order,
                                                                      network_handler):
    order = make_order(hotline_agent)
    traveller.shift(timedelta(minutes=5))
    services.order_claim(actor=network_handler, order=order)
    assert OrderStage.objects.get(order=order, kind="claim").ended_at == MONDAY_10 + timedelta(minutes=5)
    order.refresh_from_db()
    assert order.stage_due_at == open_stage(order, "handle").due_at
    services.order_release(actor=network_handler, order=order)
    assert open_stage(order, "claim").started_at == MONDAY_10 + timedelta(minutes=5)


def test_the_reply_ends_handling_and_starts_review(traveller, hotline_agent, make_order, network_handler):
    order = services.order_claim(actor=network_handler, order=make_order(hotline_agent))
    traveller.shift(timedelta(hours=3))
    services.order_reply(actor=network_handler, order=order, answer="已处理", result_code="resolved")
    handle = OrderStage.objects.get(order=order, kind="handle")
    assert handle.ended_at == MONDAY_10 + timedelta(hours=3) and handle.met
    review = open_stage(order, "review")
    assert review.limit_unit == LimitUnit.WORKING_HOURS
    # Replied at 13:00, in the lunch break: the 4 working hours run from 13:30.
    assert review.due_at == datetime(2026, 11, 23, 17, 30, tzinfo=SHANGHAI)


def test_waiting_for_the_customer_pauses_the_clock(traveller, hotline_agent, make_order, network_handler):
    order = services.order_claim(actor=network_handler, order=make_order(hotline_agent))
    services.order_wait(actor=network_handler, order=order, until=MONDAY_10 + timedelta(days=1), comment="等资料")
    order.refresh_from_db()
    assert order.stage_due_at is None  # nothing running
    traveller.shift(timedelta(hours=30))  # past the original deadline, but paused
    assert sweep().overdue == 0
    services.order_resume(actor=network_handler, order=order)
    handle = open_stage(order, "handle")
    assert handle.due_at == MONDAY_10 + timedelta(hours=24 + 30)
    assert handle.original_due_at == MONDAY_10 + timedelta(hours=24)
    assert handle.pauses.get().ended_at == MONDAY_10 + timedelta(hours=30)


# --- extensions ---


def test_an_extension_is_asked_before_the_warning_point_and_approved(traveller, hotline_agent, make_order,
                                                                     network_handler, province_dispatcher):
    order = services.order_claim(actor=network_handler, order=make_order(hotline_agent))
    until = MONDAY_10 + timedelta(hours=48)
    with pytest.raises(ValidationError):
        services.order_extension_request(actor=network_handler, order=order, until=MONDAY_10, reason="x")
    services.order_extension_request(actor=network_handler, order=order, until=until, reason="需协调厂家")
    with pytest.raises(ActionNotPossible, match="already waiting"):
        services.order_extension_request(actor=network_handler, order=order, until=until, reason="再次")
    with pytest.raises(ValidationError):
        services.order_extension_decide(actor=province_dispatcher, order=order, approve=False, reason="")
    services.order_extension_decide(actor=province_dispatcher, order=order, approve=True)
    handle = open_stage(order, "handle")
    assert handle.due_at == until and handle.extended
    assert handle.original_due_at == MONDAY_10 + timedelta(hours=24)
    assert handle.warn_at == MONDAY_10 + timedelta(hours=48 * 0.8)
    order.refresh_from_db()
    assert order.promised_at == until
    assert Notification.objects.exclude(kind="queued").get(recipient=network_handler).kind == "extension_decided"


def test_no_extension_after_the_warning_point(traveller, hotline_agent, make_order, network_handler):
    order = services.order_claim(actor=network_handler, order=make_order(hotline_agent))
    traveller.shift(timedelta(hours=20))  # 80% of 24 h is 19.2 h
    with pytest.raises(ActionNotPossible, match="before the warning point"):
        services.order_extension_request(actor=network_handler, order=order, until=MONDAY_10 + timedelta(days=2),
                                         reason="来不及了")


# --- the sweep, step by step ---


def test_the_warning_is_detected_once_and_stamped_with_its_real_time(traveller, hotline_agent, make_order,
                                                                     network_lead):
    order = make_order(hotline_agent)
    traveller.shift(timedelta(minutes=13))
    report = sweep()
    assert report.warned == 1 and report.notified == 1
    claim = open_stage(order, "claim")
    assert claim.warned_at == MONDAY_10 + timedelta(minutes=12)
    event = order.events.get(action="deadline_near")
    assert event.created_at == MONDAY_10 + timedelta(minutes=12) and event.actor is None
    assert Notification.objects.get(kind="deadline_near").recipient == network_lead
    assert str(sweep()) == "warnings 0, breaches 0, further escalations 0, alerts notified 0"


def test_a_breach_is_stamped_escalated_and_climbs_the_levels(traveller, hotline_agent, make_order, network_lead,
                                                              centre_lead, emergency_member):
    order = make_order(hotline_agent)
    traveller.shift(timedelta(minutes=16))
    report = sweep()
    assert report.overdue == 1
    order.refresh_from_db()
    assert order.escalation_level == 1 and order.queue_level == QueueLevel.LEAD
    assert open_stage(order, "claim").overdue_at == MONDAY_10 + timedelta(minutes=15)
    assert order.events.get(action="overdue").created_at == MONDAY_10 + timedelta(minutes=15)
    assert Notification.objects.get(kind="overdue").recipient == network_lead
    traveller.shift(timedelta(hours=2))
    assert sweep().escalated == 1
    order.refresh_from_db()
    assert order.escalation_level == 2
    assert Notification.objects.filter(kind="escalated", recipient=centre_lead).exists()
    traveller.shift(timedelta(hours=4))
    sweep()
    order.refresh_from_db()
    assert order.escalation_level == 3
    assert Notification.objects.filter(kind="escalated", recipient=emergency_member).exists()
    traveller.shift(timedelta(days=2))
    assert sweep().escalated == 0  # the top is the top


def test_after_downtime_the_sweep_catches_up_with_the_true_times(traveller, hotline_agent, make_order,
                                                                 emergency_member):
    order = make_order(hotline_agent)
    traveller.shift(timedelta(hours=10))
    report = sweep()
    claim = OrderStage.objects.get(order=order, kind="claim")
    assert claim.warned_at == MONDAY_10 + timedelta(minutes=12)
    assert claim.overdue_at == MONDAY_10 + timedelta(minutes=15)
    order.refresh_from_db()
    assert order.escalation_level == 3
    stamps = list(order.events.filter(action="escalated").values_list("created_at", flat=True))
    assert stamps == [MONDAY_10 + timedelta(minutes=15), MONDAY_10 + timedelta(minutes=135),
                      MONDAY_10 + timedelta(minutes=375)]
    assert report.notified == SlaAlert.objects.count()


def test_the_time_between_levels_is_configurable(traveller, hotline_agent, make_order):
    WorkflowPolicy.objects.update(escalate_level2_after_minutes=30)
    order = make_order(hotline_agent)
    traveller.shift(timedelta(minutes=46))
    sweep()
    order.refresh_from_db()
    assert order.escalation_level == 2


def test_an_ended_stage_is_never_swept(traveller, hotline_agent, make_order, network_handler):
    order = make_order(hotline_agent)
    services.order_claim(actor=network_handler, order=order)
    traveller.shift(timedelta(hours=1))
    assert sweep().overdue == 0


def test_the_sweep_command_runs_as_of_a_given_time(traveller, hotline_agent, make_order):
    order = make_order(hotline_agent)
    out = StringIO()
    call_command("sla_sweep", "--at", "2026-11-23T10:20", stdout=out)
    assert "breaches 1" in out.getvalue()
    order.refresh_from_db()
    assert order.escalation_level == 1


# --- notifications at night ---


def test_ordinary_orders_mail_in_the_morning_urgent_ones_at_once(hotline_agent, make_order, network_lead):
    network_lead.email = "lead@example.cn"
    network_lead.save()
    with time_machine.travel(datetime(2026, 11, 23, 22, 0, tzinfo=SHANGHAI), tick=False) as machine:
        ordinary = make_order(hotline_agent)
        major = make_order(hotline_agent, severity="major", customer_phone="13900000009")
        machine.shift(timedelta(minutes=20))
        sweep()
        assert set(Notification.objects.values_list("order_id", flat=True)) == {ordinary.pk, major.pk}
        notifications_send_pending()
        assert [m.subject for m in mail.outbox] and all(major.number in m.subject for m in mail.outbox)
        machine.move_to(datetime(2026, 11, 24, 8, 31, tzinfo=SHANGHAI))
        notifications_send_pending()
        assert any(ordinary.number in m.subject for m in mail.outbox)


# --- unconfirmed calendar years ---


def test_a_deadline_in_a_year_without_its_notice_is_marked_and_admins_are_told(hotline_agent, make_order,
                                                                              province_dispatcher, network_dept):
    from django.contrib.auth import get_user_model

    from workflow.calendars import calendars_tell_admins_of_unconfirmed_years

    get_user_model().objects.create_superuser("root", "root@example.cn", "pw-for-tests-only")
    with time_machine.travel(datetime(2026, 12, 30, 10, 0, tzinfo=SHANGHAI), tick=False):
        order = make_order(hotline_agent, severity="difficult")
        services.order_dispatch(actor=province_dispatcher, order=order, department=network_dept)
        handle = open_stage(order, "handle")
        assert handle.calendar_unconfirmed
        assert handle.due_at == datetime(2027, 1, 5, 10, 0, tzinfo=SHANGHAI)
        assert calendars_tell_admins_of_unconfirmed_years() == ["default 2027"]
        assert calendars_tell_admins_of_unconfirmed_years() == []  # told once
    assert mail.outbox[0].to == ["root@example.cn"] and "2027" in mail.outbox[0].subject


# --- what people see ---


def test_lists_filter_and_sort_by_deadline(traveller, login_client, hotline_agent, make_order, network_handler):
    late = make_order(hotline_agent)
    traveller.shift(timedelta(minutes=13))
    fresh = make_order(hotline_agent, customer_phone="13900000005")
    client = login_client(network_handler)
    page = client.get("/work/queue/").content.decode()
    assert page.index(late.number) < page.index(fresh.number)  # nearest deadline first
    assert "deadline-warning" in page
    warning = client.get("/work/queue/?deadline=warning").content.decode()
    assert late.number in warning and fresh.number not in warning
    traveller.shift(timedelta(minutes=5))
    overdue = client.get("/work/queue/?deadline=overdue").content.decode()
    assert late.number in overdue and fresh.number not in overdue and "deadline-overdue" in overdue


def test_the_progress_page_shows_the_promised_reply_time(traveller, client, hotline_agent, make_order):
    order = make_order(hotline_agent)
    html = client.post("/track/", {"number": order.number, "phone": "13800138000"},
                       REMOTE_ADDR="10.9.8.7").content.decode()
    assert "2026-11-24 10:00" in html


def test_notifying_alerts_takes_the_same_queries_for_one_or_many(traveller, hotline_agent, make_order,
                                                                  network_handler, network_lead):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workflow.sweep import _detect_warnings, _notify_alerts

    def notify_queries(count, offset):
        for index in range(count):
            services.order_claim(actor=network_handler,
                                 order=make_order(hotline_agent, customer_phone=f"1390000{offset + index:04d}"))
        traveller.shift(timedelta(hours=20))
        _detect_warnings(timezone_now(), 500)
        with CaptureQueriesContext(connection) as captured:
            # Two alerts an order: its handling stage and the customer's promise (same limit, same start).
            assert _notify_alerts(timezone_now(), 500) == 2 * count
        return len(captured)

    assert notify_queries(1, 0) == notify_queries(5, 100)
    assert Notification.objects.filter(kind="deadline_near", recipient=network_handler).count() == 6


def timezone_now():
    from django.utils import timezone

    return timezone.now()


def test_a_dispatcher_decides_an_extension_from_the_extensions_list(traveller, login_client, hotline_agent,
                                                                    make_order, network_handler,
                                                                    province_dispatcher):
    order = services.order_claim(actor=network_handler, order=make_order(hotline_agent))
    client = login_client(network_handler)
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert 'id="action-extend"' in page and 'id="stages"' in page
    response = client.post(f"/orders/{order.number}/actions/extend/",
                           {"extend-until": "2026-11-25T18:00", "extend-reason": "需要厂家协助"})
    assert response.status_code == 302
    client = login_client(province_dispatcher)
    assert order.number in client.get("/work/extensions/").content.decode()
    response = client.post(f"/orders/{order.number}/actions/decide_extension/",
                           {"decide_extension-approve": "1", "decide_extension-reason": ""})
    assert response.status_code == 302
    assert open_stage(order, "handle").due_at == datetime(2026, 11, 25, 18, 0, tzinfo=SHANGHAI)
    assert order.number not in client.get("/work/extensions/").content.decode()
    assert list(order.events.filter(action__startswith="extension").values_list("action", flat=True)) == [
        "extension_requested", "extension_approved"]
