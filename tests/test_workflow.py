"""The work-order lifecycle through the workflow services: every path of the flow, and who may take each step."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from viewflow.workflow.status import PROCESS

from complaints.models import OrderStatus, QueueLevel, Tier
from workflow import services
from workflow.models import Notification, OrderEvent, OrderTask, WorkflowPolicy
from workflow.notes import order_note_add
from workflow.services import ActionNotPossible


@pytest.fixture
def complaint(hotline_agent, make_order):
    """An ordinary complaint in 信号覆盖, whose category names the network department: dispatched automatically."""
    return make_order(hotline_agent)


def actions(order):
    return list(order.events.order_by("created_at", "id").values_list("action", flat=True))


def claimed(order, handler):
    return services.order_claim(actor=handler, order=order)


def replied(order, handler, **kwargs):
    values = {"answer": "已为您优化基站参数，信号已恢复。", "result_code": "resolved"}
    values.update(kwargs)
    return services.order_reply(actor=handler, order=order, **values)


# --- dispatch ---


def test_an_ordinary_complaint_goes_straight_to_the_categorys_department(complaint, network_dept):
    assert complaint.status == OrderStatus.QUEUED
    assert complaint.current_department == network_dept
    assert complaint.queue_level == QueueLevel.HANDLER
    assert actions(complaint) == ["received", "auto_dispatched"]
    task = OrderTask.objects.get(process__order=complaint, status="NEW")
    assert task.flow_task.name == "handle" and task.department == network_dept


def test_a_difficult_complaint_waits_for_a_dispatcher(hotline_agent, make_order, province_dispatcher, billing_dept):
    order = make_order(hotline_agent, severity="difficult")
    assert order.status == OrderStatus.NEW and order.current_department is None
    order = services.order_dispatch(actor=province_dispatcher, order=order, department=billing_dept)
    assert order.status == OrderStatus.QUEUED and order.current_department == billing_dept
    assert actions(order)[-1] == "dispatched"


def test_a_category_without_department_waits_for_a_dispatcher(hotline_agent, make_order, category_tree):
    category_tree["NET-MOB-COV"].responsible_department = None
    category_tree["NET-MOB-COV"].save()
    assert make_order(hotline_agent).status == OrderStatus.NEW


@pytest.mark.parametrize("overrides", [{"severity": "major"}, {"customer_tier": Tier.GOLD},
                                       {"customer_tier": Tier.GROUP}])
def test_vip_group_and_major_orders_go_to_the_leads_queue(hotline_agent, make_order, overrides, network_handler,
                                                          network_lead):
    order = make_order(hotline_agent, **overrides)
    assert order.status == OrderStatus.QUEUED and order.queue_level == QueueLevel.LEAD
    with pytest.raises(PermissionDenied, match="lead's queue"):
        services.order_claim(actor=network_handler, order=order)
    order = services.order_assign(actor=network_lead, order=order, assignee=network_handler)
    assert order.current_owner == network_handler and order.status == OrderStatus.IN_PROGRESS
    assert Notification.objects.filter(recipient=network_handler, kind="assigned").exists()


def test_only_dispatchers_dispatch_and_only_to_back_office(hotline_agent, make_order, province_dispatcher,
                                                            network_handler, billing_dept):
    order = make_order(hotline_agent, severity="difficult")
    with pytest.raises(PermissionDenied):
        services.order_dispatch(actor=hotline_agent, order=order, department=billing_dept)
    with pytest.raises(ValidationError) as error:
        services.order_dispatch(actor=province_dispatcher, order=order, department=hotline_agent.department)
    assert "department" in error.value.message_dict
    order.refresh_from_db()
    assert order.status == OrderStatus.NEW and actions(order) == ["received"]


# --- claim, release, assign ---


def test_claim_release_and_claim_again(complaint, network_handler, network_handler_2):
    order = claimed(complaint, network_handler)
    assert order.status == OrderStatus.IN_PROGRESS and order.current_owner == network_handler
    with pytest.raises(ActionNotPossible, match="already claimed by 网络处理员"):
        claimed(complaint, network_handler_2)
    with pytest.raises(PermissionDenied):
        services.order_release(actor=network_handler_2, order=complaint)
    order = services.order_release(actor=network_handler, order=complaint)
    assert order.status == OrderStatus.QUEUED and order.current_owner is None
    assert claimed(complaint, network_handler_2).current_owner == network_handler_2
    assert actions(complaint)[-3:] == ["claimed", "released", "claimed"]


def test_another_departments_handler_cannot_claim(complaint, billing_handler, network_lead):
    with pytest.raises(PermissionDenied, match="网络运维部"):
        claimed(complaint, billing_handler)
    # A lead of the department may claim from the ordinary queue too.
    assert claimed(complaint, network_lead).current_owner == network_lead


def test_a_lead_reassigns_a_claimed_order(complaint, network_handler, network_handler_2, network_lead,
                                          billing_handler):
    claimed(complaint, network_handler)
    with pytest.raises(PermissionDenied):
        services.order_assign(actor=network_handler, order=complaint, assignee=network_handler_2)
    with pytest.raises(ValidationError, match="not an active handler"):
        services.order_assign(actor=network_lead, order=complaint, assignee=billing_handler)
    order = services.order_assign(actor=network_lead, order=complaint, assignee=network_handler_2)
    assert order.current_owner == network_handler_2
    task = OrderTask.objects.get(process__order=complaint, status="ASSIGNED")
    assert task.owner == network_handler_2


# --- handle: transfer, return, wait ---


def test_transfer_moves_the_order_to_another_departments_queue(complaint, network_handler, billing_dept,
                                                               billing_handler):
    claimed(complaint, network_handler)
    with pytest.raises(ValidationError, match="reason"):
        services.order_transfer(actor=network_handler, order=complaint, department=billing_dept, reason=" ")
    order = services.order_transfer(actor=network_handler, order=complaint, department=billing_dept,
                                    reason="实为话费问题")
    assert order.status == OrderStatus.QUEUED and order.current_department == billing_dept
    assert order.current_owner is None and order.transfer_count == 1
    event = order.events.get(action="transferred")
    assert event.comment == "实为话费问题" and event.data["department"] == billing_dept.name
    assert claimed(order, billing_handler).current_owner == billing_handler
    # The history keeps one handle task per department stint.
    departments = list(OrderTask.objects.filter(process__order=order, flow_task_type="HUMAN")
                       .values_list("department__code", flat=True))
    assert departments == ["network", "billing"]


def test_return_sends_the_order_back_to_the_dispatcher_who_is_told(hotline_agent, make_order, province_dispatcher,
                                                                   network_dept, network_handler):
    order = make_order(hotline_agent, severity="difficult")
    services.order_dispatch(actor=province_dispatcher, order=order, department=network_dept)
    claimed(order, network_handler)
    with pytest.raises(ValidationError) as error:
        services.order_return(actor=network_handler, order=order, reason_kind="bored", reason="")
    assert set(error.value.message_dict) == {"reason_kind"}
    order = services.order_return(actor=network_handler, order=order, reason_kind="wrong_department",
                                  reason="不是网络问题")
    assert order.status == OrderStatus.NEW and order.current_department is None and order.return_count == 1
    note = Notification.objects.get(recipient=province_dispatcher)
    assert note.kind == "returned" and note.comment == "不是网络问题"


def test_wait_for_the_customer_and_resume(complaint, network_handler, network_lead):
    claimed(complaint, network_handler)
    until = timezone.now() + timedelta(days=2)
    with pytest.raises(ValidationError):
        services.order_wait(actor=network_handler, order=complaint, until=timezone.now() - timedelta(hours=1),
                            comment="请客户提供位置")
    with pytest.raises(ValidationError, match="At most 7 days"):
        services.order_wait(actor=network_handler, order=complaint, until=timezone.now() + timedelta(days=30),
                            comment="请客户提供位置")
    order = services.order_wait(actor=network_handler, order=complaint, until=until, comment="请客户提供位置")
    assert order.status == OrderStatus.WAITING and order.waiting_until == until
    with pytest.raises(ActionNotPossible):
        services.order_wait(actor=network_handler, order=complaint, until=until, comment="again")
    order = services.order_resume(actor=network_lead, order=complaint, comment="客户已回电")
    assert order.status == OrderStatus.IN_PROGRESS and order.waiting_until is None


def test_a_parked_order_resumes_by_itself_when_the_time_passes(complaint, network_handler):
    claimed(complaint, network_handler)
    services.order_wait(actor=network_handler, order=complaint, until=timezone.now() + timedelta(hours=1),
                        comment="等待客户")
    assert services.orders_resume_due(now=timezone.now()) == 0
    later = timezone.now() + timedelta(hours=2)
    assert services.orders_resume_due(now=later) == 1
    assert services.orders_resume_due(now=later) == 0  # nothing twice
    complaint.refresh_from_db()
    assert complaint.status == OrderStatus.IN_PROGRESS
    event = complaint.events.get(action="resumed")
    assert event.actor is None and event.actor_name == "system"


# --- reply, review, callback, close ---


def test_the_whole_way_to_a_satisfied_close(complaint, network_handler, province_dispatcher, hotline_agent):
    claimed(complaint, network_handler)
    with pytest.raises(PermissionDenied):
        replied(complaint, hotline_agent)  # a frontline agent trying to reply
    order = replied(complaint, network_handler, compensation=Decimal("20.00"))
    assert order.status == OrderStatus.REVIEW
    assert order.replied_by == network_handler and order.replied_department == network_handler.department
    with pytest.raises(PermissionDenied):
        services.order_review(actor=network_handler, order=order, accept=True)  # a handler trying to review
    order = services.order_review(actor=province_dispatcher, order=order, accept=True)
    assert order.status == OrderStatus.CALLBACK
    assert order.current_department == hotline_agent.department
    order = services.order_callback(actor=hotline_agent, order=order, reached=True, satisfaction=5, solved=True,
                                    comment="客户满意")
    assert order.status == OrderStatus.CLOSED and order.closed_at is not None
    assert order.satisfaction == 5 and order.problem_solved is True and order.callback_attempts == 1
    assert actions(order) == ["received", "auto_dispatched", "claimed", "replied", "review_accepted", "called_back",
                              "closed"]
    assert order.process.status == PROCESS.DONE
    assert services.order_actions_available(user=province_dispatcher, order=order) == []


def test_a_trusted_departments_ordinary_reply_skips_review(complaint, network_dept, network_handler):
    network_dept.trusted = True
    network_dept.save()
    claimed(complaint, network_handler)
    assert replied(complaint, network_handler).status == OrderStatus.CALLBACK


def test_a_trusted_departments_major_reply_is_still_reviewed(hotline_agent, make_order, network_dept, network_lead):
    network_dept.trusted = True
    network_dept.save()
    order = make_order(hotline_agent, severity="major")
    claimed(order, network_lead)
    assert replied(order, network_lead).status == OrderStatus.REVIEW


def test_a_reply_sent_back_returns_to_its_author(complaint, network_handler, province_dispatcher):
    claimed(complaint, network_handler)
    replied(complaint, network_handler)
    with pytest.raises(ValidationError, match="sent back"):
        services.order_review(actor=province_dispatcher, order=complaint, accept=False, reason="")
    order = services.order_review(actor=province_dispatcher, order=complaint, accept=False, reason="答复不完整")
    assert order.status == OrderStatus.IN_PROGRESS and order.current_owner == network_handler
    assert Notification.objects.get(recipient=network_handler).kind == "sent_back"


def test_a_low_rating_reopens_the_order_in_the_same_department(complaint, network_handler, province_dispatcher,
                                                                hotline_agent, network_lead):
    claimed(complaint, network_handler)
    replied(complaint, network_handler)
    services.order_review(actor=province_dispatcher, order=complaint, accept=True)
    order = services.order_callback(actor=hotline_agent, order=complaint, reached=True, satisfaction=2, solved=True)
    assert order.status == OrderStatus.IN_PROGRESS and order.reopen_count == 1 and order.is_reopened
    assert order.current_department == network_handler.department and order.current_owner == network_handler
    assert actions(order)[-2:] == ["called_back", "reopened"]
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {"handler_network"}


def test_problem_not_solved_reopens_even_with_a_fair_rating(complaint, network_handler, province_dispatcher,
                                                            hotline_agent):
    claimed(complaint, network_handler)
    replied(complaint, network_handler)
    services.order_review(actor=province_dispatcher, order=complaint, accept=True)
    order = services.order_callback(actor=hotline_agent, order=complaint, reached=True, satisfaction=4, solved=False)
    assert order.status == OrderStatus.IN_PROGRESS and order.reopen_count == 1


def test_reopen_by_hand_at_callback(complaint, network_handler, province_dispatcher, hotline_agent, outsider):
    claimed(complaint, network_handler)
    replied(complaint, network_handler)
    services.order_review(actor=province_dispatcher, order=complaint, accept=True)
    with pytest.raises(PermissionDenied):
        services.order_reopen(actor=outsider, order=complaint, reason="x")
    order = services.order_reopen(actor=hotline_agent, order=complaint, reason="客户称问题依旧")
    assert order.status == OrderStatus.IN_PROGRESS and order.reopen_count == 1


def test_an_unreachable_customer_is_tried_n_times_then_closed(complaint, network_handler, province_dispatcher,
                                                              hotline_agent):
    WorkflowPolicy.objects.update(callback_max_attempts=2)
    claimed(complaint, network_handler)
    replied(complaint, network_handler)
    services.order_review(actor=province_dispatcher, order=complaint, accept=True)
    order = services.order_callback(actor=hotline_agent, order=complaint, reached=False, comment="无人接听")
    assert order.status == OrderStatus.CALLBACK and order.callback_attempts == 1
    order = services.order_callback(actor=hotline_agent, order=complaint, reached=False, comment="关机")
    assert order.status == OrderStatus.CLOSED and order.satisfaction is None
    assert actions(order)[-3:] == ["callback_unreached", "callback_unreached", "closed"]


def test_callback_needs_a_rating_when_the_customer_is_reached(complaint, network_handler, province_dispatcher,
                                                              hotline_agent):
    claimed(complaint, network_handler)
    replied(complaint, network_handler)
    services.order_review(actor=province_dispatcher, order=complaint, accept=True)
    with pytest.raises(ValidationError) as error:
        services.order_callback(actor=hotline_agent, order=complaint, reached=True, satisfaction=7)
    assert set(error.value.message_dict) == {"satisfaction", "solved"}
    complaint.refresh_from_db()
    assert complaint.callback_attempts == 0


def test_an_agent_of_another_unit_cannot_call_back(complaint, network_handler, province_dispatcher, outsider):
    claimed(complaint, network_handler)
    replied(complaint, network_handler)
    services.order_review(actor=province_dispatcher, order=complaint, accept=True)
    with pytest.raises(PermissionDenied):
        services.order_callback(actor=outsider, order=complaint, reached=True, satisfaction=5, solved=True)


def test_a_channel_systems_orders_are_called_back_by_its_callback_unit(channel_system, make_order, network_handler,
                                                                       province_dispatcher, hotline_agent):
    channel_system.department.callback_department = hotline_agent.department
    channel_system.department.save()
    order = make_order(channel_system)
    claimed(order, network_handler)
    replied(order, network_handler)
    order = services.order_review(actor=province_dispatcher, order=order, accept=True)
    assert order.current_department == hotline_agent.department
    assert "callback" in services.order_actions_available(user=hotline_agent, order=order)


# --- shorter paths ---


def test_an_inquiry_is_answered_by_the_complaint_centre_and_closed(hotline_agent, make_order, province_dispatcher,
                                                                   network_handler):
    order = make_order(hotline_agent, kind="inquiry")
    assert order.status == OrderStatus.ANSWERING
    with pytest.raises(PermissionDenied):
        replied(order, network_handler)
    order = replied(order, province_dispatcher, result_code="explained")
    assert order.status == OrderStatus.CLOSED
    assert actions(order)[-2:] == ["replied", "closed"]


def test_a_suggestion_goes_to_the_department_and_closes_on_reply(hotline_agent, make_order, network_handler):
    order = make_order(hotline_agent, kind="suggestion")
    assert order.status == OrderStatus.QUEUED
    claimed(order, network_handler)
    assert replied(order, network_handler, result_code="explained").status == OrderStatus.CLOSED


# --- cancel, escalate, notes ---


def test_cancel_needs_a_dispatcher_and_a_reason(complaint, network_handler, province_dispatcher):
    claimed(complaint, network_handler)
    with pytest.raises(PermissionDenied):
        services.order_cancel(actor=network_handler, order=complaint, reason_kind="duplicate", reason="重复")
    with pytest.raises(ValidationError):
        services.order_cancel(actor=province_dispatcher, order=complaint, reason_kind="duplicate", reason="")
    order = services.order_cancel(actor=province_dispatcher, order=complaint, reason_kind="withdrawn",
                                  reason="客户撤诉")
    assert order.status == OrderStatus.CANCELLED and order.cancelled_at and order.current_owner is None
    assert order.process.status == PROCESS.CANCELED
    assert not OrderTask.objects.filter(process__order=order, status__in=["NEW", "ASSIGNED"]).exists()
    with pytest.raises(ActionNotPossible, match="Cancelled"):
        services.order_reply(actor=network_handler, order=order, answer="x", result_code="resolved")


def test_manual_escalation_climbs_three_levels(complaint, hotline_agent, network_lead, centre_lead,
                                               emergency_member, network_handler):
    with pytest.raises(PermissionDenied):
        services.order_escalate(actor=network_handler, order=complaint, reason_kind="other", reason="x")
    order = services.order_escalate(actor=hotline_agent, order=complaint, reason_kind="regulator",
                                    reason="客户表示要向工信部申诉")
    assert order.escalation_level == 1 and order.escalated_at is not None
    assert order.queue_level == QueueLevel.LEAD  # unclaimed: moves to the lead's queue
    assert Notification.objects.get(kind="escalated").recipient == network_lead
    services.order_escalate(actor=network_lead, order=order, reason_kind="lead", reason="处理困难")
    assert Notification.objects.filter(kind="escalated", recipient=centre_lead).exists()
    services.order_escalate(actor=centre_lead, order=order, reason_kind="media", reason="媒体关注")
    assert Notification.objects.filter(kind="escalated", recipient=emergency_member).exists()
    with pytest.raises(ActionNotPossible, match="highest escalation level"):
        services.order_escalate(actor=centre_lead, order=order, reason_kind="other", reason="再升")


def test_the_sweep_can_escalate_without_an_actor(complaint, network_lead):
    order = services.order_escalate(actor=None, order=complaint, reason_kind="overdue")
    assert order.escalation_level == 1
    assert order.events.get(action="escalated").actor_name == "system"


def test_a_closed_order_takes_notes_only_from_the_quality_team(hotline_agent, make_order, quality_manager):
    from workflow.intake import OnSpotAnswer

    order = make_order(hotline_agent, on_spot=OnSpotAnswer("已解释"))
    with pytest.raises(PermissionDenied):
        order_note_add(actor=hotline_agent, order=order, body="补充")
    assert order_note_add(actor=quality_manager, order=order, body="典型案例").body == "典型案例"


def test_an_outsider_from_another_city_cannot_act(complaint, outsider):
    with pytest.raises(PermissionDenied, match="may not act"):
        services.order_escalate(actor=outsider, order=complaint, reason_kind="other", reason="x")


# --- the audit trail ---


def test_the_audit_trail_cannot_be_changed_in_the_database(complaint):
    event = complaint.events.first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE workflow_orderevent SET comment = 'forged' WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        OrderEvent.objects.filter(pk=event.pk).delete()
    assert OrderEvent.objects.get(pk=event.pk).comment == ""
